// A Deployment (via the controller manager) on hollow nodes: its pods spread over the nodes and become Available.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import type { Pod } from "kubernetes-types/core/v1";
import { createClient, refs, type Client } from "../../internal/client/index.ts";
import { startControllerManager } from "../../internal/controllers/index.ts";
import { runHollowNodes, type HollowNodes } from "../../internal/hollow/index.ts";
import { startScheduler } from "../../internal/scheduler/index.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { waitFor } from "./helpers.ts";

setDefaultTimeout(90_000);

let cluster: TestCluster;
let client: Client;
let hollow: HollowNodes;
const running: Promise<unknown>[] = [];
const ac = new AbortController();

beforeAll(async () => {
  cluster = await startTestCluster();
  client = createClient(cluster.clientConfig);
  hollow = runHollowNodes(cluster.clientConfig, { count: 3, prefix: "d", signal: ac.signal });
  await hollow.ready;
  running.push(hollow);
  running.push(startScheduler(cluster.componentConfig("scheduler"), { identity: "t", signal: ac.signal, leaderElection: false }));
  running.push(
    startControllerManager(cluster.componentConfig("controller-manager"), {
      identity: "t",
      serviceCIDR: "10.43.0.0/16",
      clusterCIDR: "10.42.0.0/16",
      signal: ac.signal,
      leaderElection: false,
    }),
  );
});
afterAll(async () => {
  ac.abort();
  await Promise.allSettled(running);
  await cluster.stop();
});

test("a Deployment of 10 spreads over the nodes and becomes Available", async () => {
  await client.resource(refs.deployments, "default").create({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: {
      replicas: 10,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }] },
      },
    },
  });
  await waitFor(
    "deployment available",
    async () => ((await client.resource<any>(refs.deployments, "default").get("web")).status?.availableReplicas ?? 0) === 10,
    60_000,
  );
  const pods = (await client.resource<Pod>(refs.pods, "default").list({ labelSelector: "app=web" })).items;
  const perNode: Record<string, number> = {};
  for (const p of pods) perNode[p.spec!.nodeName!] = (perNode[p.spec!.nodeName!] ?? 0) + 1;
  expect(Object.keys(perNode).sort()).toEqual(["d-0", "d-1", "d-2"]);
  const counts = Object.values(perNode);
  expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  expect(pods.every((p) => p.status?.phase === "Running")).toBe(true);
});
