// The SQLite backend of the Store contract (kine's model on bun:sqlite through drizzle).
//
// Durability / fsync policy: the database runs in WAL mode, and a write's promise resolves only after its COMMIT and
// an fsync of the WAL that began after it — an acknowledged write survives kill -9 and power loss. Concurrent writes
// are group-committed (one transaction per event-loop turn). The fsync runs on Bun's thread pool (walsync.ts), not
// inside COMMIT (synchronous=NORMAL), so the server keeps answering while the disk syncs — on an SD card that is
// milliseconds to hundreds of them — and one fsync covers every batch committed meanwhile. Checkpoints (WAL → main
// file, and its sync) run on a worker thread with its own connection (checkpointer.ts). An idle store performs no
// writes at all (no heartbeats, compaction only when there is garbage).
//
// Volatile keys (default: Leases, see volatile.ts) are the documented exception to "nothing acknowledged is lost":
// they share the revision counter, reads, conflicts and watch stream with durable keys but live in memory only, so
// renewing a Lease writes nothing to disk. After a restart or crash they are gone (their holders recreate them within
// one renew interval), revisions continue above every revision handed out before (revisions.ts), and watches or
// lists from before the restart get CompactedError (410: clients relist, as after an upstream apiserver restart).
// Another process opening the same file does not see this process's volatile keys; if it writes while this one
// writes volatile keys, this process's watchers are ended with CompactedError (watch.ts) rather than miss its rows.
import { Database } from "bun:sqlite";
import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { type Logger, logger } from "../../log/log.ts";
import { DEFAULT_VOLATILE_PREFIXES, prefixEnd } from "../keys.ts";
import {
  CompactedError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  StoreError,
  type WatchEvent,
  type WatchOptions,
} from "../types.ts";
import { type CompactionOptions, Compactor } from "./compactor.ts";
import { migrate } from "./migrations.ts";
import { type LogRow, type Queries, kvFromValues, prepareQueries, rowToKV } from "./queries.ts";
import { Checkpointer, CHECKPOINT_FRAMES } from "./checkpointer.ts";
import { Revisions } from "./revisions.ts";
import { ListCache } from "./listcache.ts";
import { Sweeper } from "./sweeper.ts";
import { VolatileLog } from "./volatile.ts";
import { WatchHub, Watcher } from "./watch.ts";
import { type Commit, Writer } from "./writer.ts";
import { WalFile, type WalSync } from "./walsync.ts";

export interface SqliteStoreOptions {
  log?: Logger;
  compaction?: CompactionOptions;
  /** How often to look for rows written by other processes, ms (default 1000). */
  pollMs?: number;
  /** SQLite busy timeout when another process holds the write lock, ms (default 5000). */
  busyTimeoutMs?: number;
  /** Key prefixes kept in memory only (default: Leases, DEFAULT_VOLATILE_PREFIXES); [] = every key durable. */
  volatilePrefixes?: readonly string[];
  /** How far the persisted revision floor is raised ahead of volatile revisions (default 10^6; small in tests). */
  revisionFloorStep?: number;
  /** Makes the WAL durable before writes are acknowledged (default: fsync of the -wal file; tests pass their own). */
  walSync?: WalSync;
  /** WAL frames that start a checkpoint on the worker thread (default CHECKPOINT_FRAMES; small in tests). */
  checkpointFrames?: number;
}

export class SqliteStore implements Store {
  private q: Queries;
  private writer: Writer;
  private hub: WatchHub;
  private sweeper: Sweeper;
  private compactor: Compactor;
  private revisions: Revisions;
  private volatile: VolatileLog;
  private cache = new ListCache();
  private checkpointer: Checkpointer | undefined;
  private closed = false;
  /** (revision, prefix, key) → live keys after key at that revision; a list at a fixed revision never changes. */
  private remainingAfter = new Map<string, number>();

