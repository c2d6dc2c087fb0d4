// Watch delivery. One hub per store turns new log rows into events once and fans them out to all watchers:
// rows committed by this process are handed over right after COMMIT (no query), and a shared poller (a cheap
// `SELECT max(id)`, ~1/s) notices rows written by another process on the same file.
// A watcher that starts in the past, or falls too far behind (slow consumer), reads its backlog from the log itself
// and then rejoins the live stream — so memory per watcher stays bounded and there are never gaps or duplicates.
import type { Database } from "bun:sqlite";
import { prefixEnd } from "../keys.ts";
import { CompactedError, type KeyValue, type WatchEvent } from "../types.ts";
import { type EventRow, type Queries, rowToKV } from "./queries.ts";

const PAGE = 500;
/** Events a watcher may hold in memory before it is switched to reading its backlog from the log. */
const MAX_QUEUED = 2000;

export class WatchHub {
  /** Every revision <= lastSeen has been delivered to the live watchers. */
  lastSeen: number;
  private watchers = new Set<Watcher>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private db: Database,
    private q: Queries,
    private compactRevision: () => number,
    /** Told about every delivered event (the TTL sweeper learns expiries written by other processes). */
    private observe: (events: WatchEvent[]) => void,
    pollMs: number,
  ) {
    this.lastSeen = this.dbRevision();
    this.timer = setInterval(() => this.sync(), pollMs);
    this.timer.unref?.();
  }

  dbRevision(): number {
    return this.q.currentRevision.get()?.seq ?? 0;
  }

  /** Rows this process just committed (consecutive revisions). */
  committed(events: WatchEvent[]): void {
    const first = events[0]!.kv.modRevision;
    if (first === this.lastSeen + 1) {
      this.deliver(events);
      this.lastSeen = events[events.length - 1]!.kv.modRevision;
    } else {
      // Another process wrote in between: read everything in order from the log.
      this.readUpTo(events[events.length - 1]!.kv.modRevision);
    }
  }

  /** Catches up with the database (poll tick, and before a new watcher starts). */
  sync(): void {
    const rev = this.dbRevision();
    if (rev > this.lastSeen) this.readUpTo(rev);
  }

  private readUpTo(to: number): void {
    if (this.watchers.size === 0) {
      // Nobody listens: skip reading values, but let the sweeper know expiries may have changed.
      this.lastSeen = to;
      this.observe([]);
      return;
    }
    while (this.lastSeen < to) {
      let compacted = 0;
      let rows: EventRow[] = [];
      this.db.transaction(() => {
        compacted = this.compactRevision();
        rows = this.q.eventsAll.all({ from: this.lastSeen, to, limit: PAGE });
      })();
      if (compacted > this.lastSeen) {
        // Another process compacted past what we delivered: live watchers must re-read (and get CompactedError).
        for (const w of this.watchers) w.lag();
      }
      const events = rows.map(rowToEvent);
      if (events.length > 0) this.deliver(events);
      this.lastSeen = rows.length < PAGE ? to : rows[rows.length - 1]!.id;
    }
  }

  private deliver(events: WatchEvent[]): void {
    this.observe(events);
    const last = events[events.length - 1]!.kv.modRevision;
    // Watchers of the same prefix share one filtered batch.
    const byPrefix = new Map<string, WatchEvent[]>();
    for (const w of this.watchers) {
      let batch = byPrefix.get(w.prefix);
      if (!batch) {
        batch = w.prefix === "" ? events : events.filter((e) => e.kv.key.startsWith(w.prefix));
        byPrefix.set(w.prefix, batch);
      }
      w.offer(batch, last);
    }
  }

  add(w: Watcher): void {
    this.watchers.add(w);
  }

  remove(w: Watcher): void {
    this.watchers.delete(w);
  }

  get size(): number {
    return this.watchers.size;
  }

  /** Reads one page of a lagging watcher's backlog in (from, lastSeen], consistent with the watermark. */
  backlog(prefix: string, from: number): { events: WatchEvent[]; upTo: number } {
    let compacted = 0;
    let rows: EventRow[] = [];
    const to = this.lastSeen;
    this.db.transaction(() => {
      compacted = this.compactRevision();
      rows = this.q.eventsInRange.all({ from, to, lo: prefix, end: prefixEnd(prefix), limit: PAGE });
    })();
    if (from < compacted) throw new CompactedError(from, compacted);
    return { events: rows.map(rowToEvent), upTo: rows.length < PAGE ? to : rows[rows.length - 1]!.id };
  }

  close(): void {
    clearInterval(this.timer);
    for (const w of [...this.watchers]) w.close();
  }
}

