// The proxy fed by kubun's own EndpointSlice controller: a Service with a selector over two pods whose status is
// written by hand (as their kubelet would), so the slices' port names, conditions and labels are the real ones.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Pod, Service } from "kubernetes-types/core/v1";
import { joinCluster } from "../../internal/auth/join.ts";
import { createClient, type Client } from "../../internal/client/client.ts";
import { refs } from "../../internal/client/refs.ts";
import { startControllerManager } from "../../internal/controllers/index.ts";
import { startProxy } from "../../internal/proxy/index.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { waitFor } from "../kubelet/setup.ts";
import { createProxyWorld, type ProxyWorld } from "./world.ts";

const CLUSTER_CIDR = "10.42.0.0/16";
const SERVICE_CIDR = "10.43.0.0/16";

let cluster: TestCluster;
let world: ProxyWorld;
let client: Client;
const ac = new AbortController();
let proxyDone: Promise<void> | undefined;

beforeAll(async () => {
  cluster = await startTestCluster({ clusterCIDR: CLUSTER_CIDR, serviceCIDR: SERVICE_CIDR });
  client = createClient({ server: cluster.localURL, token: cluster.adminToken, caPEM: cluster.caPEM });
  void startControllerManager(cluster.componentConfig("controller-manager"), {
    identity: "proxy-test-cm",
    serviceCIDR: SERVICE_CIDR,
    clusterCIDR: CLUSTER_CIDR,
    apiServerEndpoints: cluster.endpoints,
    signal: ac.signal,
  });
  world = await createProxyWorld(2);
  const creds = await joinCluster({ server: cluster.localURL, token: cluster.joinToken, nodeName: "proxy-node" });
  proxyDone = startProxy(
    { server: cluster.localURL, token: creds.proxyToken!, caPEM: creds.caPEM },
    { nodeName: "proxy-node", nodeIP: world.nodeIP, clusterCIDR: CLUSTER_CIDR, serviceCIDR: SERVICE_CIDR, netns: world.nodeNetns, signal: ac.signal },
  );
}, 60_000);

afterAll(async () => {
  ac.abort();
  await Promise.race([proxyDone?.catch(() => {}), Bun.sleep(15_000)]);
  await world?.cleanup();
  await cluster?.stop();
}, 60_000);

const pods = () => client.resource<Pod>(refs.pods, "default");

async function runningPod(name: string, ip: string, ready: boolean): Promise<void> {
  let pod: Pod;
  try {
    pod = await pods().get(name);
  } catch {
    pod = await pods().create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default", labels: { app: "echo" } },
      spec: { nodeName: "proxy-node", containers: [{ name: "web", image: "busybox", ports: [{ name: "web", containerPort: 8080 }] }] },
    });
  }
  const now = new Date().toISOString();
  await pods().updateStatus({
    ...pod,
    status: {
      phase: "Running",
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: now }],
    },
  });
}

async function answers(url: string, n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await world.get(world.nodeNetns, url);
    seen.add(r.ok ? r.body : `error: ${r.error}`);
  }
  return seen;
}

test("a selector Service over ready pods is served; a pod that turns unready is taken out", async () => {
  const [p1, p2] = world.pods;
  await runningPod("echo-1", p1!.ip, true);
  await runningPod("echo-2", p2!.ip, true);
  // targetPort by name: resolved per pod by the EndpointSlice controller.
  const svc = await client.resource<Service>(refs.services, "default").create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "echo", namespace: "default" },
    spec: { selector: { app: "echo" }, ports: [{ name: "http", port: 80, targetPort: "web" }] },
  });
  const url = `http://${svc.spec!.clusterIP}:80/`;
  await waitFor("both pods served", async () => (await answers(url, 12)).size === 2, 30_000);
  expect([...(await answers(url, 16))].sort()).toEqual(["pod1", "pod2"]);

  await runningPod("echo-2", p2!.ip, false);
  await waitFor("pod2 taken out", async () => {
    const seen = await answers(url, 8);
    return seen.size === 1 && seen.has("pod1");
  }, 30_000);
}, 90_000);
