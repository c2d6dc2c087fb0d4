// The service files install.sh writes: systemd units that `systemd-analyze verify` accepts, with k3s's settings
// (Type=notify, KillMode=process, Delegate=yes, Restart=always, limits) and the secrets only in a 0600 environment
// file; an OpenRC script; and kubun really sending READY=1 on $NOTIFY_SOCKET once it serves (what Type=notify
// waits for). Files go under .tmp/ (INSTALL_KUBUN_ROOT with INSTALL_KUBUN_INIT, INSTALL_KUBUN_SKIP_START).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/tmpdir.ts";
import { JIT_OPTIONS } from "../../internal/ops/jitpolicy.ts";
import { run } from "../../internal/runtime/run.ts";
import { inNs } from "./helpers.ts";
import { ensureRelease, pathWithoutBun } from "./release.ts";

setDefaultTimeout(120_000);

let release = "";
let work = "";

async function install(root: string, env: Record<string, string>) {
  const p = Bun.spawn(["sh", join(release, "install.sh")], {
    env: { PATH: pathWithoutBun(work), HOME: work, INSTALL_KUBUN_ROOT: root, INSTALL_KUBUN_BIN_DIR: join(root, "bin"), INSTALL_KUBUN_SKIP_START: "true", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
}

async function verify(unit: string) {
  // systemd-analyze reports unknown settings and bad values on stderr with exit code 0: both must be clean.
  return run(["systemd-analyze", "verify", "--man=no", unit], { allowFail: true, env: { PATH: process.env.PATH, SYSTEMD_LOG_LEVEL: "notice" } });
}

beforeAll(async () => {
  release = await ensureRelease();
  work = tempDir("ku-");
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("systemd units", () => {
  test("server: kubun.service verifies, token only in kubun.service.env (0600)", async () => {
    const root = join(work, "srv");
    const r = await install(root, { INSTALL_KUBUN_INIT: "systemd", KUBUN_TOKEN: "s3cret-server", INSTALL_KUBUN_EXEC: "--node-name pi-1" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const unit = join(root, "etc/systemd/system/kubun.service");
    const v = await verify(unit);
    expect(v.stderr + v.stdout).toBe("");
    expect(v.code).toBe(0);
    const text = readFileSync(unit, "utf8");
    for (const line of ["Type=notify", "KillMode=process", "Delegate=yes", "Restart=always", "LimitNOFILE=1048576", "LimitNPROC=infinity", "TasksMax=infinity", `EnvironmentFile=-${unit}.env`, "WantedBy=multi-user.target"])
      expect(text.split("\n")).toContain(line);
    // kubun's JIT options come with the unit (no restart at start), before the environment file that may override them.
    const lines = text.split("\n");
    for (const [k, v] of Object.entries(JIT_OPTIONS)) {
      expect(lines.indexOf(`Environment=${k}=${v}`)).toBeGreaterThan(-1);
      expect(lines.indexOf(`Environment=${k}=${v}`)).toBeLessThan(lines.indexOf(`EnvironmentFile=-${unit}.env`));
    }
    expect(text).toMatch(new RegExp(`^ExecStart=${join(root, "bin/kubun")} server --node-name pi-1 `, "m"));
    expect(text).not.toContain("s3cret");
    expect(statSync(`${unit}.env`).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${unit}.env`, "utf8")).toContain("KUBUN_TOKEN=s3cret-server");
  });

  test("agent: kubun-agent.service from KUBUN_URL + KUBUN_TOKEN verifies, secrets in its env file", async () => {
    const root = join(work, "agt");
    const r = await install(root, { INSTALL_KUBUN_INIT: "systemd", KUBUN_URL: "https://10.0.0.1:6443", KUBUN_TOKEN: "K10abc::server:s3cret-agent" });
    expect(r.code).toBe(0);
    const unit = join(root, "etc/systemd/system/kubun-agent.service");
    const v = await verify(unit);
    expect(v.stderr + v.stdout).toBe("");
    expect(v.code).toBe(0);
    const text = readFileSync(unit, "utf8");
    expect(text).toMatch(/^ExecStart=\S+\/bin\/kubun agent( |$)/m);
    expect(text).not.toContain("s3cret");
    expect(text).not.toContain("10.0.0.1");
    const env = readFileSync(`${unit}.env`, "utf8");
    expect(env).toContain("KUBUN_URL=https://10.0.0.1:6443");
    expect(env).toContain("KUBUN_TOKEN=K10abc::server:s3cret-agent");
    expect(statSync(`${unit}.env`).mode & 0o777).toBe(0o600);
  });

  test("INSTALL_KUBUN_NAME names the unit; a bad unit would not verify (the check is real)", async () => {
    const root = join(work, "named");
    const r = await install(root, { INSTALL_KUBUN_INIT: "systemd", INSTALL_KUBUN_NAME: "edge", INSTALL_KUBUN_SKIP_ENABLE: "true" });
    expect(r.code).toBe(0);
    const unit = join(root, "etc/systemd/system/edge.service");
    expect(existsSync(unit)).toBe(true);
    await Bun.write(join(root, "broken.service"), readFileSync(unit, "utf8").replace("Type=notify", "Type=notifyy"));
    expect((await verify(join(root, "broken.service"))).stderr).toContain("Failed to parse service type");
  });

  test("an agent installed by the first install.sh (kubun.service + /etc/kubun/kubun.env) is upgraded, not doubled", async () => {
    const root = join(work, "legacy");
    await Bun.write(join(root, "etc/kubun/kubun.env"), "KUBUN_URL=https://10.0.0.9:6443\nKUBUN_TOKEN=K10old::server:legacy-secret\n");
    await Bun.write(join(root, "etc/systemd/system/kubun.service"), "[Service]\nType=simple\nEnvironmentFile=-/etc/kubun/kubun.env\nExecStart=/usr/local/bin/kubun agent \n");
    const r = await install(root, { INSTALL_KUBUN_INIT: "systemd" });
    expect(r.code).toBe(0);
    expect(existsSync(join(root, "etc/systemd/system/kubun-agent.service"))).toBe(false);
    const unit = join(root, "etc/systemd/system/kubun.service");
    expect(readFileSync(unit, "utf8")).toMatch(/^ExecStart=\S+\/bin\/kubun agent /m);
    expect(readFileSync(unit, "utf8")).toContain("Type=notify");
    expect(readFileSync(`${unit}.env`, "utf8")).toContain("KUBUN_TOKEN=K10old::server:legacy-secret");
    expect((await verify(unit)).stderr).toBe("");
  });

  test("a token in INSTALL_KUBUN_EXEC is refused (ps would show it)", async () => {
    const r = await install(join(work, "tok"), { INSTALL_KUBUN_EXEC: "--token abc" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("do not put the token in INSTALL_KUBUN_EXEC");
  });
});

describe("where the binary and the packages come from", () => {
  test("INSTALL_KUBUN_BINARY: install.sh alone (no release folder, no checkout) installs that binary", async () => {
    const root = join(work, "bin-only");
    const dir = join(work, "alone");
    await run(["mkdir", "-p", dir]);
    await Bun.write(join(dir, "install.sh"), Bun.file(join(release, "install.sh")));
    const p = Bun.spawn(["sh", join(dir, "install.sh")], {
      env: { PATH: pathWithoutBun(work), INSTALL_KUBUN_ROOT: root, INSTALL_KUBUN_BIN_DIR: join(root, "bin"), INSTALL_KUBUN_SKIP_START: "true", INSTALL_KUBUN_BINARY: join(release, "kubun-linux-amd64") },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await p.exited).toBe(0);
    expect(await new Response(p.stdout).text()).toContain(`installed ${join(root, "bin/kubun")} (kubun version v`);
  });

  test("with apt it installs the Debian packages that are missing", async () => {
    // dpkg-query says runc and nftables are not installed; apt-get records what it is asked to do.
    const bin = join(work, "fakeapt-bin");
    const log = join(work, "apt.log");
    await Bun.write(join(bin, "dpkg-query"), `#!/bin/sh\ncase "$*" in *" runc" | *" nftables") exit 1 ;; esac\nprintf 'install ok installed'\n`);
    await Bun.write(join(bin, "apt-get"), `#!/bin/sh\necho "$*" >>${log}\n`);
    await run(["chmod", "+x", join(bin, "dpkg-query"), join(bin, "apt-get")]);
    const root = join(work, "apt");
    const p = Bun.spawn(["sh", join(release, "install.sh")], {
      env: { PATH: `${bin}:${pathWithoutBun(work)}`, INSTALL_KUBUN_ROOT: root, INSTALL_KUBUN_BIN_DIR: join(root, "bin"), INSTALL_KUBUN_SKIP_START: "true" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(0);
    expect(stdout).toContain("[INFO]  installing Debian packages: runc nftables");
    expect(readFileSync(log, "utf8")).toBe("update -qq\ninstall -y -qq --no-install-recommends runc nftables\n");
  });

  test("without apt it says what is missing and how to get it", async () => {
    // A PATH without dpkg-query, apt-get, runc and containerd: a non-Debian host that lacks them.
    const bin = join(work, "noapt-bin");
    await run(["mkdir", "-p", bin]);
    for (const dir of ["/usr/sbin", "/usr/bin"])
      for (const f of readdirSync(dir))
        if (!/^(dpkg-query|apt-get|runc|containerd|bun|bunx)$/.test(f) && !existsSync(join(bin, f))) symlinkSync(join(dir, f), join(bin, f));
    const root = join(work, "noapt");
    const p = Bun.spawn(["sh", join(release, "install.sh")], {
      env: { PATH: bin, INSTALL_KUBUN_ROOT: root, INSTALL_KUBUN_BIN_DIR: join(root, "bin"), INSTALL_KUBUN_SKIP_START: "true" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    expect(code).toBe(0);
    expect(stderr).toContain("[WARN]  missing: containerd runc\n");
    expect(stderr).toContain("kubun will refuse to start until they are there ('kubun check-config' lists what is missing)");
  });
});

describe("OpenRC", () => {
  test("an init script under supervise-daemon, environment from a 0600 file", async () => {
    const root = join(work, "rc");
    const r = await install(root, { INSTALL_KUBUN_INIT: "openrc", KUBUN_TOKEN: "s3cret-rc" });
    expect(r.code).toBe(0);
    const script = join(root, "etc/init.d/kubun");
    expect(statSync(script).mode & 0o111).not.toBe(0);
    expect((await run(["sh", "-n", script], { allowFail: true })).code).toBe(0);
    const text = readFileSync(script, "utf8");
    expect(text.split("\n")[0]).toBe("#!/sbin/openrc-run");
    expect(text).toContain("supervisor=supervise-daemon");
    expect(text).toContain(`command="${join(root, "bin/kubun")}"`);
    expect(text).not.toContain("s3cret");
    expect(statSync(join(root, "etc/init.d/kubun.env")).mode & 0o777).toBe(0o600);
    // openrc-run sources the script: the service gets the token in its environment, not in its arguments.
    const sourced = await run(["sh", "-c", `. ${script}; env | grep '^KUBUN_TOKEN='; echo "args: $command_args"`], { allowFail: true });
    expect(sourced.stdout).toContain("KUBUN_TOKEN=s3cret-rc\n");
    const jitEnv = await run(["sh", "-c", `. ${script}; env | grep '^BUN_JSC_'`], { allowFail: true });
    expect(jitEnv.stdout.trim().split("\n").sort()).toEqual(Object.entries(JIT_OPTIONS).map(([k, v]) => `${k}=${v}`).sort());
    expect(sourced.stdout).toMatch(/^args: server --data-dir \S+ --config \S+ --pod-log-dir \S+ --write-kubeconfig \S+$/m);
  });
});

describe("sd_notify", () => {
  let ns = "";
  afterAll(async () => {
    if (ns) await run(["ip", "netns", "del", ns], { allowFail: true });
  });

  test("kubun server sends READY=1 on $NOTIFY_SOCKET once the API serves", async () => {
    ns = `kn${Math.random().toString(36).slice(2, 7)}`;
    await run(["ip", "netns", "add", ns]);
    await run(["ip", "-n", ns, "link", "set", "lo", "up"]);
    const sock = join(work, "notify.sock");
    const kubeconfig = join(work, "notify-kubeconfig.yaml");
    // A unix datagram socket as systemd's: python prints the first message it gets.
    const receiver = Bun.spawn(
      ["python3", "-c", "import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint('bound',flush=True)\nprint(s.recv(4096).decode(),flush=True)", sock],
      { stdout: "pipe" },
    );
    const reader = receiver.stdout.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("bound");
    await Bun.write(join(work, "none.yaml"), "");
    const server = Bun.spawn(
      ["nsenter", `--net=/var/run/netns/${ns}`, "--", join(release, "kubun-linux-amd64"), "server", "--disable-agent", "--bind-address", "127.0.0.1", "--data-dir", join(work, "notify-data"), "--write-kubeconfig", kubeconfig, "--config", join(work, "none.yaml")],
      { env: { PATH: process.env.PATH!, NOTIFY_SOCKET: sock }, stdout: "ignore", stderr: "ignore" },
    );
    try {
      let got = "";
      while (!got.includes("READY=1")) {
        const { value, done } = await reader.read();
        if (done) break;
        got += new TextDecoder().decode(value);
      }
      expect(got).toContain("READY=1");
      // Ready means serving: the API answers at once.
      const r = await inNs(ns, ["kubectl", "--kubeconfig", kubeconfig, "get", "--raw", "/readyz"]);
      expect(r.stdout.trim()).toBe("ok");
    } finally {
      server.kill(9);
      receiver.kill(9);
      await server.exited;
    }
  });
});
