// install.sh from a release folder, as on a bare Pi: a PATH without Bun, no checkout. A server (node Ready, a pod
// runs) in one test-made network namespace and an agent installed from KUBUN_URL + KUBUN_TOKEN_FILE in another;
// kubun-killall.sh leaves no process, shim, mount, pod namespace, bridge or nftables table and keeps the data
// (install.sh again = upgrade in place, the cluster's objects are still there); kubun-uninstall.sh leaves nothing.
// Everything install.sh writes goes under .tmp/ (INSTALL_KUBUN_ROOT, INSTALL_KUBUN_BIN_DIR).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeBusyboxImage } from "../../internal/runtime/busybox-image.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { inNs, mountsUnder, netnsPair, nftTables, podNetns, processesUnder, waitFor, type NetnsPair } from "./helpers.ts";
import { ensureRelease, pathWithoutBun } from "./release.ts";

setDefaultTimeout(240_000);

let release = "";
let work = "";
let ns: NetnsPair;
const secret = `cluster-secret-${Math.random().toString(36).slice(2)}`;
const srv = { root: "", bin: "", data: "", kubeconfig: "" };
const agt = { root: "", bin: "", data: "" };
let PATH = "";

function installEnv(root: string, bin: string, extra: Record<string, string>): Record<string, string> {
  return { PATH, HOME: work, INSTALL_KUBUN_ROOT: root, INSTALL_KUBUN_BIN_DIR: bin, ...extra };
}

async function installServer() {
  return inNs(ns.a, ["sh", join(release, "install.sh")], installEnv(srv.root, srv.bin, { KUBUN_TOKEN: secret, INSTALL_KUBUN_EXEC: `server --node-ip ${ns.ipA} --node-name inst-srv` }));
}

const kubectl = (args: string[], stdin?: string) =>
  stdin === undefined
    ? inNs(ns.a, ["kubectl", "--kubeconfig", srv.kubeconfig, ...args])
    : inNs(ns.a, ["sh", "-c", `printf '%s' "$0" | kubectl --kubeconfig ${srv.kubeconfig} ${args.join(" ")}`, stdin]);

async function nodeReady(name: string): Promise<boolean> {
  const r = await kubectl(["get", "node", name, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]);
  return r.stdout.trim() === "True";
}

const pidOf = (data: string) => Number(readFileSync(join(data, "kubun.pid"), "utf8").trim());

beforeAll(async () => {
  release = await ensureRelease();
  work = tempDir("ki-");
  PATH = pathWithoutBun(work);
  ns = await netnsPair("ki");
  Object.assign(srv, { root: join(work, "s"), bin: join(work, "s", "bin"), data: join(work, "s/var/lib/kubun"), kubeconfig: join(work, "s/etc/kubun/kubeconfig.yaml") });
  Object.assign(agt, { root: join(work, "a"), bin: join(work, "a", "bin"), data: join(work, "a/var/lib/kubun") });
  // Air-gapped nodes: the image comes from <data-dir>/agent/images.
  for (const d of [srv.data, agt.data]) {
    mkdirSync(join(d, "agent/images"), { recursive: true });
    writeBusyboxImage(join(d, "agent/images/busybox.tar"));
  }
});

afterAll(async () => {
  if (!work) return; // beforeAll failed before anything was started
  for (const r of [srv, agt])
    if (existsSync(join(r.bin, "kubun-uninstall.sh"))) await inNs(r === srv ? ns.a : ns.b, [join(r.bin, "kubun-uninstall.sh")]).catch(() => {});
  for (const p of processesUnder(work)) {
    try {
      process.kill(p.pid, 9);
    } catch {}
  }
  await ns?.cleanup();
  if (work && !mountsUnder(work).length) rmSync(work, { recursive: true, force: true });
});

