// A control plane with fast metrics (scrape every 2 s, kubelet samples every 2 s), a controller manager (HPA sync
// period shortened) and real nodes in a test-made network world, for the metrics and autoscaling tests.
import { createClient, type Client } from "../../internal/client/client.ts";
import { refs } from "../../internal/client/refs.ts";
import { startControllerManager } from "../../internal/controllers/index.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { waitFor } from "../kubelet/setup.ts";
import { createWorld, type NodeHandle, type World } from "../kubelet/world.ts";

export { waitFor };

export interface MetricsEnv {
  cluster: TestCluster;
  world: World;
  nodes: NodeHandle[];
  client: Client;
  cleanup(): Promise<void>;
}

export async function startMetricsEnv(nodeNames: string[], o: { hpaSyncPeriodMs?: number } = {}): Promise<MetricsEnv> {
  const cluster = await startTestCluster({ clusterCIDR: "10.42.0.0/16", metricsScrapeIntervalMs: 2000 });
  const ac = new AbortController();
  void startControllerManager(cluster.componentConfig("controller-manager"), {
    identity: "test-cm",
    serviceCIDR: "10.43.0.0/16",
    clusterCIDR: "10.42.0.0/16",
    apiServerEndpoints: cluster.endpoints,
    signal: ac.signal,
    hpaSyncPeriodMs: o.hpaSyncPeriodMs ?? 2000,
  } as any);
  const client = createClient({ server: cluster.localURL, token: cluster.adminToken, caPEM: cluster.caPEM });
  const world = await createWorld();
  const nodes: NodeHandle[] = [];
  const cleanup = async () => {
    await world.cleanup();
    ac.abort();
    await cluster.stop();
  };
  try {
    for (const n of nodeNames) nodes.push(await world.addNode(cluster, n, { statsIntervalMs: 2000 }));
    for (const n of nodes)
      await waitFor(`node ${n.name} Ready with a podCIDR`, async () => {
        const node: any = await client.resource(refs.nodes).get(n.name);
        return node.spec?.podCIDR && node.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True");
      }, 60_000);
    await waitFor("default ServiceAccount", () => client.resource(refs.serviceaccounts, "default").get("default"));
  } catch (e) {
    for (const n of nodes) console.error((await Bun.file(`${n.dataDir}/agent.log`).text().catch(() => "")).slice(-4000));
    await cleanup();
    throw e;
  }
  return { cluster, world, nodes, client, cleanup };
}

/** A pod that burns one CPU (busybox shell loop) and one that idles. */
export function busyPod(name: string, node: string, labels: Record<string, string> = {}): any {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 1,
      containers: [
        { name: "burn", image: "busybox:latest", imagePullPolicy: "IfNotPresent", command: ["sh", "-c", "while :; do :; done"] },
        { name: "idle", image: "busybox:latest", imagePullPolicy: "IfNotPresent", command: ["sh", "-c", "sleep 3600"] },
      ],
    },
  };
}
