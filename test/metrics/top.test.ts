// Resource metrics end to end with real containers: the kubelet's /metrics/resource and /stats/summary (through
// the API server's nodes/proxy), metrics.k8s.io NodeMetrics/PodMetrics (discovery, get, list, selectors,
// namespaces, NotFound) and `kubectl top nodes|pods [-A] [--containers]` showing a busy container's CPU.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { refs } from "../../internal/client/refs.ts";
import { busyPod, startMetricsEnv, waitFor, type MetricsEnv } from "./env.ts";
import { milliValue, quantityValue } from "../../internal/api/quantity.ts";

let env: MetricsEnv;

beforeAll(async () => {
  env = await startMetricsEnv(["m1"]);
  await env.client.resource(refs.pods, "default").create(busyPod("busy", "m1", { app: "busy" }));
  await waitFor("pod busy Running", async () => ((await env.client.resource(refs.pods, "default").get("busy")) as any).status?.phase === "Running", 60_000);
}, 120_000);

afterAll(async () => {
  await env?.cleanup();
}, 60_000);

test("kubelet /metrics/resource has upstream's series with container, pod and namespace labels", async () => {
  const text = await waitFor("busy container in /metrics/resource", async () => {
    const res = await env.cluster.api("/api/v1/nodes/m1/proxy/metrics/resource");
    const t = await res.text();
    return res.ok && t.includes('container="burn"') ? t : undefined;
  }, 30_000);
  expect(text).toContain("# TYPE container_cpu_usage_seconds_total counter");
  expect(text).toContain("# TYPE container_memory_working_set_bytes gauge");
  expect(text).toMatch(/^node_cpu_usage_seconds_total [\d.e+]+ \d{13}$/m);
  expect(text).toMatch(/^node_memory_working_set_bytes \d+ \d{13}$/m);
  expect(text).toMatch(/^container_cpu_usage_seconds_total\{container="burn",namespace="default",pod="busy"\} [\d.e+-]+ \d{13}$/m);
  expect(text).toMatch(/^container_memory_working_set_bytes\{container="idle",namespace="default",pod="busy"\} \d+ \d{13}$/m);
  expect(text).toMatch(/^pod_cpu_usage_seconds_total\{namespace="default",pod="busy"\} [\d.e+-]+ \d{13}$/m);
  expect(text).toContain("resource_scrape_error 0");
  // The kubelet's /metrics carries the same usage figures for Prometheus.
  const all = await (await env.cluster.api("/api/v1/nodes/m1/proxy/metrics")).text();
  expect(all).toContain('container_cpu_usage_seconds_total{container="burn",namespace="default",pod="busy"}');
}, 120_000);

test("kubelet /stats/summary has node, pod and container cpu and memory", async () => {
  const s: any = await waitFor("summary with rates", async () => {
    const j: any = await (await env.cluster.api("/api/v1/nodes/m1/proxy/stats/summary")).json();
    const pod = j.pods?.find((p: any) => p.podRef?.name === "busy");
    return pod?.cpu?.usageNanoCores !== undefined && pod.containers.length === 2 ? j : undefined;
  }, 30_000);
  expect(s.node.nodeName).toBe("m1");
  expect(Date.parse(s.node.startTime)).toBeLessThan(Date.now() - 60_000); // the machine's boot, not the agent's start
  expect(s.node.cpu.usageCoreNanoSeconds).toBeGreaterThan(0);
  expect(s.node.memory.workingSetBytes).toBeGreaterThan(0);
  expect(s.node.memory.availableBytes).toBeGreaterThan(0);
  const pod = s.pods.find((p: any) => p.podRef.name === "busy");
  expect(pod.podRef.namespace).toBe("default");
  expect(pod.podRef.uid).toMatch(/^[0-9a-f-]{36}$/);
  const burn = pod.containers.find((c: any) => c.name === "burn");
  expect(burn.cpu.usageCoreNanoSeconds).toBeGreaterThan(0);
  expect(burn.cpu.usageNanoCores).toBeGreaterThan(50_000_000); // a shell loop burns far more than 0.05 cores
  expect(burn.memory.workingSetBytes).toBeGreaterThan(0);
  expect(burn.memory.usageBytes).toBeGreaterThanOrEqual(burn.memory.workingSetBytes);
  expect(pod.memory.workingSetBytes).toBeGreaterThan(0);
}, 120_000);

