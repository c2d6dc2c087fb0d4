// Hollow nodes against the real API server: registration, Lease heartbeats, pod status, deletion, stop/start.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import type { Lease } from "kubernetes-types/coordination/v1";
import type { Node, Pod } from "kubernetes-types/core/v1";
import { createClient, refs, type Client } from "../../internal/client/index.ts";
import { EXIT_CODE_ANNOTATION, RUN_SECONDS_ANNOTATION, runHollowNodes, type HollowNodes } from "../../internal/hollow/index.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { ensureServiceAccount, podSpec, waitFor } from "./helpers.ts";

setDefaultTimeout(60_000);

let cluster: TestCluster;
let client: Client;
let hollow: HollowNodes;
const ac = new AbortController();

beforeAll(async () => {
  cluster = await startTestCluster();
  client = createClient(cluster.clientConfig);
  await ensureServiceAccount(client);
  hollow = runHollowNodes(cluster.clientConfig, { count: 3, prefix: "h", signal: ac.signal, renewIntervalSeconds: 0.3, cpu: "8", memory: "32Gi", pods: 50 });
  await hollow.ready;
});
afterAll(async () => {
  ac.abort();
  await hollow.catch(() => {});
  await cluster.stop();
});

const lease = (n: string) => client.resource<Lease>(refs.leases, "kube-node-lease").get(n);

test("registers Ready nodes with capacity, labels and addresses", async () => {
  expect(hollow.names).toEqual(["h-0", "h-1", "h-2"]);
  const n = await client.resource<Node>(refs.nodes).get("h-1");
  expect(n.metadata?.labels).toMatchObject({ "kubernetes.io/hostname": "h-1", "kubernetes.io/os": "linux" });
  expect(n.status?.allocatable).toMatchObject({ cpu: "8", memory: "32Gi", pods: "50" });
  expect(n.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "True", reason: "KubeletReady" });
  const r = await cluster.kubectl(["get", "nodes", "--no-headers"]);
  expect(r.stdout.split("\n").filter((l) => / Ready /.test(l)).length).toBe(3);
});

test("renews node Leases; a stopped node stops, a restarted one resumes", async () => {
  const l0 = await lease("h-0");
  expect(l0.spec?.holderIdentity).toBe("h-0");
  expect(l0.spec?.leaseDurationSeconds).toBe(40);
  await waitFor("h-0 lease renewed", async () => (await lease("h-0")).spec?.renewTime !== l0.spec?.renewTime);
  hollow.stopNode("h-2");
  await Bun.sleep(400);
  const frozen = (await lease("h-2")).spec?.renewTime;
  await Bun.sleep(900);
  expect((await lease("h-2")).spec?.renewTime).toBe(frozen);
  hollow.startNode("h-2");
  await waitFor("h-2 lease renewed again", async () => (await lease("h-2")).spec?.renewTime !== frozen);
});

test("reports bound pods Running and Ready with an IP from the node's podCIDR", async () => {
  await client.resource(refs.nodes).patch("h-0", "merge", { spec: { podCIDR: "10.42.7.0/24", podCIDRs: ["10.42.7.0/24"] } });
  await waitFor("podCIDR seen", async () => (await client.resource<Node>(refs.nodes).get("h-0")).spec?.podCIDR);
  await Bun.sleep(200);
  const pods = client.resource<Pod>(refs.pods, "default");
  await pods.create(podSpec("web", { spec: { nodeName: "h-0", initContainers: [{ name: "init", image: "busybox" }] } }));
  const p = await waitFor("web running", async () => {
    const x = await pods.get("web");
    return x.status?.phase === "Running" ? x : undefined;
  });
  expect(p.status?.podIP).toMatch(/^10\.42\.7\.\d+$/);
  expect(p.status?.hostIP).toBe("127.0.0.1");
  expect(p.status?.startTime).toBeString();
  const types = Object.fromEntries(p.status!.conditions!.map((c) => [c.type, c.status]));
  expect(types).toMatchObject({ Ready: "True", ContainersReady: "True", Initialized: "True", PodScheduled: "True" });
  expect(p.status?.containerStatuses?.[0]).toMatchObject({ name: "c", ready: true, started: true, restartCount: 0 });
  expect(p.status?.containerStatuses?.[0]?.state?.running?.startedAt).toBeString();
  expect(p.status?.initContainerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
  const r = await cluster.kubectl(["get", "pod", "web", "--no-headers"]);
  expect(r.stdout).toMatch(/^web\s+1\/1\s+Running\s+0/);
});

test("confirms deletion of pods with a deletionTimestamp, as a kubelet does", async () => {
  const pods = client.resource<Pod>(refs.pods, "default");
  await pods.create(podSpec("doomed", { spec: { nodeName: "h-1" } }));
  await waitFor("doomed running", async () => (await pods.get("doomed")).status?.phase === "Running");
  await pods.delete("doomed"); // default grace period: the pod only goes once the "kubelet" confirms
  await waitFor("doomed gone", async () => (await pods.list()).items.every((p) => p.metadata?.name !== "doomed"));
});

test("pods annotated to run for a while finish Succeeded or Failed", async () => {
  const pods = client.resource<Pod>(refs.pods, "default");
  const job = (name: string, code: string) => {
    const p = podSpec(name, { spec: { nodeName: "h-1", restartPolicy: "Never" } });
    p.metadata!.annotations = { [RUN_SECONDS_ANNOTATION]: "0.3", [EXIT_CODE_ANNOTATION]: code };
    return p;
  };
  await pods.create(job("ok", "0"));
  await pods.create(job("bad", "3"));
  const ok = await waitFor("ok done", async () => ((await pods.get("ok")).status?.phase === "Succeeded" ? pods.get("ok") : undefined));
  expect(ok.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
  const bad = await waitFor("bad done", async () => ((await pods.get("bad")).status?.phase === "Failed" ? pods.get("bad") : undefined));
  expect(bad.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 3, reason: "Error" });
});

test("with per-node credentials each hollow node writes as itself (Node authorizer)", async () => {
  const { joinCluster } = await import("../../internal/auth/join.ts");
  const nac = new AbortController();
  const server = cluster.localURL;
  const nodes = runHollowNodes(cluster.clientConfig, {
    count: 2,
    prefix: "sec",
    signal: nac.signal,
    credentialsFor: async (nodeName) => {
      const c = await joinCluster({ server, token: cluster.joinToken, nodeName });
      return { server, token: c.nodeToken, caPEM: c.caPEM };
    },
  });
  await nodes.ready;
  const n = await client.resource<Node>(refs.nodes).get("sec-1");
  expect(n.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
  const pods = client.resource<Pod>(refs.pods, "default");
  await pods.create(podSpec("secpod", { spec: { nodeName: "sec-0" } }));
  await waitFor("secpod running", async () => (await pods.get("secpod")).status?.phase === "Running");
  nac.abort();
  await nodes;
});