export class Watcher implements AsyncIterable<WatchEvent[]> {
  /** Every event with revision <= pos has been queued or yielded. */
  private pos: number;
  /** Events after pos are not queued: read them from the log. */
  private lagging: boolean;
  private queue: WatchEvent[][] = [];
  private queued = 0;
  private wake: (() => void) | undefined;
  private closed = false;
  private startError: Error | undefined;

  constructor(
    private hub: WatchHub,
    readonly prefix: string,
    afterRevision: number | undefined,
    compactRevision: number,
    signal?: AbortSignal,
  ) {
    hub.sync();
    if (afterRevision === undefined || afterRevision <= 0) afterRevision = hub.lastSeen;
    if (afterRevision < compactRevision) this.startError = new CompactedError(afterRevision, compactRevision);
    this.pos = afterRevision;
    this.lagging = afterRevision < hub.lastSeen;
    if (signal?.aborted) this.closed = true;
    else {
      signal?.addEventListener("abort", () => this.close(), { once: true });
      hub.add(this);
    }
  }

  /** Live events up to revision `last` (called by the hub, in order). */
  offer(batch: WatchEvent[], last: number): void {
    if (this.lagging || last <= this.pos) return;
    const fresh = batch[0] && batch[0].kv.modRevision <= this.pos ? batch.filter((e) => e.kv.modRevision > this.pos) : batch;
    if (fresh.length > 0) {
      if (this.queued + fresh.length > MAX_QUEUED) {
        // Slow consumer: stop buffering, it will read from the log (and get CompactedError if it falls out of history).
        this.lagging = true;
        this.notify();
        return;
      }
      this.queue.push(fresh);
      this.queued += fresh.length;
      this.notify();
    }
    this.pos = last;
  }

  lag(): void {
    this.lagging = true;
    this.notify();
  }

  close(): void {
    this.closed = true;
    this.hub.remove(this);
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent[]> {
    try {
      if (this.startError) throw this.startError;
      while (!this.closed) {
        if (this.queue.length > 0) {
          const batches = this.queue;
          this.queue = [];
          this.queued = 0;
          yield batches.length === 1 ? batches[0]! : batches.flat();
          continue;
        }
        if (this.lagging) {
          const { events, upTo } = this.hub.backlog(this.prefix, this.pos);
          this.pos = upTo;
          if (upTo >= this.hub.lastSeen) this.lagging = false;
          if (events.length > 0) yield events;
          continue;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      this.close();
    }
  }
}

function kvOf(id: number, name: string, created: boolean, createRevision: number, expiresAt: number | null, value: string | null): KeyValue {
  return rowToKV({ id, name, created, deleted: false, createRevision, prevRevision: 0, expiresAt, value });
}

export function rowToEvent(r: EventRow): WatchEvent {
  const prevKv =
    r.pId != null && !r.pDeleted ? kvOf(r.pId, r.name, !!r.pCreated, r.pCreateRevision ?? 0, r.pExpiresAt, r.pValue) : undefined;
  if (r.deleted) {
    const kv: KeyValue = { key: r.name, value: r.pValue ?? "", createRevision: r.createRevision, modRevision: r.id };
    return prevKv ? { type: "DELETE", kv, prevKv } : { type: "DELETE", kv };
  }
  const kv = rowToKV(r);
  return r.created ? { type: "PUT", kv, created: true } : prevKv ? { type: "PUT", kv, prevKv } : { type: "PUT", kv };
}