test("metrics.k8s.io: discovery, APIService, NodeMetrics and PodMetrics with selectors", async () => {
  const disc: any = await (await env.cluster.api("/apis/metrics.k8s.io/v1beta1")).json();
  expect(disc.resources.map((r: any) => `${r.name}:${r.kind}:${r.namespaced}:${r.verbs.join(",")}`).sort()).toEqual(["nodes:NodeMetrics:false:get,list", "pods:PodMetrics:true:get,list"]);
  const svc: any = await (await env.cluster.api("/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io")).json();
  expect(svc.status.conditions[0]).toMatchObject({ type: "Available", status: "True" });

  const pm: any = await waitFor("PodMetrics of busy", async () => {
    const res = await env.cluster.api("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy");
    return res.ok ? res.json() : undefined;
  }, 30_000);
  expect(pm.kind).toBe("PodMetrics");
  expect(pm.apiVersion).toBe("metrics.k8s.io/v1beta1");
  expect(pm.metadata).toMatchObject({ name: "busy", namespace: "default", labels: { app: "busy" } });
  expect(pm.window).toMatch(/^[\d.]+s$/);
  expect(pm.containers.map((c: any) => c.name)).toEqual(["burn", "idle"]);
  expect(milliValue(pm.containers[0].usage.cpu)).toBeGreaterThan(50);
  expect(quantityValue(pm.containers[1].usage.memory)).toBeGreaterThan(0);

  const sel = async (q: string) => ((await (await env.cluster.api(`/apis/metrics.k8s.io/v1beta1/pods?${q}`)).json()) as any).items.map((i: any) => i.metadata.name);
  expect(await sel("labelSelector=app%3Dbusy")).toEqual(["busy"]);
  expect(await sel("labelSelector=app%3Dother")).toEqual([]);
  expect(await sel("fieldSelector=metadata.name%3Dbusy")).toEqual(["busy"]);
  const other: any = await (await env.cluster.api("/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods")).json();
  expect(other.kind).toBe("PodMetricsList");
  expect(other.items).toEqual([]);

  const nm: any = await waitFor("NodeMetrics of m1", async () => {
    const res = await env.cluster.api("/apis/metrics.k8s.io/v1beta1/nodes/m1");
    return res.ok ? res.json() : undefined;
  });
  expect(nm.kind).toBe("NodeMetrics");
  expect(milliValue(nm.usage.cpu)).toBeGreaterThan(50);
  expect(quantityValue(nm.usage.memory)).toBeGreaterThan(0);
  const nodes: any = await (await env.cluster.api("/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=kubernetes.io%2Fhostname%3Dm1")).json();
  expect(nodes.items.map((i: any) => i.metadata.name)).toEqual(["m1"]);

  const missing = await env.cluster.api("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope");
  expect(missing.status).toBe(404);
  expect(((await missing.json()) as any).message).toBe('podmetrics.metrics.k8s.io "default/nope" not found');
  const write = await env.cluster.api("/apis/metrics.k8s.io/v1beta1/nodes/m1", { method: "DELETE" });
  expect(write.status).toBe(405);
}, 120_000);

test("kubectl top nodes / pods [-A] [--containers] show the busy container's CPU", async () => {
  const cpuCol = (line: string, col: number) => Number(/^(\d+)m$/.exec(line.trim().split(/\s+/)[col]!)?.[1] ?? -1);
  const nodes = await env.cluster.kubectl(["top", "nodes"]);
  expect(nodes.stderr).toBe("");
  const nl = nodes.stdout.trim().split("\n");
  expect(nl[0]).toMatch(/^NAME\s+CPU\(cores\)\s+CPU(\(%\)|%)\s+MEMORY\(bytes\)\s+MEMORY(\(%\)|%)\s*$/);
  expect(cpuCol(nl.find((l) => l.startsWith("m1 "))!, 1)).toBeGreaterThan(50);

  const pods = await env.cluster.kubectl(["top", "pods"]);
  expect(pods.code).toBe(0);
  const pl = pods.stdout.trim().split("\n");
  expect(pl[0]).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/);
  expect(cpuCol(pl.find((l) => l.startsWith("busy "))!, 1)).toBeGreaterThan(50);

  const all = await env.cluster.kubectl(["top", "pods", "-A"]);
  expect(all.stdout.split("\n")[0]).toMatch(/^NAMESPACE\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
  expect(all.stdout).toMatch(/^default\s+busy\s+\d+m\s+\d+Mi/m);

  const cs = await env.cluster.kubectl(["top", "pods", "busy", "--containers"]);
  expect(cs.code).toBe(0);
  const burn = cs.stdout.split("\n").find((l) => /^busy\s+burn\s/.test(l))!;
  expect(cpuCol(burn, 2)).toBeGreaterThan(50);
  expect(cs.stdout).toMatch(/^busy\s+idle\s+\d+m\s+\d+Mi/m);

  // kubectl get on the Metrics API prints metrics-server's columns.
  const get = await env.cluster.kubectl(["get", "pods.metrics.k8s.io"]);
  expect(get.stdout.split("\n")[0]).toMatch(/^NAME\s+CPU\s+MEMORY\s+WINDOW$/);
  expect(get.stdout).toMatch(/^busy\s+\d+(n|u|m)?\s+\d+(Ki|Mi)?\s+[\d.]+s$/m);
  const sel = await env.cluster.kubectl(["top", "pods", "-l", "app=busy"]);
  expect(sel.stdout).toMatch(/^busy\s/m);
  const none = await env.cluster.kubectl(["top", "pod", "nope"]);
  expect(none.code).not.toBe(0);
  expect(none.stderr).toContain('podmetrics.metrics.k8s.io "default/nope" not found');
}, 120_000);