  constructor(
    private db: Database,
    opts: SqliteStoreOptions = {},
    private wal?: WalSync,
  ) {
    const log = opts.log ?? logger("store");
    this.q = prepareQueries(drizzle({ client: db }));
    this.volatile = new VolatileLog(opts.volatilePrefixes ?? DEFAULT_VOLATILE_PREFIXES);
    this.revisions = new Revisions(this.q, opts.revisionFloorStep);
    // Volatile revisions of a previous process (all at or below the floor) are gone: nothing before it can be read.
    this.volatile.watermark = this.revisions.floor;
    this.adoptVolatileRows();
    let sweeper: Sweeper | undefined;
    // A file database checkpoints its WAL on a worker thread (checkpointer.ts), not inside a COMMIT.
    const checkpointHere = () => void db.query("PRAGMA wal_checkpoint(PASSIVE)").get();
    this.checkpointer = db.filename && db.filename !== ":memory:" ? new Checkpointer(db.filename, log, checkpointHere, opts.checkpointFrames) : undefined;
    const onCommit = (c: Commit) => {
      this.cache.apply(c.events);
      this.hub.committed(c);
      this.checkpointer?.afterCommit();
    };
    this.writer = new Writer(db, this.q, this.volatile, this.revisions, onCommit, undefined, wal);
    this.hub = new WatchHub({
      db,
      q: this.q,
      volatile: this.volatile,
      revisions: this.revisions,
      compactRevision: () => this.compactRevisionSync(),
      observe: (events) => sweeper?.observe(events),
      foreignRows: () => this.cache.clear(),
      log,
      pollMs: opts.pollMs ?? 1000,
    });
    this.sweeper = sweeper = new Sweeper(this.q, this.volatile, this.writer, log);
    this.sweeper.recheck();
    // Compaction never passes what the watchers were handed (another process may have written more meanwhile).
    this.compactor = new Compactor(db, this.q, () => (this.hub.sync(), this.hub.lastSeen), log, opts.compaction, (rev) =>
      this.volatile.compact(rev),
    );
  }

  /**
   * Keys under a volatile prefix that are in the file (written while they were durable, e.g. by an older kubun) move
   * to memory, keeping their revisions; the floor then covers those revisions. Writes only when there are such rows.
   */
  private adoptVolatileRows(): void {
    const ranges = this.volatile.prefixes.map((lo) => ({ lo, end: prefixEnd(lo) }));
    if (!ranges.some((r) => this.q.anyInRange.get(r))) return;
    this.db
      .transaction(() => {
        const rows: LogRow[] = [];
        for (const { lo, end } of ranges) {
          const live = this.q.listPage.values({ lo, after: "", end, rev: Number.MAX_SAFE_INTEGER, now: 0, limit: -1 });
          for (const kv of live.map(kvFromValues)) rows.push(rowOf(kv));
          this.q.deleteRange.run({ lo, end });
        }
        this.volatile.adopt(rows);
        this.revisions.reserve(this.revisions.current);
      })
      .immediate();
    // Their older history did not come along.
    this.volatile.watermark = Math.max(this.volatile.watermark, this.revisions.current);
  }

  /** The store's revision: the highest handed out here or written by another process. */
  private revisionSync(): number {
    return Math.max(this.revisions.current, this.hub.dbRevision());
  }

  /** One watermark: the log's, or the volatile history's if higher (compacted in memory, or lost at restart). */
  private compactRevisionSync(): number {
    return Math.max(this.compactor.watermark(), this.volatile.watermark);
  }

  private check(): void {
    if (this.closed) throw new StoreError("store is closed");
  }

