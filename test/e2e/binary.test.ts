// The compiled binary as a user runs it: no node_modules or migrations beside it, real kubectl,
// and nothing acknowledged lost across kill -9.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../helpers/ports.ts";

setDefaultTimeout(120_000);

const repo = join(import.meta.dir, "../..");
const work = mkdtempSync(join(tmpdir(), "kubun-bin-"));
const binary = join(work, "kubun");
const dataDir = join(work, "data");
const kubeconfig = join(work, "kubeconfig.yaml");
let port = 0;
let server: ReturnType<typeof Bun.spawn> | undefined;


async function run(cmd: string[], env: Record<string, string> = {}) {
  const p = Bun.spawn(cmd, { cwd: work, stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH!, HOME: work, TMPDIR: process.env.TMPDIR!, ...env } });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
}

const kubectl = (args: string[]) => run(["/usr/bin/kubectl", "--kubeconfig", kubeconfig, ...args]);

async function startServer(): Promise<void> {
  server = Bun.spawn(
    [binary, "server", "--disable-agent", "--disable", "off", "--data-dir", dataDir, "--https-listen-port", String(port), "--bind-address", "127.0.0.1", "--write-kubeconfig", kubeconfig],
    { cwd: work, stdout: "ignore", stderr: "pipe", env: { PATH: process.env.PATH!, TMPDIR: process.env.TMPDIR!, KUBUN_CONFIG_FILE: join(work, "none.yaml") } },
  );
  for (let i = 0; i < 150 && server.exitCode === null; i++) {
    if (existsSync(kubeconfig)) {
      const r = await kubectl(["get", "--raw", "/readyz"]);
      if (r.code === 0 && r.stdout.trim() === "ok") return;
    }
    await Bun.sleep(200);
  }
  throw new Error(`server did not become ready: ${await new Response(server.stderr as ReadableStream).text()}`);
}

beforeAll(async () => {
  // Build into a folder with nothing else in it: the binary must carry its migrations and OpenAPI.
  const out = join(work, "build", "kubun");
  // The flags of scripts/build.ts (bytecode included): what users run.
  const b = Bun.spawnSync(["bun", "build", "--compile", "--minify", "--bytecode", "--sourcemap=none", "--outfile", out, join(repo, "cmd/kubun.ts")], { cwd: repo, stderr: "pipe" });
  if (b.exitCode !== 0) throw new Error(`build failed: ${b.stderr.toString()}`);
  copyFileSync(out, binary);
  Bun.spawnSync(["chmod", "+x", binary]);
  Bun.write(join(work, "none.yaml"), "");
  port = freePort();
  // Auto-deploying manifests: one to apply, one turned off with --disable.
  const manifests = join(dataDir, "server", "manifests");
  mkdirSync(manifests, { recursive: true });
  const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: default\ndata:\n  k: v\n`;
  writeFileSync(join(manifests, "on.yaml"), cm("from-manifests"));
  writeFileSync(join(manifests, "off.yaml"), cm("disabled-manifest"));
  await startServer();
}, 180_000);

afterAll(() => {
  server?.kill(9);
  rmSync(work, { recursive: true, force: true });
});

describe("compiled kubun binary", () => {
  test("version runs without node_modules", async () => {
    const r = await run([binary, "version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("kubun version v");
  });

  test("serves the API to real kubectl with the written kubeconfig", async () => {
    const r = await kubectl(["get", "namespaces", "-o", "name"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").filter(Boolean).sort()).toEqual(["namespace/default", "namespace/kube-node-lease", "namespace/kube-public", "namespace/kube-system"]);
  });

  test("applies <data-dir>/server/manifests at start, minus --disable names", async () => {
    let got = await kubectl(["get", "configmap", "from-manifests", "-o", "jsonpath={.data.k}"]);
    for (let i = 0; i < 100 && got.code !== 0; i++) {
      await Bun.sleep(100);
      got = await kubectl(["get", "configmap", "from-manifests", "-o", "jsonpath={.data.k}"]);
    }
    expect(got.stdout).toBe("v");
    expect((await kubectl(["get", "addon", "on", "-n", "kube-system", "-o", "jsonpath={.status.phase}"])).stdout).toBe("Applied");
    expect((await kubectl(["get", "configmap", "disabled-manifest"])).code).not.toBe(0);
  });

  test("token show prints a K10 join token", async () => {
    const r = await run([binary, "token", "show", "--data-dir", dataDir]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^K10[0-9a-f]{64}::server:\S+$/);
  });

  test("kubun kubectl uses KUBECONFIG", async () => {
    const r = await run([binary, "kubectl", "get", "ns", "default", "-o", "jsonpath={.status.phase}"], { KUBECONFIG: kubeconfig });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Active");
  });

  test("acknowledged writes survive kill -9 and restart", async () => {
    const names = Array.from({ length: 20 }, (_, i) => `survivor-${i}`);
    // Write through the API with apply from stdin, each acknowledged before the next.
    for (const name of names) {
      const p = Bun.spawn(["/usr/bin/kubectl", "--kubeconfig", kubeconfig, "apply", "-f", "-"], {
        stdin: new TextEncoder().encode(JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data: { n: name } })),
        stdout: "pipe",
        stderr: "pipe",
        env: { PATH: process.env.PATH!, HOME: work },
      });
      expect(await p.exited).toBe(0);
    }
    server!.kill(9);
    await server!.exited;
    await startServer();
    const r = await kubectl(["get", "configmaps", "-o", "jsonpath={range .items[*]}{.data.n}{\"\\n\"}{end}"]);
    expect(r.code).toBe(0);
    const got = new Set(r.stdout.split("\n").filter(Boolean));
    for (const name of names) expect(got.has(name)).toBe(true);
  });
});
