// kubun check-config: passes on this host; each must-have fails with its fix when the host lacks it (the host is
// injected); the agent refuses to start with the same one-line hint before it touches anything.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { checkHost, failures, formatResults, HostCheckError, realHost, type HostProbe } from "../../internal/agent/checks.ts";
import { runAgent } from "../../internal/agent/index.ts";
import { run } from "../../internal/runtime/run.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { inNs } from "./helpers.ts";
import { REPO } from "./release.ts";

setDefaultTimeout(60_000);
const work = tempDir("kc-");
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** This host, except for the files given (undefined = absent). */
function hostWith(files: Record<string, string | undefined>, more: Partial<HostProbe> = {}): HostProbe {
  return {
    ...realHost,
    readFile: (p) => (p in files ? files[p] : realHost.readFile(p)),
    exists: (p) => (p in files ? files[p] !== undefined : realHost.exists(p)),
    ...more,
  };
}

// Raspberry Pi OS: cgroup v2, the memory controller disabled by the kernel command line.
const raspberryPi = hostWith({
  "/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io pids\n",
  "/proc/cgroups": "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t0\t1\t1\ncpu\t0\t1\t1\nio\t0\t1\t1\nmemory\t0\t1\t0\npids\t0\t1\t1\n",
  "/proc/cmdline": "console=serial0,115200 console=tty1 root=PARTUUID=abc rootfstype=ext4 fsck.repair=yes rootwait cgroup_disable=memory\n",
});
const memoryHint = "kubun: cgroup controller memory (disabled): the memory cgroup is off (the Raspberry Pi OS default): add `cgroup_memory=1 cgroup_enable=memory` to the end of the single line in /boot/firmware/cmdline.txt (/boot/cmdline.txt before Raspberry Pi OS 12), then reboot";

describe("check-config", () => {
  test("every must-have passes on this host", async () => {
    const results = await checkHost({ dataDir: work });
    expect(failures(results)).toEqual([]);
    const names = results.map((r) => r.name);
    for (const n of ["cgroup controller memory", "bridge", "veth", "overlayfs", "nftables (nat, masquerade, conntrack)", "br_netfilter", "net.ipv4.ip_forward", "containerd", "runc", "CNI plugins", "disk space", "time sync"])
      expect(names).toContain(n);
  });

  test("kubun check-config prints the list and exits 0 here (ports checked in a fresh network namespace)", async () => {
    const ns = `kc${Math.random().toString(36).slice(2, 7)}`;
    await run(["ip", "netns", "add", ns]);
    await Bun.write(join(work, "none.yaml"), "");
    try {
      const r = await inNs(ns, ["bun", join(REPO, "cmd/kubun.ts"), "check-config", "--data-dir", work, "--config", join(work, "none.yaml")], {}, 60_000);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^pass {2}cgroup controller memory: enabled$/m);
      expect(r.stdout).toMatch(/^pass {2}port 6443: free$/m);
      expect(r.stdout).toMatch(/^pass {2}port 10250: free$/m);
      expect(r.stdout).toContain("all must-have checks passed");
    } finally {
      await run(["ip", "netns", "del", ns], { allowFail: true });
    }
  });

  test("kubun check-config exits 1 and says what to do when a must-have fails (a port in use)", async () => {
    const ns = `kc${Math.random().toString(36).slice(2, 7)}`;
    await run(["ip", "netns", "add", ns]);
    await run(["ip", "-n", ns, "link", "set", "lo", "up"]);
    await Bun.write(join(work, "none.yaml"), "");
    const holder = Bun.spawn(["nsenter", `--net=/var/run/netns/${ns}`, "--", "python3", "-c", "import socket,time\ns=socket.socket()\ns.bind(('0.0.0.0',7443))\ns.listen()\nprint('up',flush=True)\ntime.sleep(120)"], { stdout: "pipe" });
    try {
      await holder.stdout.getReader().read(); // "up": the port is held
      const r = await inNs(ns, ["bun", join(REPO, "cmd/kubun.ts"), "check-config", "--data-dir", work, "--config", join(work, "none.yaml"), "--https-listen-port", "7443"], {}, 60_000);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("FAIL  port 7443: in use\n      -> stop what listens on 7443 (ss -ltnp 'sport = :7443') or choose another port");
      expect(r.stdout).toContain("1 must-have check(s) failed");
    } finally {
      holder.kill(9);
      await holder.exited;
      await run(["ip", "netns", "del", ns], { allowFail: true });
    }
  });

  test("the memory cgroup off (Raspberry Pi OS) fails with the exact cmdline.txt fix", async () => {
    const results = await checkHost({ dataDir: work }, raspberryPi);
    expect(failures(results)).toEqual([memoryHint]);
    const text = formatResults(results);
    expect(text).toContain("FAIL  cgroup controller memory: disabled");
    expect(text).toContain("1 must-have check(s) failed");
  });

  test("missing CNI plugins, a missing runc, a busy port fail with what to do", async () => {
    const host = hostWith({ "/usr/lib/cni/bridge": undefined, "/usr/lib/cni/portmap": undefined }, { which: (c) => (c === "runc" ? undefined : realHost.which(c)), portFree: async (p) => p !== 6443 });
    const failed = failures(await checkHost({ dataDir: work, ports: [6443, 10250] }, host));
    expect(failed).toEqual([
      "kubun: runc (not found on PATH): apt-get install containerd runc nftables iproute2 containernetworking-plugins (or run install.sh)",
      "kubun: CNI plugins (missing in /usr/lib/cni: bridge, portmap): apt-get install containernetworking-plugins",
      "kubun: port 6443 (in use): stop what listens on 6443 (ss -ltnp 'sport = :6443') or choose another port",
    ]);
  });

  test("a kernel without veth fails (kernel config read, module absent)", async () => {
    const host: HostProbe = { ...realHost, kernelConfig: () => "CONFIG_BRIDGE=y\nCONFIG_OVERLAY_FS=m\n# CONFIG_VETH is not set\n", exists: (p) => (p === "/sys/module/veth" ? false : realHost.exists(p)) };
    const veth = (await checkHost({ dataDir: work }, host)).find((r) => r.name === "veth")!;
    expect(veth.status).toBe("fail");
    expect(veth.detail).toBe("missing: CONFIG_VETH");
  });

  test("the agent refuses to start with the same one-line hint, before it creates anything", async () => {
    const dataDir = join(work, "agent-data");
    const err = await runAgent({ server: "https://127.0.0.1:1", token: "K10x::server:y", dataDir, signal: new AbortController().signal, hostProbe: raspberryPi }).then(
      () => undefined,
      (e) => e,
    );
    expect(err).toBeInstanceOf(HostCheckError);
    expect(err.message).toBe(memoryHint);
    expect(existsSync(join(dataDir, "agent"))).toBe(false);
  });
});
