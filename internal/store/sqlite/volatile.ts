// Volatile keys: revisioned exactly like durable keys — revisions from the same global counter, the same reads as of
// a revision, the same conflict rules and watch events, interleaved in revision order — but held in memory only and
// never written to the database file.
//
// Why: on a single SQLite server every idle write is a heartbeat. Leader-election Leases renew every 2 s and node
// Leases every 10 s (upstream timings), and one durable commit costs ~9 KiB of disk, i.e. tens of MB/hour on an SD
// card. A Lease is worthless after a restart anyway: its holders renew (or recreate it) within one renew interval.
// The price: a restart or crash loses volatile keys (documented in store.ts), and another process opening the same
// file does not see them. The etcd backend keeps Leases shared and durable (HA needs that).
import { prefixEnd } from "../keys.ts";
import type { KeyValue, WatchEvent } from "../types.ts";
import { type LogRow, rowToKV } from "./queries.ts";

export class VolatileLog {
  /** Each key's rows, oldest first: the rows the log table would hold for it. */
  private history = new Map<string, LogRow[]>();
  /** The keys of `history` in key order, for lists. (JS string order = SQLite's for the ASCII keys we store.) */
  private sorted: string[] = [];
  /** Events of committed volatile writes in revision order, for watchers that read their backlog. */
  private events: WatchEvent[] = [];
  /** Revisions at or below this are gone from memory: compacted, or lost with a previous process. */
  watermark = 0;

  constructor(readonly prefixes: readonly string[]) {}

  get enabled(): boolean {
    return this.prefixes.length > 0;
  }

  /** Key is volatile. */
  covers(key: string): boolean {
    for (const p of this.prefixes) if (key.startsWith(p)) return true;
    return false;
  }

  /** Some volatile key may start with prefix (a list or watch of prefix must look here too). */
  overlaps(prefix: string): boolean {
    return this.prefixes.some((p) => p.startsWith(prefix) || prefix.startsWith(p));
  }

  /** Newest row of key (live, tombstone or expired). */
  latest(key: string): LogRow | undefined {
    const h = this.history.get(key);
    return h?.[h.length - 1];
  }

  /** Live keys starting with prefix, greater than `after`, as of revision rev, in key order. */
  range(prefix: string, after: string, rev: number, now: number): KeyValue[] {
    const out: KeyValue[] = [];
    const end = prefixEnd(prefix);
    for (let i = lowerBound(this.sorted, prefix); i < this.sorted.length; i++) {
      const key = this.sorted[i]!;
      if (key >= end) break;
      if (key <= after) continue;
      const r = asOf(this.history.get(key)!, rev);
      if (r && !r.deleted && (r.expiresAt == null || r.expiresAt > now)) out.push(rowToKV(r));
    }
    return out;
  }

  /** Rows committed by a write transaction (in revision order), and their watch events. */
  apply(rows: LogRow[], events: WatchEvent[]): void {
    for (const r of rows) {
      let h = this.history.get(r.name);
      if (!h) {
        h = [];
        this.history.set(r.name, h);
        this.sorted.splice(lowerBound(this.sorted, r.name), 0, r.name);
      }
      h.push(r);
    }
    for (const e of events) this.events.push(e);
  }

  /** Live rows found in the database at open (written before these keys were volatile): they move to memory. */
  adopt(rows: LogRow[]): void {
    for (const r of rows.sort((a, b) => a.id - b.id)) {
      if (this.history.has(r.name)) continue;
      this.history.set(r.name, [r]);
      this.sorted.splice(lowerBound(this.sorted, r.name), 0, r.name);
    }
  }

  /** Events of keys starting with prefix with revision in (from, to], in order. */
  eventsIn(prefix: string, from: number, to: number): WatchEvent[] {
    const out: WatchEvent[] = [];
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[mid]!.kv.modRevision <= from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.events.length; i++) {
      const e = this.events[i]!;
      if (e.kv.modRevision > to) break;
      if (e.kv.key.startsWith(prefix)) out.push(e);
    }
    return out;
  }

  /**
   * Drops history at or below rev, by the log table's compaction rules: rows superseded by a row at or below rev,
   * and tombstones at or below rev. The watermark moves only when something was dropped (as the database's does).
   */
  compact(rev: number): void {
    if (rev <= this.watermark) return;
    let dropped = false;
    for (let i = 0; i < this.sorted.length; i++) {
      const key = this.sorted[i]!;
      const h = this.history.get(key)!;
      // Index of the newest row at or below rev: every row before it is superseded.
      let keep = h.length - 1;
      while (keep >= 0 && h[keep]!.id > rev) keep--;
      if (keep < 0) continue;
      const cut = h[keep]!.deleted ? keep + 1 : keep;
      if (cut === 0) continue;
      dropped = true;
      h.splice(0, cut);
      if (h.length === 0) {
        this.history.delete(key);
        this.sorted.splice(i--, 1);
      }
    }
    let n = 0;
    while (n < this.events.length && this.events[n]!.kv.modRevision <= rev) n++;
    if (n > 0) {
      dropped = true;
      this.events.splice(0, n);
    }
    if (dropped) this.watermark = rev;
  }

  /** Live volatile rows whose TTL has passed. */
  expired(now: number): LogRow[] {
    const out: LogRow[] = [];
    for (const h of this.history.values()) {
      const r = h[h.length - 1]!;
      if (!r.deleted && r.expiresAt != null && r.expiresAt <= now) out.push(r);
    }
    return out;
  }

  /** Earliest expiry among live volatile keys. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const h of this.history.values()) {
      const r = h[h.length - 1]!;
      if (!r.deleted && r.expiresAt != null && (next === undefined || r.expiresAt < next)) next = r.expiresAt;
    }
    return next;
  }

  /** Keys held (including those whose newest row is a tombstone still in history); for tests and metrics. */
  get size(): number {
    return this.history.size;
  }
}

/** Newest row with id <= rev (rows are in id order; reads are nearly always of the newest). */
function asOf(h: LogRow[], rev: number): LogRow | undefined {
  for (let i = h.length - 1; i >= 0; i--) if (h[i]!.id <= rev) return h[i];
  return undefined;
}

/** First index whose key is >= key. */
function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
