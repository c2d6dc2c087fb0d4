// metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics (get, list; label and field selectors; namespaced pods),
// served from the scraper's last points as metrics-server serves them: labels copied from the Node or Pod,
// creationTimestamp = now, usage with the point's timestamp and window. Objects without two points yet are
// left out of lists and are NotFound on get (upstream's "podmetrics.metrics.k8s.io \"ns/name\" not found").
import { decode, type KObject } from "../objects.ts";
import { findResource, storagePrefix } from "../../api/resources.ts";
import { matches, parseSelectors } from "../listing.ts";
import type { Rest } from "../rest.ts";
import { json, renderObject, renderObjects, rendering } from "../respond.ts";
import { milliValue, quantityValue } from "../../api/quantity.ts";
import { methodNotAllowed, StatusError } from "../../api/status.ts";
import { cpuQuantity, goDuration, memoryQuantity } from "./format.ts";
import type { MetricsScraper } from "./scraper.ts";

const GV = "metrics.k8s.io/v1beta1";

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

function notFound(resource: "nodemetrics" | "podmetrics", name: string): StatusError {
  return new StatusError(404, "NotFound", `${resource}.metrics.k8s.io "${name}" not found`, { name, group: "metrics.k8s.io", kind: resource });
}

function meta(obj: KObject, now: string): Record<string, unknown> {
  const m: Record<string, unknown> = { name: obj.metadata.name };
  if (obj.metadata.namespace) m.namespace = obj.metadata.namespace;
  m.creationTimestamp = now;
  if (obj.metadata.labels) m.labels = obj.metadata.labels;
  return m;
}

function nodeMetrics(scraper: MetricsScraper, node: KObject, now: string): KObject | undefined {
  const u = scraper.nodeUsage(node.metadata.name);
  if (!u) return undefined;
  return {
    kind: "NodeMetrics",
    apiVersion: GV,
    metadata: meta(node, now),
    timestamp: iso(u.timestamp),
    window: goDuration(u.windowMs),
    usage: { cpu: cpuQuantity(u.nanoCores), memory: memoryQuantity(u.memoryBytes) },
  } as KObject;
}

function podMetrics(scraper: MetricsScraper, pod: KObject, now: string): KObject | undefined {
  const u = scraper.podUsage(pod.metadata.namespace, pod.metadata.name);
  if (!u) return undefined;
  return {
    kind: "PodMetrics",
    apiVersion: GV,
    metadata: meta(pod, now),
    timestamp: iso(u.timestamp),
    window: goDuration(u.windowMs),
    containers: u.containers.map((c) => ({ name: c.name, usage: { cpu: cpuQuantity(c.usage.nanoCores), memory: memoryQuantity(c.usage.memoryBytes) } })),
  } as KObject;
}

/** metrics-server's Table (kubectl get pods.metrics.k8s.io): Name, cpu, memory (pods: summed over containers), Window. */
function metricsTable(items: KObject[], includeObject: string | undefined): Record<string, unknown> {
  const q = (s: string) => ({ name: s, type: "string", format: "quantity", description: "", priority: 0 });
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: {},
    columnDefinitions: [{ name: "Name", type: "string", format: "name", description: "Name of the resource", priority: 0 }, q("cpu"), q("memory"), { name: "Window", type: "string", format: "duration", description: "", priority: 0 }],
    rows: items.map((o) => {
      const usages = o.usage ? [o.usage] : (o.containers ?? []).map((c: any) => c.usage);
      const cpu = usages.reduce((n: number, u: any) => n + milliValue(u.cpu ?? "0") * 1e6, 0);
      const mem = usages.reduce((n: number, u: any) => n + quantityValue(u.memory ?? "0"), 0);
      const object = includeObject === "None" ? undefined : includeObject === "Object" ? o : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata };
      return { cells: [o.metadata.name, cpuQuantity(cpu), memoryQuantity(mem), o.window], ...(object ? { object } : {}) };
    }),
  };
}

export async function handleMetrics(r: Rest, method: string, scraper: MetricsScraper | undefined): Promise<Response> {
  if (method !== "GET" || (r.info.verb !== "get" && r.info.verb !== "list") || r.subresource) throw methodNotAllowed();
  const nodes = r.ri.resource === "nodes";
  const source = findResource("", "v1", nodes ? "nodes" : "pods")!;
  const now = iso(Date.now());
  const build = (o: KObject) => (scraper ? (nodes ? nodeMetrics(scraper, o, now) : podMetrics(scraper, o, now)) : undefined);
  if (r.name) {
    const key = nodes ? `${storagePrefix(source)}${r.name}` : `${storagePrefix(source)}${r.namespace}/${r.name}`;
    const { kv } = await r.deps.store.get(key);
    const obj = kv ? build(decode(kv)) : undefined;
    if (!obj) throw notFound(nodes ? "nodemetrics" : "podmetrics", nodes ? r.name : `${r.namespace}/${r.name}`);
    if (rendering(r.c) === "table") return json(r.c, metricsTable([obj], r.q.get("includeObject") ?? undefined));
    return renderObject(r.c, r.deps, r.ri, obj);
  }
  const sel = parseSelectors(r.ri, r.q);
  const prefix = nodes || !r.namespace ? storagePrefix(source) : `${storagePrefix(source)}${r.namespace}/`;
  const { items: kvs } = await r.deps.store.list(prefix);
  const items: KObject[] = [];
  for (const kv of kvs) {
    const o = build(decode(kv));
    if (o && matches(r.ri, sel, o)) items.push(o);
  }
  if (rendering(r.c) === "table") return json(r.c, metricsTable(items, r.q.get("includeObject") ?? undefined));
  return renderObjects(r.c, r.deps, r.ri, items, { resourceVersion: "" });
}
