// One control plane (+ controller manager for node IPAM, ServiceAccounts and kube-root-ca.crt) and N real nodes
// in a test-made network world, for the kubelet tests.
import type { Pod } from "kubernetes-types/core/v1";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { createClient, type Client } from "../../internal/client/client.ts";
import { refs } from "../../internal/client/refs.ts";
import { startControllerManager } from "../../internal/controllers/index.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { createWorld, type NodeHandle, type World } from "./world.ts";

export interface Env {
  cluster: TestCluster;
  world: World;
  nodes: NodeHandle[];
  client: Client;
  cleanup(): Promise<void>;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await Bun.sleep(everyMs);
  }
}

export interface EnvOptions {
  clusterDataDir?: string;
  /** More control-plane options (e.g. a faster metrics scrape). */
  cluster?: Record<string, unknown>;
  controllerManager?: Record<string, unknown>;
  /** Agent options of every node (e.g. a faster stats interval). */
  node?: Record<string, unknown>;
}

export async function startEnv(nodeNames: string[], opts: EnvOptions = {}): Promise<Env> {
  const cluster = await startTestCluster({ clusterCIDR: "10.42.0.0/16", ...opts.cluster, dataDir: opts.clusterDataDir } as any);
  const ac = new AbortController();
  void startControllerManager(cluster.componentConfig("controller-manager"), {
    identity: "test-cm",
    serviceCIDR: "10.43.0.0/16",
    clusterCIDR: "10.42.0.0/16",
    apiServerEndpoints: cluster.endpoints,
    signal: ac.signal,
    ...opts.controllerManager,
  } as any);
  const client = createClient({ server: cluster.localURL, token: cluster.adminToken, caPEM: cluster.caPEM });
  const world = await createWorld();
  const nodes: NodeHandle[] = [];
  try {
    for (const n of nodeNames) nodes.push(await world.addNode(cluster, n, opts.node));
    for (const n of nodes)
      await waitFor(`node ${n.name} Ready with a podCIDR`, async () => {
        const node: any = await client.resource(refs.nodes).get(n.name);
        return node.spec?.podCIDR && node.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True");
      }, 60_000);
    await waitFor("default ServiceAccount", () => client.resource(refs.serviceaccounts, "default").get("default"));
  } catch (e) {
    for (const n of nodes) console.error((await Bun.file(`${n.dataDir}/agent.log`).text().catch(() => "")).slice(-4000));
    await world.cleanup();
    ac.abort();
    await cluster.stop();
    throw e;
  }
  const env: Env = {
    cluster,
    world,
    nodes,
    client,
    async cleanup() {
      await world.cleanup();
      ac.abort();
      await env.cluster.stop();
      if (opts.clusterDataDir) rmSync(opts.clusterDataDir, { recursive: true, force: true });
    },
  };
  return env;
}

/** A busybox pod bound to a node (no scheduler needed). */
export function busyboxPod(name: string, node: string, script: string, extra: Partial<Pod["spec"]> = {}, containerExtra: Record<string, unknown> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 5,
      ...extra,
      containers: [{ name: "main", image: "busybox:latest", imagePullPolicy: "IfNotPresent", command: ["sh", "-c", script], ...containerExtra }],
    } as any,
  };
}

/** The running shims of a containerd namespace: pid and the container id each was started for (its -id argument). */
export function shimProcesses(ns: string): { pid: number; id: string }[] {
  const out: { pid: number; id: string }[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number)) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // exited meanwhile
    }
    if (argv[0]?.endsWith("containerd-shim-runc-v2") && argv[argv.indexOf("-namespace") + 1] === ns) out.push({ pid, id: argv[argv.indexOf("-id") + 1]! });
  }
  return out;
}

export async function getPod(env: Env, name: string): Promise<Pod> {
  return env.client.resource<Pod>(refs.pods, "default").get(name);
}

export async function waitPod(env: Env, name: string, pred: (p: Pod) => boolean, what: string, timeoutMs = 30_000): Promise<Pod> {
  let last: Pod | undefined;
  try {
    return await waitFor(`pod ${name}: ${what}`, async () => {
      last = await getPod(env, name);
      return pred(last) ? last : undefined;
    }, timeoutMs);
  } catch (e) {
    console.error("last seen status:", JSON.stringify(last?.status, null, 1));
    for (const n of env.nodes) console.error((await Bun.file(`${n.dataDir}/agent.log`).text().catch(() => "")).slice(-3000));
    throw e;
  }
}
