// Prometheus metrics in the text exposition format, with upstream's metric names where they exist.
// Hand-written: prom-client would pull in more than the ~80 lines needed for counters and histograms.
import type { Store } from "../store/types.ts";

const BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 5, 10, 30, 60];
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

class Histogram {
  private series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    private name: string,
    private help: string,
    private buckets: number[],
  ) {}
  observe(labels: string, v: number): void {
    let s = this.series.get(labels);
    if (!s) this.series.set(labels, (s = { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) s.counts[i]!++;
    s.sum += v;
    s.count++;
  }
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`);
    for (const [labels, s] of this.series) {
      const sep = labels ? "," : "";
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket{${labels}${sep}le="${b}"} ${s.counts[i]}`));
      out.push(`${this.name}_bucket{${labels}${sep}le="+Inf"} ${s.count}`);
      out.push(`${this.name}_sum{${labels}} ${s.sum}`, `${this.name}_count{${labels}} ${s.count}`);
    }
  }
}

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

class Metrics {
  private requests = new Map<string, number>();
  private duration = new Histogram("apiserver_request_duration_seconds", "Response latency distribution in seconds for each verb and resource.", BUCKETS);
  private storeDuration = new Histogram("apiserver_storage_request_duration_seconds", "Store operation latency in seconds by operation.", STORE_BUCKETS);
  private watcherCounts = new Map<string, number>();
  private inflight = { mutating: 0, readOnly: 0 };

  /** Escaped label text per verb and resource, made once (every request records itself; names come from URLs, so bounded). */
  private labelCache = new Map<string, string>();
  private labels(verb: string, resource: string): string {
    const id = `${verb}\u0000${resource}`;
    let l = this.labelCache.get(id);
    if (l === undefined) {
      l = `verb="${esc(verb.toUpperCase())}",resource="${esc(resource)}"`;
      if (this.labelCache.size < 4096) this.labelCache.set(id, l);
    }
    return l;
  }

  request(verb: string, resource: string, code: number, seconds: number): void {
    const labels = this.labels(verb, resource);
    const key = `${labels},code="${code}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    if (verb !== "WATCH") this.duration.observe(labels, seconds);
  }
  store(op: string, seconds: number): void {
    this.storeDuration.observe(`operation="${op}"`, seconds);
  }
  watchers(resource: string, delta: number): void {
    this.watcherCounts.set(resource, (this.watcherCounts.get(resource) ?? 0) + delta);
  }
  private collectors = new Set<(out: string[]) => void>();
  /** Series another part of the server renders itself at scrape time (API Priority and Fairness); returns the remover. */
  addCollector(fn: (out: string[]) => void): () => void {
    this.collectors.add(fn);
    return () => this.collectors.delete(fn);
  }
  setInflight(kind: "mutating" | "readOnly", n: number): void {
    this.inflight[kind] = n;
  }
  /** objects: stored object counts per resource ("pods" or "deployments.apps"), gathered at scrape time. */
  render(objects?: Map<string, number>): string {
    const out: string[] = [];
    if (objects) {
      out.push("# HELP apiserver_storage_objects Number of stored objects at the time of last check split by kind.");
      out.push("# TYPE apiserver_storage_objects gauge");
      for (const [k, v] of objects) out.push(`apiserver_storage_objects{resource="${esc(k)}"} ${v}`);
    }
    out.push("# HELP apiserver_request_total Counter of apiserver requests broken out for each verb, resource and HTTP response code.");
    out.push("# TYPE apiserver_request_total counter");
    for (const [k, v] of this.requests) out.push(`apiserver_request_total{${k}} ${v}`);
    this.duration.render(out);
    this.storeDuration.render(out);
    out.push("# HELP apiserver_registered_watchers Number of currently registered watchers for a given resource.");
    out.push("# TYPE apiserver_registered_watchers gauge");
    for (const [k, v] of this.watcherCounts) out.push(`apiserver_registered_watchers{resource="${esc(k)}"} ${v}`);
    out.push("# HELP apiserver_current_inflight_requests Maximal number of currently used inflight request limit of this apiserver per request kind.");
    out.push("# TYPE apiserver_current_inflight_requests gauge");
    out.push(`apiserver_current_inflight_requests{request_kind="mutating"} ${this.inflight.mutating}`);
    out.push(`apiserver_current_inflight_requests{request_kind="readOnly"} ${this.inflight.readOnly}`);
    for (const collect of this.collectors) collect(out);
    const mem = process.memoryUsage();
    out.push("# TYPE process_resident_memory_bytes gauge", `process_resident_memory_bytes ${mem.rss}`);
    return out.join("\n") + "\n";
  }
}

/** One registry per process, like Prometheus' default registry. */
export const metrics = new Metrics();

const TIMED = ["get", "list", "count", "create", "update", "delete", "compact"] as const;

/** Wraps a store so that every call is timed into apiserver_storage_request_duration_seconds. */
export function instrumentStore(store: Store): Store {
  const wrapped: Store = Object.create(store);
  for (const op of TIMED) {
    const fn = (store as any)[op].bind(store);
    (wrapped as any)[op] = async (...args: unknown[]) => {
      const t = performance.now();
      try {
        return await fn(...args);
      } finally {
        metrics.store(op, (performance.now() - t) / 1000);
      }
    };
  }
  for (const op of ["watch", "currentRevision", "compactRevision", "close"] as const) {
    (wrapped as any)[op] = (store as any)[op].bind(store);
  }
  return wrapped;
}
