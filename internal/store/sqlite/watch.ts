// Watch delivery. One hub per store turns new log rows into events once and fans them out to all watchers:
// writes committed by this process (durable and volatile) are handed over right after COMMIT (no query), and a
// shared poller (a cheap `SELECT max(id)`, ~1/s) notices rows written by another process on the same file.
// A watcher that starts in the past, or falls too far behind (slow consumer), reads its backlog from the log and the
// volatile history (merged in revision order) and then rejoins the live stream — so memory per watcher stays bounded
// and there are never gaps or duplicates.
import type { Database } from "bun:sqlite";
import type { Logger } from "../../log/log.ts";
import { PendingBatches } from "../pending.ts";
import { prefixEnd } from "../keys.ts";
import { CompactedError, type KeyValue, type WatchEvent } from "../types.ts";
import { type EventRow, type Queries, rowToKV } from "./queries.ts";
import type { Revisions } from "./revisions.ts";
import type { VolatileLog } from "./volatile.ts";
import type { Commit } from "./writer.ts";

const PAGE = 500;
/** Events a watcher may hold in memory before it is switched to reading its backlog from the log. */
const MAX_QUEUED = 2000;

export interface WatchHubDeps {
  db: Database;
  q: Queries;
  volatile: VolatileLog;
  revisions: Revisions;
  compactRevision: () => number;
  /** Told about every delivered event (the TTL sweeper learns expiries written by other processes). */
  observe: (events: WatchEvent[]) => void;
  /** Rows another process wrote were seen (or this process's revisions were reordered): caches of the log are stale. */
  foreignRows: () => void;
  log: Logger;
  pollMs: number;
}

export class WatchHub {
  /** Every revision <= lastSeen has been delivered to the live watchers. */
  lastSeen: number;
  /** Every database row with id <= dbSeen has been delivered (volatile revisions make the two differ). */
  private dbSeen: number;
  private watchers = new Set<Watcher>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private warnedReorder = false;

  constructor(private d: WatchHubDeps) {
    this.dbSeen = this.dbRevision();
    this.lastSeen = Math.max(this.dbSeen, d.revisions.current);
    this.timer = setInterval(() => this.sync(), d.pollMs);
    this.timer.unref?.();
  }

  /** max(id) of the database. */
  dbRevision(): number {
    return this.d.q.currentRevision.get()?.seq ?? 0;
  }

  /** A batch this process just committed. Rows another process added before it are delivered first. */
  committed(c: Commit): void {
    if (c.dbBefore > this.dbSeen) this.readUpTo(c.dbBefore);
    this.deliver(c.events);
    this.lastSeen = c.events[c.events.length - 1]!.kv.modRevision;
    if (c.dbAfter > this.dbSeen) this.dbSeen = c.dbAfter;
  }

  /** Catches up with the database (poll tick, and before a new watcher starts); returns its max(id). */
  sync(): number {
    const rev = this.dbRevision();
    if (rev > this.dbSeen) this.readUpTo(rev);
    return rev;
  }

  /** Delivers the rows other processes wrote, up to id `to`. */
  private readUpTo(to: number): void {
    this.d.revisions.observe(to);
    this.d.foreignRows();
    if (this.watchers.size === 0) {
      // Nobody listens: skip reading values, but let the sweeper know expiries may have changed.
      this.dbSeen = to;
      this.lastSeen = Math.max(this.lastSeen, to);
      this.d.observe([]);
      return;
    }
    while (this.dbSeen < to) {
      let compacted = 0;
      let rows: EventRow[] = [];
      this.d.db.transaction(() => {
        compacted = this.d.compactRevision();
        rows = this.d.q.eventsAll.all({ from: this.dbSeen, to, limit: PAGE });
      })();
      const events = rows.map(rowToEvent);
      const fresh = events.filter((e) => e.kv.modRevision > this.lastSeen);
      if (fresh.length < events.length) {
        this.reordered();
      } else if (compacted > this.dbSeen) {
        // Another process compacted past what we delivered: live watchers must re-read (and get CompactedError).
        for (const w of this.watchers) w.lag();
      }
      if (fresh.length > 0) this.deliver(fresh);
      this.dbSeen = rows.length < PAGE ? to : rows[rows.length - 1]!.id;
      this.lastSeen = Math.max(this.lastSeen, this.dbSeen);
    }
  }

