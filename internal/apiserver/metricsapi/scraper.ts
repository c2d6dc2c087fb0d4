// metrics-server's design inside the API server: every interval (default 15 s) scrape /metrics/resource of
// each Ready node's kubelet (the same verified TLS and one-kubelet token as logs/exec), keep the last two
// points of every container and node, and compute CPU rates from the cumulative counters. Memory only; nothing
// is written to disk. With several API servers each scrapes on its own (the answers agree within a window).
import type { ApiServerDeps } from "../deps.ts";
import { decode, type KObject } from "../objects.ts";
import { findResource, storagePrefix } from "../../api/resources.ts";
import { kubeletConnection, kubeletEndpoint } from "../subresources/kubelet.ts";
import { parseResourceMetrics } from "./promtext.ts";

export const DEFAULT_SCRAPE_INTERVAL_MS = 15_000;
const SCRAPE_TIMEOUT_MS = 10_000;
const SCRAPE_CONCURRENCY = 16;

interface RawPoint {
  /** ms since the epoch (the kubelet's sample time). */
  time: number;
  cpuSeconds: number;
  memory: number;
}

interface Series {
  prev?: RawPoint;
  last: RawPoint;
}

/** A usage figure ready to serve: rate over [timestamp - window, timestamp]. */
export interface Usage {
  timestamp: number;
  windowMs: number;
  nanoCores: number;
  memoryBytes: number;
}

export interface PodUsage {
  timestamp: number;
  windowMs: number;
  containers: { name: string; usage: Usage }[];
}

interface NodeState {
  node?: Series;
  /** "<namespace>/<pod>" → container → series */
  pods: Map<string, Map<string, Series>>;
}

function advance(s: Series | undefined, p: RawPoint): Series {
  if (!s) return { last: p };
  if (p.time <= s.last.time) return s; // the kubelet has not sampled again since the last scrape
  // A counter that went backwards is a restarted container: start its history over.
  if (p.cpuSeconds < s.last.cpuSeconds) return { last: p };
  return { prev: s.last, last: p };
}

function usageOf(s: Series | undefined): Usage | undefined {
  if (!s?.prev) return undefined;
  const windowMs = s.last.time - s.prev.time;
  return { timestamp: s.last.time, windowMs, nanoCores: ((s.last.cpuSeconds - s.prev.cpuSeconds) * 1e9 * 1000) / windowMs, memoryBytes: s.last.memory };
}

export class MetricsScraper {
  private nodes = new Map<string, NodeState>();
  /** Consecutive failed scrapes per node and the rounds still to skip. */
  private failures = new Map<string, { count: number; skip: number }>();
  private timer?: ReturnType<typeof setTimeout>;
  private running?: Promise<void>;
  private stopped = false;
  readonly intervalMs: number;

