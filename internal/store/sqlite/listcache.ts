// The live durable keys of every prefix that has been listed, kept current from this process's commits, so that a
// list at the current revision is answered from memory — as upstream's watch cache answers lists — instead of an
// index walk that reads each value's overflow pages (10,000 pods: ~60 ms of SQLite against ~2 ms here). The cached
// KeyValues are the ones the watch fan-out delivered, so the API server's per-object JSON (rawJSON) is shared too.
//
// The store keeps it exact: commits of this process are applied as they are made, rows written by another process
// (or reordered ones) drop the whole cache, and only prefixes without volatile keys are cached. Prefixes are
// directories ("/registry/pods/ns/"); keys are grouped by their directory, each kept sorted lazily: a create
// only appends to a pending list, a list merges it in (no O(n) insert per write).
import type { KeyValue, WatchEvent } from "../types.ts";

const NON_ASCII = /[^\x00-\x7f]/;

class Dir {
  readonly kvs = new Map<string, KeyValue>();
  private sorted: string[] = [];
  private pending: string[] = [];
  /** sorted may name keys that are gone. */
  private stale = false;
  /** JS orders strings by UTF-16 unit, SQLite by UTF-8 byte: the same for ASCII only. */
  ascii = true;

  put(kv: KeyValue): void {
    if (!this.kvs.has(kv.key)) {
      this.pending.push(kv.key);
      if (NON_ASCII.test(kv.key)) this.ascii = false;
    }
    this.kvs.set(kv.key, kv);
  }

  remove(key: string): void {
    if (this.kvs.delete(key)) this.stale = true;
  }

  /** Live keys in order. */
  keys(): string[] {
    if (this.pending.length === 0 && !this.stale) return this.sorted;
    const live = this.stale ? this.sorted.filter((k) => this.kvs.has(k)) : this.sorted;
    const added = this.pending.filter((k) => this.kvs.has(k)).sort();
    const out: string[] = [];
    let i = 0;
    let j = 0;
    while (i < live.length || j < added.length) {
      const next = j >= added.length || (i < live.length && live[i]! <= added[j]!) ? live[i++]! : added[j++]!;
      if (out.length === 0 || out[out.length - 1] !== next) out.push(next); // a key deleted and made again
    }
    this.sorted = out;
    this.pending = [];
    this.stale = false;
    return out;
  }
}

function dirOf(key: string): string {
  return key.slice(0, key.lastIndexOf("/") + 1);
}

/** First index of keys whose key is > after. */
function upperBound(keys: string[], after: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class ListCache {
  private dirs = new Map<string, Dir>();
  /**
   * Prefixes whose every live durable key is in dirs, each with the revision since which nothing under it changed:
   * the cached state is the state at any revision from there on (a continued list at an older revision can use it).
   */
  private covered = new Map<string, number>();

  /** For a directory under a covered prefix: the revision from which the cache holds its state; else undefined. */
  since(prefix: string): number | undefined {
    if (!prefix.endsWith("/")) return undefined;
    for (const [c, rev] of this.covered) if (prefix.startsWith(c)) return rev;
    return undefined;
  }

  /** A key under a covered prefix: its live KeyValue, or null when it has none; undefined when not covered. */
  lookup(key: string): KeyValue | null | undefined {
    for (const c of this.covered.keys()) if (key.startsWith(c)) return this.dirs.get(dirOf(key))?.kvs.get(key) ?? null;
    return undefined;
  }

  /** Takes in every live key of prefix, read at `revision`. */
  fill(prefix: string, kvs: KeyValue[], revision: number): void {
    for (const kv of kvs) this.put(kv);
    for (const c of this.covered.keys()) if (c.startsWith(prefix)) this.covered.delete(c);
    this.covered.set(prefix, revision);
  }

  /** A committed batch: keys under a covered prefix follow it. */
  apply(events: WatchEvent[]): void {
    if (this.covered.size === 0) return;
    for (const e of events) {
      const key = e.kv.key;
      let under: string | undefined;
      for (const c of this.covered.keys()) if (key.startsWith(c)) under = c;
      if (under === undefined) continue;
      this.covered.set(under, e.kv.modRevision);
      if (e.type === "DELETE") {
        const d = this.dirs.get(dirOf(key));
        d?.remove(key);
        if (d && d.kvs.size === 0) this.dirs.delete(dirOf(key));
      } else {
        this.put(e.kv);
      }
    }
  }

  /** Forgets everything (rows this process did not write: the cache cannot tell what they changed). */
  clear(): void {
    this.dirs.clear();
    this.covered.clear();
  }

  /**
   * Live keys of prefix after `after`, unexpired at `now`, in key order: the first `limit` (0 = all) and how many
   * follow. Undefined when the cache cannot answer in SQLite's order (a non-ASCII key, or a directory that holds
   * keys beside a subdirectory).
   */
  list(prefix: string, after: string, limit: number, now: number): { items: KeyValue[]; remaining: number } | undefined {
    const names: string[] = [];
    for (const name of this.dirs.keys()) if (name.startsWith(prefix)) names.push(name);
    names.sort();
    const matched: KeyValue[] = [];
    for (let n = 0; n < names.length; n++) {
      const dir = this.dirs.get(names[n]!)!;
      if (!dir.ascii || (n + 1 < names.length && names[n + 1]!.startsWith(names[n]!))) return undefined;
      const keys = dir.keys();
      for (let i = after ? upperBound(keys, after) : 0; i < keys.length; i++) {
        const kv = dir.kvs.get(keys[i]!)!;
        if (kv.expiresAt == null || kv.expiresAt > now) matched.push(kv);
      }
    }
    if (!limit || matched.length <= limit) return { items: matched, remaining: 0 };
    return { items: matched.slice(0, limit), remaining: matched.length - limit };
  }

  private put(kv: KeyValue): void {
    const name = dirOf(kv.key);
    let d = this.dirs.get(name);
    if (!d) this.dirs.set(name, (d = new Dir()));
    d.put(kv);
  }
}