  /**
   * Another process wrote rows with revisions this process had already handed out to volatile writes (it cannot
   * see them). Watchers cannot get those rows in order any more: end them with CompactedError (clients relist),
   * and refuse watches and lists from before this point.
   */
  private reordered(): void {
    if (!this.warnedReorder) {
      this.warnedReorder = true;
      this.d.log.warn("another process writes this database while volatile keys are in use; watchers restart", {
        revision: this.lastSeen,
      });
    }
    this.d.volatile.watermark = Math.max(this.d.volatile.watermark, this.lastSeen);
    for (const w of [...this.watchers]) w.fail(this.lastSeen);
  }

  private deliver(events: WatchEvent[]): void {
    this.d.observe(events);
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

  /**
   * Reads one page of a lagging watcher's backlog in (from, lastSeen], consistent with the watermark: log rows
   * merged with the volatile events of the same revisions.
   */
  backlog(prefix: string, from: number): { events: WatchEvent[]; upTo: number } {
    let compacted = 0;
    let rows: EventRow[] = [];
    const to = this.lastSeen;
    const volatile = this.d.volatile.overlaps(prefix);
    // A prefix inside a volatile prefix has no rows in the log.
    const logged = !(volatile && this.d.volatile.covers(prefix));
    this.d.db.transaction(() => {
      compacted = this.d.compactRevision();
      if (logged) rows = this.d.q.eventsInRange.all({ from, to, lo: prefix, end: prefixEnd(prefix), limit: PAGE });
    })();
    if (from < compacted) throw new CompactedError(from, compacted);
    const upTo = rows.length < PAGE ? to : rows[rows.length - 1]!.id;
    const events = rows.map(rowToEvent);
    return { events: volatile ? mergeByRevision(events, this.d.volatile.eventsIn(prefix, from, upTo)) : events, upTo };
  }

  close(): void {
    clearInterval(this.timer);
    for (const w of [...this.watchers]) w.close();
  }
}

function mergeByRevision(a: WatchEvent[], b: WatchEvent[]): WatchEvent[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: WatchEvent[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.kv.modRevision < b[j]!.kv.modRevision)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}

export class Watcher implements AsyncIterable<WatchEvent[]> {
  /** Every event with revision <= pos has been queued or yielded. */
  private pos: number;
  /** Events after pos are not queued: read them from the log. */
  private lagging: boolean;
  private pending = new PendingBatches();
  private closed = false;
  private startError: Error | undefined;
  private failure: Error | undefined;

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
    if (this.lagging || this.failure || last <= this.pos) return;
    const fresh = batch[0] && batch[0].kv.modRevision <= this.pos ? batch.filter((e) => e.kv.modRevision > this.pos) : batch;
    if (fresh.length > 0) {
      if (this.pending.size + fresh.length > MAX_QUEUED) {
        // Slow consumer: stop buffering, it will read from the log (and get CompactedError if it falls out of history).
        this.lagging = true;
        this.notify();
        return;
      }
      this.pending.push(fresh);
      this.notify();
    }
    this.pos = last;
  }

  lag(): void {
    this.lagging = true;
    this.notify();
  }

  /** Ends the watch with CompactedError once what is queued has been read. */
  fail(compacted: number): void {
    this.failure = new CompactedError(this.pos, compacted);
    this.notify();
  }

  close(): void {
    this.closed = true;
    this.hub.remove(this);
    this.notify();
  }

  private notify(): void {
    this.pending.notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent[]> {
    try {
      if (this.startError) throw this.startError;
      while (!this.closed) {
        const batch = this.pending.take();
        if (batch) {
          yield batch;
          continue;
        }
        if (this.failure) throw this.failure;
        if (this.lagging) {
          const { events, upTo } = this.hub.backlog(this.prefix, this.pos);
          this.pos = upTo;
          if (upTo >= this.hub.lastSeen) this.lagging = false;
          if (events.length > 0) yield events;
          continue;
        }
        await this.pending.wait();
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
