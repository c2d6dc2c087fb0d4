// The scheduling queue, as upstream's PriorityQueue: an active heap (higher priority first, then older first),
// a backoff area (1 s doubling to 10 s per attempt), and an unschedulable pool whose pods are moved back when the
// cluster changes (or after 5 minutes at most).

import type { Pod } from "kubernetes-types/core/v1";

export interface QueuedPod {
  key: string;
  pod: Pod;
  priority: number;
  /** When it last entered the active queue (orders equal priorities). */
  timestamp: number;
  attempts: number;
  /** Time of the last failed attempt. */
  failedAt: number;
  where: "active" | "backoff" | "unschedulable" | "inflight";
  /** Plugins that rejected it last time; cluster events that cannot help those plugins leave it in the pool. */
  rejectedBy: Set<string>;
}

export interface QueueOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxUnschedulableMs?: number;
}

class Heap<T> {
  private a: T[] = [];
  constructor(private less: (x: T, y: T) => boolean) {}
  get size(): number {
    return this.a.length;
  }
  push(x: T): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
  remove(pred: (x: T) => boolean): void {
    const keep = this.a.filter((x) => !pred(x));
    if (keep.length === this.a.length) return;
    this.a = [];
    for (const x of keep) this.push(x);
  }
}

export class SchedulingQueue {
  private items = new Map<string, QueuedPod>();
  /** Lazily-deleted heap: entries whose `where` is no longer "active" are skipped on pop. */
  private active = new Heap<QueuedPod>((x, y) => (x.priority !== y.priority ? x.priority > y.priority : x.timestamp < y.timestamp));
  private activeCount = 0;
  /** Pods in the unschedulable pool, so cluster events cost nothing when it is empty. */
  private pool = new Set<QueuedPod>();
  private waiter?: (q: QueuedPod | undefined) => void;
  private closed = false;
  private timer?: ReturnType<typeof setInterval>;
  /** Counts scheduling attempts; a move request during an attempt sends its failure to backoff, not the pool. */
  private cycle = 0;
  private moveRequestCycle = -1;
  private initialBackoff: number;
  private maxBackoff: number;
  private maxUnschedulable: number;

  constructor(opts: QueueOptions = {}) {
    this.initialBackoff = opts.initialBackoffMs ?? 1000;
    this.maxBackoff = opts.maxBackoffMs ?? 10_000;
    this.maxUnschedulable = opts.maxUnschedulableMs ?? 300_000;
    this.timer = setInterval(() => this.flush(), Math.min(1000, this.initialBackoff));
    (this.timer as any).unref?.();
  }

  get length(): number {
    return this.items.size;
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  get(key: string): QueuedPod | undefined {
    return this.items.get(key);
  }

  stats(): { active: number; backoff: number; unschedulable: number; inflight: number } {
    const s = { active: 0, backoff: 0, unschedulable: 0, inflight: 0 };
    for (const q of this.items.values()) s[q.where]++;
    return s;
  }

  private toActive(q: QueuedPod): void {
    this.pool.delete(q);
    q.where = "active";
    q.timestamp = performance.now();
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      q.where = "inflight";
      this.cycle++;
      w(q);
      return;
    }
    this.active.push(q);
    this.activeCount++;
  }

  /** A new pending pod, or an update of one already queued. */
  add(key: string, pod: Pod): void {
    if (this.closed) return;
    const cur = this.items.get(key);
    if (!cur) {
      const q: QueuedPod = { key, pod, priority: pod.spec?.priority ?? 0, timestamp: 0, attempts: 0, failedAt: 0, where: "active", rejectedBy: new Set() };
      this.items.set(key, q);
      this.toActive(q);
      return;
    }
    const changed = specChanged(cur.pod, pod);
    cur.pod = pod;
    if (cur.priority !== (pod.spec?.priority ?? 0) && cur.where === "active") {
      // Re-heap with the new priority.
      cur.priority = pod.spec?.priority ?? 0;
      this.active.remove((x) => x === cur);
      this.active.push(cur);
    }
    cur.priority = pod.spec?.priority ?? 0;
    // An unschedulable pod whose spec or labels changed may fit now.
    if (changed && cur.where === "unschedulable") this.requeue(cur);
  }

