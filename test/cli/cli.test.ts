// The CLI as a user meets it: exit codes and one-line errors.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const entry = join(import.meta.dir, "../../cmd/kubun.ts");
// An empty config file, so a config on the test machine cannot change the results.
const configDir = mkdtempSync(join(tmpdir(), "kubun-cli-"));
const emptyConfig = join(configDir, "config.yaml");
writeFileSync(emptyConfig, "");
afterAll(() => rmSync(configDir, { recursive: true, force: true }));

async function kubun(args: string[], env: Record<string, string> = {}) {
  const p = Bun.spawn(["bun", entry, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, KUBUN_CONFIG_FILE: emptyConfig, ...env } });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
}

describe("kubun CLI", () => {
  test("version prints kubun and kubernetes versions", async () => {
    const r = await kubun(["version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kubun version v\d+\.\d+\.\d+ \(kubernetes v1\.32\.\d+\+kubun, bun 1\.4\.4/);
  });

  test("a bad flag is one line on stderr and exit code 2", async () => {
    const r = await kubun(["server", "--no-such-flag"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual(["kubun server: unknown flag --no-such-flag (see 'kubun server --help')"]);
  });

  test("an unknown command is exit code 2", async () => {
    const r = await kubun(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });

  test("a bad value is exit code 2 with the flag named", async () => {
    const r = await kubun(["server", "--https-listen-port", "http"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('kubun: invalid value "http" for --https-listen-port from the command line: want a whole number');
    const cidr = await kubun(["server", "--service-cidr", "10.43.0.0"]);
    expect(cidr.code).toBe(2);
    expect(cidr.stderr).toContain("--service-cidr: want an IPv4 CIDR");
  });

  test("agent without --server or --token says what is missing", async () => {
    const r = await kubun(["agent"], { KUBUN_URL: "", KUBUN_TOKEN: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--server");
    const t = await kubun(["agent", "--server", "https://127.0.0.1:1"]);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain("--token");
  });

  test("--help on each command lists its flags with env vars", async () => {
    for (const [cmd, flag, env] of [
      ["server", "--https-listen-port", "KUBUN_HTTPS_LISTEN_PORT"],
      ["agent", "--server", "KUBUN_URL"],
    ]) {
      const r = await kubun([cmd!, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(flag!);
      expect(r.stdout).toContain(env!);
    }
  });

  test("token show fails clearly without a server data dir", async () => {
    const r = await kubun(["token", "show", "--data-dir", "/nonexistent/kubun"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("kubun: no join token at /nonexistent/kubun/server/token: has 'kubun server' run with this --data-dir?");
  });

  test("kubectl passes its arguments through to the real kubectl", async () => {
    const r = await kubun(["kubectl", "version", "--client", "-o", "json"], { KUBECONFIG: "/dev/null" });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).clientVersion.major).toBe("1");
  });
});
