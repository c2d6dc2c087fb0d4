// A node gone for longer than its pods tolerate: the control plane evicts them and their ReplicaSet starts
// replacements on another node; when the node comes back, its agent stops the pods it was relieved of (and deletes
// their objects) instead of running them twice. Real containers in test-made network namespaces.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { ReplicaSet } from "kubernetes-types/apps/v1";
import type { Pod } from "kubernetes-types/core/v1";
import { refs } from "../../internal/client/refs.ts";
import { startScheduler } from "../../internal/scheduler/index.ts";
import { startEnv, waitFor, type Env } from "./setup.ts";

let env: Env;
const scheduler = new AbortController();
beforeAll(async () => {
  // Unknown after 15 s without a heartbeat (upstream: 40 s; nodes renew every 10 s); the pods' own tolerations bound the eviction.
  env = await startEnv(["node-away", "node-stays"], { controllerManager: { nodeMonitorGracePeriodSeconds: 15 } });
  void startScheduler(env.cluster.componentConfig("scheduler"), { identity: "test-scheduler", signal: scheduler.signal, leaderElection: false });
}, 120_000);
afterAll(async () => {
  scheduler.abort();
  await env?.cleanup();
}, 60_000);

test("pods evicted from a node that was away are stopped by its agent when it returns; nothing runs twice", async () => {
  const [away, stays] = env.nodes as [Env["nodes"][0], Env["nodes"][0]];
  const rs: ReplicaSet = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "roamer", namespace: "default" },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "roamer" } },
      template: {
        metadata: { labels: { app: "roamer" } },
        spec: {
          // Start on the node that will go away; tolerate its absence for 2 s only (upstream default: 300 s).
          affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [away.name] }] } }] } },
          tolerations: [
            { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 2 },
            { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 2 },
          ],
          terminationGracePeriodSeconds: 1,
          containers: [{ name: "main", image: "busybox", command: ["sh", "-c", "exec sleep 3600"] }],
        },
      },
    },
  };
  await env.client.resource(refs.replicasets, "default").create(rs);
  const pods = env.client.resource<Pod>(refs.pods, "default");
  const list = async () => ((await pods.list({ labelSelector: "app=roamer" })) as { items: Pod[] }).items;
  const first = await waitFor("the first pod Running on the node that will go away", async () => (await list()).find((p) => p.spec?.nodeName === away.name && p.status?.phase === "Running"), 60_000);
  const firstUID = first.metadata!.uid!;
  const running = async (node: typeof away) => (await env.world.ctr(node.namespace, ["tasks", "ls"])).split("\n").filter((l) => l.includes("RUNNING")).length;
  expect(await running(away)).toBe(1);

  // The node goes away (agent killed; its containers keep running); the control plane gives its pod away.
  await away.kill9();
  const replacement = await waitFor(
    "a replacement Running on the other node",
    async () => (await list()).find((p) => p.spec?.nodeName === stays.name && p.status?.phase === "Running" && !p.metadata?.deletionTimestamp),
    90_000,
  ).catch(async (e) => {
    console.error(JSON.stringify((await list()).map((p) => [p.metadata?.name, p.spec?.nodeName, p.status?.phase, p.metadata?.deletionTimestamp, p.status?.conditions])));
    const n: any = await env.client.resource(refs.nodes).get(away.name);
    console.error(JSON.stringify([n.spec?.taints, n.status?.conditions?.map((c: any) => [c.type, c.status])]));
    throw e;
  });
  expect(replacement.metadata!.uid).not.toBe(firstUID);
  expect(await running(away)).toBe(1); // still running there, unseen

  // The node returns: its agent stops the evicted pod and its object goes; the replacement is untouched.
  await away.start();
  await waitFor("the evicted pod's container stopped on the returning node", async () => (await running(away)) === 0, 60_000);
  await waitFor("the evicted pod's object gone", async () => !(await list()).some((p) => p.metadata?.uid === firstUID), 60_000);
  const now = await list();
  expect(now.map((p) => p.metadata!.uid)).toEqual([replacement.metadata!.uid]);
  expect(await running(stays)).toBe(1);
}, 240_000);