  delete(key: string): void {
    const q = this.items.get(key);
    if (!q) return;
    this.items.delete(key);
    if (q.where === "active") this.activeCount--;
    this.pool.delete(q);
    q.where = "inflight"; // makes the heap entry stale
  }

  /** Next pod to schedule, or undefined once closed. */
  pop(): Promise<QueuedPod | undefined> {
    while (this.activeCount > 0) {
      const q = this.active.pop()!;
      if (q.where !== "active" || this.items.get(q.key) !== q) continue;
      this.activeCount--;
      q.where = "inflight";
      this.cycle++;
      return Promise.resolve(q);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** The attempt succeeded (pod assumed): it leaves the queue. */
  done(key: string): void {
    const q = this.items.get(key);
    if (q && q.where === "inflight") this.items.delete(key);
  }

  backoffMs(q: QueuedPod): number {
    let d = this.initialBackoff;
    for (let i = 1; i < q.attempts && d < this.maxBackoff; i++) d *= 2;
    return Math.min(d, this.maxBackoff);
  }

  /**
   * The attempt failed. Unschedulable pods wait in the pool for a cluster change, unless one happened during the
   * attempt; errors (API failures) go straight to backoff.
   */
  failed(key: string, kind: "unschedulable" | "error", rejectedBy: Iterable<string> = []): void {
    const q = this.items.get(key);
    if (!q || q.where !== "inflight") return;
    q.rejectedBy = new Set(rejectedBy);
    q.attempts++;
    q.failedAt = Date.now();
    if (kind === "error" || this.moveRequestCycle >= this.cycle) q.where = "backoff";
    else {
      q.where = "unschedulable";
      this.pool.add(q);
    }
  }

  private requeue(q: QueuedPod): void {
    this.pool.delete(q);
    if (Date.now() - q.failedAt >= this.backoffMs(q)) this.toActive(q);
    else q.where = "backoff";
  }

  /** A cluster event that may make unschedulable pods fit (node added/changed, pod deleted, ...). */
  moveAllToActiveOrBackoff(onlyIfRejectedBy?: string[]): void {
    this.moveRequestCycle = this.cycle;
    if (this.pool.size === 0) return;
    for (const q of [...this.pool]) {
      if (q.where !== "unschedulable") continue;
      // A pod whose rejecting plugins are unknown may be helped by any event.
      if (onlyIfRejectedBy && q.rejectedBy.size > 0 && !onlyIfRejectedBy.some((p) => q.rejectedBy.has(p))) continue;
      this.requeue(q);
    }
  }

  /** Re-adds a pod whose binding failed; it waits out its backoff first. */
  addBackoff(key: string, pod: Pod): void {
    if (this.closed || this.items.has(key)) return;
    const q: QueuedPod = { key, pod, priority: pod.spec?.priority ?? 0, timestamp: 0, attempts: 1, failedAt: Date.now(), where: "backoff", rejectedBy: new Set() };
    this.items.set(key, q);
  }

  /** Backoff expiry and the unschedulable pool's time limit. */
  flush(): void {
    const now = Date.now();
    for (const q of this.items.values()) {
      if (q.where === "backoff" && now - q.failedAt >= this.backoffMs(q)) this.toActive(q);
      else if (q.where === "unschedulable" && now - q.failedAt >= this.maxUnschedulable) this.requeue(q);
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const w = this.waiter;
    this.waiter = undefined;
    w?.(undefined);
  }
}

/** Did anything the scheduler looks at change (not just status)? */
function specChanged(a: Pod, b: Pod): boolean {
  return (
    JSON.stringify(a.spec) !== JSON.stringify(b.spec) ||
    JSON.stringify(a.metadata?.labels ?? {}) !== JSON.stringify(b.metadata?.labels ?? {})
  );
}