  constructor(
    private deps: Pick<ApiServerDeps, "store" | "kubeletClient" | "log">,
    intervalMs?: number,
  ) {
    this.intervalMs = intervalMs ?? DEFAULT_SCRAPE_INTERVAL_MS;
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.scrapeAll().catch((e) => this.deps.log.warn("metrics scrape failed", { err: String(e) }));
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, this.intervalMs);
    };
    this.timer = setTimeout(loop, 0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  nodeUsage(name: string): Usage | undefined {
    return usageOf(this.nodes.get(name)?.node);
  }

  /** Every node with a usage figure. */
  nodeNames(): string[] {
    return [...this.nodes.keys()].filter((n) => this.nodeUsage(n));
  }

  /** A pod's containers, only when each container seen in the last scrape has a rate (as metrics-server). */
  podUsage(namespace: string, name: string): PodUsage | undefined {
    const key = `${namespace}/${name}`;
    for (const st of this.nodes.values()) {
      const cs = st.pods.get(key);
      if (!cs) continue;
      const containers: PodUsage["containers"] = [];
      for (const [cname, s] of cs) {
        const u = usageOf(s);
        if (!u) return undefined;
        containers.push({ name: cname, usage: u });
      }
      if (!containers.length) return undefined;
      containers.sort((a, b) => (a.name < b.name ? -1 : 1));
      // The pod's point is its oldest container's, its window the widest (metrics-server takes the same approach).
      return { timestamp: Math.min(...containers.map((c) => c.usage.timestamp)), windowMs: Math.max(...containers.map((c) => c.usage.windowMs)), containers };
    }
    return undefined;
  }

  /** Runs one scrape of every Ready node now (the timer calls it too). */
  async scrapeAll(): Promise<void> {
    const nodesRI = findResource("", "v1", "nodes")!;
    const { items: kvs } = await this.deps.store.list(storagePrefix(nodesRI));
    // Hollow nodes (scale tests) have no kubelet API to scrape.
    const ready = kvs
      .map((kv) => decode(kv))
      .filter((n) => n.metadata.annotations?.["kubun.io/hollow"] !== "true" && n.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"));
    const names = new Set(ready.map((n) => n.metadata.name as string));
    for (const n of this.nodes.keys()) if (!names.has(n)) this.nodes.delete(n);
    for (const n of this.failures.keys()) if (!names.has(n)) this.failures.delete(n);
    // A kubelet that keeps failing is tried less often (every 2nd, 4th, ... up to every 16th round), and at most
    // SCRAPE_CONCURRENCY scrapes run at once, so unreachable nodes cost the server little.
    const due = ready.filter((n) => {
      const f = this.failures.get(n.metadata.name);
      if (!f) return true;
      if (--f.skip > 0) return false;
      return true;
    });
    let next = 0;
    const worker = async () => {
      while (next < due.length) await this.scrapeNode(due[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(SCRAPE_CONCURRENCY, due.length) }, worker));
  }

  private async scrapeNode(node: KObject): Promise<void> {
    const name = node.metadata.name as string;
    let text: string;
    try {
      const conn = await kubeletConnection(this.deps, name);
      const res = await fetch(`https://${kubeletEndpoint(node)}/metrics/resource`, {
        headers: conn.headers,
        tls: conn.tls,
        signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS),
      } as RequestInit);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } catch (e) {
      const f = this.failures.get(name) ?? { count: 0, skip: 0 };
      f.count++;
      f.skip = Math.min(2 ** (f.count - 1), 16);
      this.failures.set(name, f);
      if (f.count === 1) this.deps.log.warn("kubelet metrics scrape failed", { node: name, err: String((e as Error).message ?? e) });
      return;
    }
    this.failures.delete(name);
    const st: NodeState = this.nodes.get(name) ?? { pods: new Map() };
    const raw = new Map<string, Partial<RawPoint> & { ns?: string; pod?: string; container?: string }>();
    for (const s of parseResourceMetrics(text)) {
      const time = s.timestamp ?? Date.now();
      const isNode = s.name.startsWith("node_");
      const key = isNode ? "" : `${s.labels.namespace}/${s.labels.pod}/${s.labels.container}`;
      const p = raw.get(key) ?? { ns: s.labels.namespace, pod: s.labels.pod, container: s.labels.container };
      if (s.name.endsWith("_cpu_usage_seconds_total")) {
        p.cpuSeconds = s.value;
        p.time = time;
      } else p.memory = s.value;
      raw.set(key, p);
    }
    const pods = new Map<string, Map<string, Series>>();
    for (const [key, p] of raw) {
      if (p.cpuSeconds === undefined || p.time === undefined) continue;
      const point: RawPoint = { time: p.time, cpuSeconds: p.cpuSeconds, memory: p.memory ?? 0 };
      if (key === "") {
        st.node = advance(st.node, point);
        continue;
      }
      if (!p.ns || !p.pod || !p.container) continue;
      const podKey = `${p.ns}/${p.pod}`;
      const cs = pods.get(podKey) ?? new Map<string, Series>();
      cs.set(p.container, advance(st.pods.get(podKey)?.get(p.container), point));
      pods.set(podKey, cs);
    }
    st.pods = pods; // pods and containers no longer reported are forgotten
    this.nodes.set(name, st);
  }
}