describe("install.sh from a release folder", () => {
  test("the PATH has no bun", async () => {
    const r = await inNs(ns.a, ["sh", "-c", "command -v bun || echo none"], { PATH });
    expect(r.stdout.trim()).toBe("none");
  });

  test("installs a server: node Ready, token only in the 0600 environment file, a pod runs", async () => {
    const r = await installServer();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("verified kubun-linux-amd64");
    expect(r.stdout).toMatch(/inst-srv\s+Ready/);
    for (const f of ["kubun", "kubun-killall.sh", "kubun-uninstall.sh"]) expect(existsSync(join(srv.bin, f))).toBe(true);
    const envFile = join(srv.root, "etc/kubun/kubun.env");
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, "utf8")).toContain(`KUBUN_TOKEN=${secret}`);
    expect(readlinkSync(`/proc/${pidOf(srv.data)}/exe`)).toBe(join(srv.bin, "kubun"));
    const cmdline = readFileSync(`/proc/${pidOf(srv.data)}/cmdline`, "utf8");
    expect(cmdline).toContain("server");
    expect(cmdline).not.toContain(secret);

    const pod = JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "sleeper", namespace: "default" },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: "c", image: "busybox:latest", imagePullPolicy: "Never", command: ["sleep", "3600"] }] },
    });
    expect((await kubectl(["apply", "-f", "-"], pod)).code).toBe(0);
    await waitFor("the pod to run", async () => (await kubectl(["get", "pod", "sleeper", "-o", "jsonpath={.status.phase}"])).stdout === "Running");
  });

  test("installs an agent from KUBUN_URL + KUBUN_TOKEN_FILE; it joins the server", async () => {
    const token = (await inNs(ns.a, [join(srv.bin, "kubun"), "token", "show", "--data-dir", srv.data])).stdout.trim();
    expect(token).toMatch(/^K10/);
    const tokenFile = join(work, "agent-token");
    writeFileSync(tokenFile, token + "\n", { mode: 0o600 });
    const r = await inNs(ns.b, ["sh", join(release, "install.sh")], installEnv(agt.root, agt.bin, { KUBUN_URL: `https://${ns.ipA}:6443`, KUBUN_TOKEN_FILE: tokenFile, INSTALL_KUBUN_EXEC: `--node-ip ${ns.ipB} --node-name inst-agent` }));
    expect(r.code).toBe(0);
    const envFile = join(agt.root, "etc/kubun/kubun-agent.env");
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, "utf8")).toContain(`KUBUN_URL=https://${ns.ipA}:6443`);
    // The pid file names the kubun process itself (once `setsid nohup` has exec'd it: install.sh returns without
    // waiting for an agent); the token file's content is not on its command line. Mid-exec the kernel already shows the
    // new exe while the new command line is not set up yet (an empty cmdline): both are waited for.
    const argvOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    await waitFor("the agent's pid to be kubun agent", async () => readlinkSync(`/proc/${pidOf(agt.data)}/exe`) === join(agt.bin, "kubun") && argvOf(pidOf(agt.data)).includes("agent"));
    const argv = argvOf(pidOf(agt.data));
    expect(argv).toContain("agent");
    expect(argv.join(" ")).not.toContain(token);
    await waitFor("the agent's node to be Ready", () => nodeReady("inst-agent"));
  });

  test("install.sh again while kubun runs: upgraded in place, the pod's container lives on", async () => {
    const shims = processesUnder(srv.root).filter((p) => p.cmdline.includes("containerd-shim")).map((p) => p.pid);
    expect(shims.length).toBeGreaterThan(0);
    const before = pidOf(srv.data);
    const r = await installServer();
    expect(r.code).toBe(0);
    expect(pidOf(srv.data)).not.toBe(before);
    expect(existsSync(`/proc/${before}`)).toBe(false);
    // Stopping kubun stops neither the shims nor the containers (k3s's KillMode=process).
    for (const pid of shims) expect(existsSync(`/proc/${pid}`)).toBe(true);
    await waitFor("the pod to be adopted", async () => (await kubectl(["get", "pod", "sleeper", "-o", "jsonpath={.status.phase}/{.status.containerStatuses[0].restartCount}"])).stdout === "Running/0");
    await waitFor("both nodes Ready", async () => (await nodeReady("inst-srv")) && nodeReady("inst-agent"));
  });

  test("kubun-killall.sh stops everything it started, removes its network state and keeps the data", async () => {
    expect(processesUnder(srv.root).some((p) => p.cmdline.includes("containerd-shim"))).toBe(true);
    expect(podNetns(srv.data).length).toBeGreaterThan(0);
    expect(await nftTables(ns.a)).toContain("table ip kubun");
    expect((await kubectl(["create", "configmap", "survivor", "--from-literal=k=v"])).code).toBe(0);

    const r = await inNs(ns.a, [join(srv.bin, "kubun-killall.sh")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(processesUnder(srv.root)).toEqual([]);
    expect(podNetns(srv.data)).toEqual([]);
    expect(mountsUnder(srv.root)).toEqual([]);
    const tables = await nftTables(ns.a);
    expect(tables).not.toContain("table ip kubun\n");
    expect(tables).not.toContain("kubun-nat");
    expect((await inNs(ns.a, ["ip", "addr", "show", "dev", "lo"])).stdout).not.toContain("10.43.0.10");
    expect((await inNs(ns.a, ["ip", "link", "show", "kubun0"])).code).not.toBe(0);
    expect((await inNs(ns.a, ["ip", "route", "show", "proto", "75"])).stdout.trim()).toBe("");
    expect(existsSync(join(srv.data, "server/db/state.db"))).toBe(true);
  });

  test("after killall, install.sh again brings the cluster back with its objects (data kept)", async () => {
    const r = await installServer();
    expect(r.code).toBe(0);
    expect((await kubectl(["get", "configmap", "survivor", "-o", "jsonpath={.data.k}"])).stdout).toBe("v");
    // Its network namespace went with killall: the kubelet makes a new one and restarts the container in it.
    await waitFor("the pod's container to run again", async () => {
      const r = await kubectl(["get", "pod", "sleeper", "-o", "jsonpath={.status.containerStatuses[0].restartCount}/{.status.containerStatuses[0].ready}"]);
      return Number(r.stdout.split("/")[0]) >= 1 && r.stdout.endsWith("/true");
    });
    expect(podNetns(srv.data).length).toBe(1);
  });

  test("kubun-uninstall.sh leaves nothing behind", async () => {
    for (const [node, r] of [[ns.b, agt], [ns.a, srv]] as const) {
      const netnsBefore = podNetns(r.data);
      if (r === srv) expect(netnsBefore.length).toBeGreaterThan(0); // the pod runs again on the server
      const out = await inNs(node, [join(r.bin, "kubun-uninstall.sh")]);
      expect(out.code).toBe(0);
      expect(processesUnder(r.root)).toEqual([]);
      expect(mountsUnder(r.root)).toEqual([]);
      for (const n of netnsBefore) expect(existsSync(`/var/run/netns/${n}`)).toBe(false);
      expect((await inNs(node, ["ip", "link", "show", "kubun0"])).code).not.toBe(0);
      expect(await nftTables(node)).not.toContain("kubun");
      // Only the empty standard folders remain (bin, etc, var/lib, var/log): no file, no link.
      const left = (readdirSync(r.root, { recursive: true }) as string[]).filter((p) => !statSync(join(r.root, p)).isDirectory());
      expect(left).toEqual([]);
      expect(existsSync(r.data)).toBe(false);
      // Nor runc's state of its killed containers (runc keeps it under /run, outside the data dir).
      expect(runcStateOf(r.root)).toEqual([]);
    }
  });
});

/** runc's state entries (under /run/containerd/runc) of containers whose bundle lies under `root`. */
function runcStateOf(root: string): string[] {
  const base = "/run/containerd/runc";
  const out: string[] = [];
  for (const ns of existsSync(base) ? readdirSync(base) : [])
    for (const id of readdirSync(join(base, ns)))
      try {
        if (readFileSync(join(base, ns, id, "state.json"), "utf8").includes(`"bundle=${root}`)) out.push(`${ns}/${id}`);
      } catch {}
  return out;
}
