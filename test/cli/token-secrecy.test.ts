// The join token stays out of `ps` (issue #9 item 8): --token-file and $KUBUN_TOKEN work for agent and server, a
// token on the command line is warned about, and install.sh's service reads it from a root-only environment file.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { joinTokenFrom, tokenOnCommandLine } from "../../cmd/tokensource.ts";
import { UsageError } from "../../internal/config/load.ts";
import { createClient, refs } from "../../internal/client/index.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

const repo = join(import.meta.dir, "../..");
const tmpRoot = join(repo, ".tmp");
mkdirSync(tmpRoot, { recursive: true });
const dir = mkdtempSync(join(tmpRoot, "token-secrecy-"));
const emptyConfig = join(dir, "config.yaml");
writeFileSync(emptyConfig, "");
let cluster: TestCluster | undefined;

afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function warnings() {
  const seen: string[] = [];
  return { seen, log: { warn: (m: string) => void seen.push(m) } };
}

describe("joinTokenFrom", () => {
  test("reads and trims --token-file; a missing or empty file is a usage error", () => {
    const f = join(dir, "token");
    writeFileSync(f, "K10abc::server:s3cret\n", { mode: 0o600 });
    const w = warnings();
    expect(joinTokenFrom({ "token-file": f }, w.log, ["agent", "--token-file", f])).toBe("K10abc::server:s3cret");
    expect(w.seen).toEqual([]);
    expect(() => joinTokenFrom({ "token-file": join(dir, "nope") }, w.log, [])).toThrow(UsageError);
    writeFileSync(join(dir, "empty"), "\n");
    expect(() => joinTokenFrom({ "token-file": join(dir, "empty") }, w.log, [])).toThrow(`--token-file ${JSON.stringify(join(dir, "empty"))} is empty`);
    expect(joinTokenFrom({}, w.log, [])).toBeUndefined();
  });

  test("a token from the command line is warned about; from the environment it is not", () => {
    const w = warnings();
    expect(joinTokenFrom({ token: "t0k" }, w.log, ["agent", "--token", "t0k"])).toBe("t0k");
    expect(w.seen).toHaveLength(1);
    expect(w.seen[0]).toContain("use --token-file or $KUBUN_TOKEN");
    const env = warnings();
    expect(joinTokenFrom({ token: "t0k" }, env.log, ["agent", "--server", "https://s:6443"])).toBe("t0k");
    expect(env.seen).toEqual([]);
    expect(["--token=x", "-t", "-tx"].every((a) => tokenOnCommandLine([a]))).toBe(true);
    expect(tokenOnCommandLine(["--token-file", "/f"])).toBe(false);
  });
});

describe("kubun agent with --token-file", () => {
  test("joins with the token from the file, and the token is not in the process's command line", async () => {
    cluster = await startTestCluster({ dataDir: join(dir, "server") });
    const tokenFile = join(dir, "join-token");
    writeFileSync(tokenFile, `${cluster.joinToken}\n`, { mode: 0o600 });
    const secret = cluster.joinToken.split("::server:")[1]!;
    const agentDir = join(dir, "agent");
    const p = Bun.spawn(
      ["bun", join(repo, "cmd/kubun.ts"), "agent", "--server", cluster.localURL, "--token-file", tokenFile, "--simulate", "1", "--node-name", "tf", "--data-dir", agentDir],
      { stdout: "pipe", stderr: "pipe", env: { ...process.env, KUBUN_CONFIG_FILE: emptyConfig, KUBUN_TOKEN: "" } },
    );
    try {
      const nodes = createClient(cluster.clientConfig).resource(refs.nodes);
      const deadline = Date.now() + 30_000;
      let joined = false;
      while (!joined && Date.now() < deadline) {
        joined = await nodes.get("tf-0").then(
          () => true,
          () => false,
        );
        if (!joined) await Bun.sleep(200);
      }
      expect(joined).toBe(true);
      const cmdline = readFileSync(`/proc/${p.pid}/cmdline`, "utf8").split("\0");
      expect(cmdline).toContain("--token-file");
      expect(cmdline.join(" ")).not.toContain(secret);
    } finally {
      p.kill();
      await p.exited;
    }
  }, 60_000);
});

describe("install.sh", () => {
  const run = (env: Record<string, string>) => {
    const r = Bun.spawnSync(["bash", join(repo, "install.sh")], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env } });
    return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  const agent = { INSTALL_KUBUN_URL: "https://10.0.0.1:6443", INSTALL_KUBUN_TOKEN: "K10ab::server:s3cret" };

  test("the service unit takes the token from the root-only environment file, never from its command line", () => {
    const unit = run({ ...agent, INSTALL_KUBUN_PRINT: "unit", INSTALL_KUBUN_EXEC: "--node-name pi-2" });
    expect(unit.code).toBe(0);
    expect(unit.stdout).toContain("EnvironmentFile=-/etc/systemd/system/kubun-agent.service.env");
    const exec = unit.stdout.split("\n").find((l) => l.startsWith("ExecStart="))!;
    expect(exec.trim()).toBe("ExecStart=/usr/local/bin/kubun agent --node-name pi-2");
    expect(unit.stdout).not.toContain("s3cret");
    const env = run({ ...agent, INSTALL_KUBUN_PRINT: "env" });
    expect(env.stdout).toContain("KUBUN_URL=https://10.0.0.1:6443\n");
    expect(env.stdout).toContain("KUBUN_TOKEN=K10ab::server:s3cret\n");
    const server = run({ INSTALL_KUBUN_PRINT: "unit" });
    expect(server.stdout).toContain("ExecStart=/usr/local/bin/kubun server");
  });

  test("a token in INSTALL_KUBUN_EXEC is refused with one line", () => {
    const r = run({ INSTALL_KUBUN_PRINT: "unit", INSTALL_KUBUN_EXEC: "--token s3cret" });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual(["[ERROR] do not put the token in INSTALL_KUBUN_EXEC (any local user could read it with ps); use KUBUN_TOKEN or KUBUN_TOKEN_FILE"]);
    expect(run({ INSTALL_KUBUN_PRINT: "unit", INSTALL_KUBUN_URL: "https://s:6443" }).code).toBe(1);
  });
});
