// A control plane in a temp dir on a random port, plus a kubectl runner pointed at it.
// One per test file (beforeAll), torn down in afterAll.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from "../../internal/server/controlplane.ts";

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestCluster extends ControlPlane {
  dataDir: string;
  kubeconfigPath: string;
  kubectl(args: string[], opts?: { stdin?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<KubectlResult>;
  /** fetch against the API with the admin token (path like "/api/v1/pods"). */
  api(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
}

export const KUBECTL = process.env.KUBECTL ?? "/usr/bin/kubectl";

/** Runs kubectl against the cluster and returns its stdout; throws with its exit code and stderr when it fails. */
export async function kubectlOK(c: Pick<TestCluster, "kubectl">, args: string[], stdin?: string): Promise<string> {
  const r = await c.kubectl(args, { stdin });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export async function startTestCluster(opts: Partial<ControlPlaneOptions> = {}): Promise<TestCluster> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "kubun-test-"));
  const kubeconfigPath = join(dataDir, "kubeconfig.yaml");
  const cp = await startControlPlane({
    bindAddress: "127.0.0.1",
    advertiseAddress: "127.0.0.1",
    ...opts,
    dataDir,
    port: opts.port ?? 0,
    writeKubeconfig: kubeconfigPath,
  }).catch((err) => {
    // A control plane that did not start leaves no cluster whose stop() would remove the dir.
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  const home = join(dataDir, "home");
  const kubectl = async (args: string[], o: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<KubectlResult> => {
    const proc = Bun.spawn([KUBECTL, "--kubeconfig", kubeconfigPath, ...args], {
      stdin: o.stdin !== undefined ? new TextEncoder().encode(o.stdin) : "ignore",
      stdout: "pipe",
      stderr: "pipe",
      // A private HOME keeps kubectl's discovery cache per cluster.
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, ...o.env },
    });
    const timer = setTimeout(() => proc.kill(), o.timeoutMs ?? 30_000);
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    return { code, stdout, stderr };
  };
  const api = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const headers = new Headers(init.headers);
    const token = init.token === undefined ? cp.adminToken : init.token;
    if (token) headers.set("Authorization", `Bearer ${token}`);
    return fetch(cp.localURL + path, { ...init, headers, tls: { ca: cp.caPEM } } as RequestInit);
  };
  const stop = cp.stop;
  return Object.assign(cp, {
    dataDir,
    kubeconfigPath,
    kubectl,
    api,
    async stop() {
      await stop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  });
}