  async get(key: string): Promise<{ revision: number; kv?: KeyValue }> {
    this.check();
    const volatile = this.volatile.covers(key);
    let found: { revision: number; kv?: KeyValue } | undefined;
    // A key of a listed prefix is in the list cache: no SQLite read of the row and its overflow pages, which was most
    // of a bind's or status update's reads. Rows of another process drop the cache, so catch up with them first
    // (only for such keys: any other key's get reads the database anyway).
    if (!volatile && this.cache.lookup(key) !== undefined) {
      const dbRevision = this.hub.sync();
      const cached = this.cache.lookup(key);
      if (cached !== undefined) found = { revision: Math.max(this.revisions.current, dbRevision), kv: cached ?? undefined };
    }
    if (!found) {
      const r = volatile ? this.volatile.latest(key) : this.q.latest.get({ name: key });
      // Read the revision after the row, so revision >= kv.modRevision even if another process writes meanwhile.
      found = { revision: this.revisionSync(), kv: r && !r.deleted ? rowToKV(r) : undefined };
    }
    const kv = found.kv;
    if (!kv || (kv.expiresAt != null && kv.expiresAt <= Date.now())) return { revision: found.revision };
    return found;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.check();
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const lo = prefix;
    const end = prefixEnd(prefix);
    const now = Date.now();
    const { logged, volatile } = this.sources(prefix);
    // The list cache holds durable keys only, and rows another process wrote drop it: catch up with those first.
    const cacheable = !volatile && prefix.endsWith("/");
    if (cacheable) this.hub.sync();
    // One read transaction = one snapshot for the revision, the watermark and the rows.
    return this.db.transaction(() => {
      const current = this.revisionSync();
      const revision = opts.revision && opts.revision > 0 ? opts.revision : current;
      const compacted = this.compactRevisionSync();
      if (revision < compacted) throw new CompactedError(revision, compacted);
      if (revision > current) throw new StoreError(`too large resource version: ${revision}, current: ${current}`);
      const after = opts.startAfter ?? "";
      if (cacheable) {
        let since = this.cache.since(prefix);
        if (since === undefined) {
          const all = this.q.listPage.values({ lo, after: "", end, rev: current, now, limit: -1 }).map(kvFromValues);
          this.cache.fill(prefix, all, current);
          since = current;
        }
        const hit = revision >= since ? this.cache.list(prefix, after, limit, now) : undefined;
        if (hit) return { revision, ...hit };
      }
      const rows = logged ? this.q.listPage.values({ lo, after, end, rev: revision, now, limit: limit ? limit + 1 : -1 }) : [];
      let items = rows.map(kvFromValues);
      const mem = volatile ? this.volatile.range(prefix, after, revision, now) : [];
      if (mem.length > 0) items = mergeByKey(items, mem);
      let remaining = 0;
      if (limit && items.length > limit) {
        const last = items[limit - 1]!.key;
        // Paging through a list at one revision: the previous page already counted what follows its last key.
        const known = this.remainingAfter.get(`${revision}\0${prefix}\0${after}`);
        remaining =
          known !== undefined
            ? known - limit
            : (logged ? (this.q.countRange.get({ lo, after: last, end, rev: revision, now })?.n ?? 0) : 0) +
              mem.filter((kv) => kv.key > last).length;
        this.remainingAfter.set(`${revision}\0${prefix}\0${last}`, remaining);
        if (this.remainingAfter.size > 64) this.remainingAfter.delete(this.remainingAfter.keys().next().value!);
        items = items.slice(0, limit);
      }
      return { revision, items, remaining };
    })();
  }

  async count(prefix: string): Promise<{ revision: number; count: number }> {
    this.check();
    const { logged, volatile } = this.sources(prefix);
    return this.db.transaction(() => {
      const revision = this.revisionSync();
      const now = Date.now();
      const n = logged ? (this.q.countRange.get({ lo: prefix, after: "", end: prefixEnd(prefix), rev: revision, now })?.n ?? 0) : 0;
      return { revision, count: n + (volatile ? this.volatile.range(prefix, "", revision, now).length : 0) };
    })();
  }

  /** Where keys with prefix live: the log, memory, or both. */
  private sources(prefix: string): { logged: boolean; volatile: boolean } {
    const volatile = this.volatile.overlaps(prefix);
    return { volatile, logged: !(volatile && this.volatile.covers(prefix)) };
  }

  create(key: string, value: string, ttlSeconds?: number): Promise<KeyValue> {
    return this.writer.create(key, value, ttlSeconds);
  }

  update(key: string, value: string, expectedRevision: number, ttlSeconds?: number): Promise<KeyValue> {
    return this.writer.update(key, value, expectedRevision, ttlSeconds);
  }

  delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    return this.writer.delete(key, expectedRevision);
  }

  watch(prefix: string, opts: WatchOptions = {}): AsyncIterable<WatchEvent[]> {
    this.check();
    return new Watcher(this.hub, prefix, opts.afterRevision, this.compactRevisionSync(), opts.signal);
  }

  async currentRevision(): Promise<number> {
    this.check();
    return this.revisionSync();
  }

  async compactRevision(): Promise<number> {
    this.check();
    return this.compactRevisionSync();
  }

  async compact(revision: number): Promise<void> {
    this.check();
    await this.compactor.compact(revision);
    this.volatile.compact(revision);
    // Watchers behind the new watermark must learn it now, not at their next event.
    this.hub.sync();
  }

  /** One background compaction pass now (what the timer does); for tests and tools. */
  compactNow(): Promise<void> {
    return this.compactor.tick();
  }

  /** One TTL sweep now (what the expiry timer does): deletes every key already expired; for tests and tools. */
  expireNow(): Promise<void> {
    return this.sweeper.sweepNow();
  }

  /** Number of volatile keys held in memory, with their history (metrics, tests). */
  get volatileKeyCount(): number {
    return this.volatile.size;
  }

  /** Number of active watchers (metrics, tests). */
  get watcherCount(): number {
    return this.hub.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.writer.close();
    this.sweeper.close();
    await this.compactor.close();
    await this.checkpointer?.close();
    this.hub.close();
    this.db.close();
    this.wal?.close();
  }
}

/** Opens (creating and migrating as needed) the SQLite store at path. */
export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
  let db: Database;
  try {
    if (path !== ":memory:") {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // The database holds Secrets: owner-only. SQLite gives the -wal/-shm files the same mode.
      closeSync(openSync(path, "a", 0o600));
      chmodSync(path, 0o600);
    }
    db = new Database(path, { create: true, strict: false });
  } catch (e) {
    throw new StoreError(`cannot open the store database ${path}: ${(e as Error).message}`);
  }
  try {
    db.run(`PRAGMA busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    // 1 KiB pages for a new file: a small write (Lease renewal) then dirties 1 KiB pages, not 4 KiB ones — about 3x
    // fewer bytes written per write (measured; see schema.ts). No effect on an existing file.
    db.run("PRAGMA page_size = 1024");
    db.run("PRAGMA journal_mode = WAL");
    // NORMAL: COMMIT does not fsync; the writer does it off the event loop before it acknowledges (policy above).
    db.run("PRAGMA synchronous = NORMAL");
    // Checkpoints run on a worker thread every 4 MiB of WAL (checkpointer.ts); SQLite's own, inside a COMMIT on the
    // event loop, is only the backstop, at 16 times that.
    db.run(`PRAGMA wal_autocheckpoint = ${16 * (opts.checkpointFrames ?? CHECKPOINT_FRAMES)}`);
    // Bound the WAL file left on disk after checkpoints.
    db.run("PRAGMA journal_size_limit = 16777216");
    const applied = migrate(db);
    if (applied.length > 0) (opts.log ?? logger("store")).info("database migrated", { path, applied });
    return new SqliteStore(db, opts, opts.walSync ?? (path === ":memory:" ? undefined : new WalFile(`${path}-wal`)));
  } catch (e) {
    db.close();
    throw e instanceof StoreError ? new StoreError(`${path}: ${e.message}`) : e;
  }
}

/** Two key-ordered lists merged (a key is never in both: a volatile key has no rows in the log). */
function mergeByKey(a: KeyValue[], b: KeyValue[]): KeyValue[] {
  if (a.length === 0) return b;
  const out: KeyValue[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.key < b[j]!.key)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}

function rowOf(kv: KeyValue): LogRow {
  const created = kv.createRevision === kv.modRevision;
  return {
    id: kv.modRevision,
    name: kv.key,
    created,
    deleted: false,
    createRevision: created ? 0 : kv.createRevision,
    prevRevision: 0,
    expiresAt: kv.expiresAt ?? null,
    value: kv.value,
  };
}
