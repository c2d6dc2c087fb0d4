// The SQLite backend of the Store contract (kine's model on bun:sqlite through drizzle).
//
// Durability / fsync policy: the database runs in WAL mode with synchronous=FULL, so every COMMIT fsyncs the WAL
// before it returns, and a write's promise resolves only after its COMMIT — an acknowledged write survives kill -9
// and power loss. Concurrent writes are group-committed (one transaction, one fsync per event-loop turn), which
// keeps that guarantee while amortising the fsync. Checkpoints (WAL → main file) happen in SQLite's default
// auto-checkpoint; an idle store performs no writes at all (no heartbeats, compaction only when there is garbage).
import { Database } from "bun:sqlite";
import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { type Logger, logger } from "../../log/log.ts";
import { prefixEnd } from "../keys.ts";
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
import { type Queries, kvFromValues, prepareQueries, rowToKV } from "./queries.ts";
import { Sweeper } from "./sweeper.ts";
import { WatchHub, Watcher } from "./watch.ts";
import { Writer } from "./writer.ts";

export interface SqliteStoreOptions {
  log?: Logger;
  compaction?: CompactionOptions;
  /** How often to look for rows written by other processes, ms (default 1000). */
  pollMs?: number;
  /** SQLite busy timeout when another process holds the write lock, ms (default 5000). */
  busyTimeoutMs?: number;
}

export class SqliteStore implements Store {
  private q: Queries;
  private writer: Writer;
  private hub: WatchHub;
  private sweeper: Sweeper;
  private compactor: Compactor;
  private closed = false;
  /** (revision, prefix, key) → live keys after key at that revision; a list at a fixed revision never changes. */
  private remainingAfter = new Map<string, number>();

  constructor(
    private db: Database,
    opts: SqliteStoreOptions = {},
  ) {
    const log = opts.log ?? logger("store");
    this.q = prepareQueries(drizzle({ client: db }));
    let sweeper: Sweeper | undefined;
    this.writer = new Writer(db, this.q, (events) => this.hub.committed(events));
    this.hub = new WatchHub(
      db,
      this.q,
      () => this.compactRevisionSync(),
      (events) => sweeper?.observe(events),
      opts.pollMs ?? 1000,
    );
    this.sweeper = sweeper = new Sweeper(this.q, this.writer, log);
    this.sweeper.recheck();
    // Compaction never passes what the watchers were handed (another process may have written more meanwhile).
    this.compactor = new Compactor(db, this.q, () => (this.hub.sync(), this.hub.lastSeen), log, opts.compaction);
  }

  private compactRevisionSync(): number {
    return this.compactor.watermark();
  }

  private check(): void {
    if (this.closed) throw new StoreError("store is closed");
  }

  async get(key: string): Promise<{ revision: number; kv?: KeyValue }> {
    this.check();
    const r = this.q.latest.get({ name: key });
    // Read the revision after the row, so revision >= kv.modRevision even if another process writes meanwhile.
    const revision = this.hub.dbRevision();
    if (!r || r.deleted || (r.expiresAt != null && r.expiresAt <= Date.now())) return { revision };
    return { revision, kv: rowToKV(r) };
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.check();
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const lo = prefix;
    const end = prefixEnd(prefix);
    const now = Date.now();
    // One read transaction = one snapshot for the revision, the watermark and the rows.
    return this.db.transaction(() => {
      const current = this.hub.dbRevision();
      const revision = opts.revision && opts.revision > 0 ? opts.revision : current;
      const compacted = this.compactRevisionSync();
      if (revision < compacted) throw new CompactedError(revision, compacted);
      if (revision > current) throw new StoreError(`too large resource version: ${revision}, current: ${current}`);
      const after = opts.startAfter ?? "";
      const rows = this.q.listPage.values({ lo, after, end, rev: revision, now, limit: limit ? limit + 1 : -1 });
      let remaining = 0;
      if (limit && rows.length > limit) {
        rows.length = limit;
        const last = rows[limit - 1]![1] as string;
        // Paging through a list at one revision: the previous page already counted what follows its last key.
        const known = this.remainingAfter.get(`${revision}\0${prefix}\0${after}`);
        remaining = known !== undefined ? known - limit : (this.q.countRange.get({ lo, after: last, end, rev: revision, now })?.n ?? 0);
        this.remainingAfter.set(`${revision}\0${prefix}\0${last}`, remaining);
        if (this.remainingAfter.size > 64) this.remainingAfter.delete(this.remainingAfter.keys().next().value!);
      }
      return { revision, items: rows.map(kvFromValues), remaining };
    })();
  }

  async count(prefix: string): Promise<{ revision: number; count: number }> {
    this.check();
    return this.db.transaction(() => {
      const revision = this.hub.dbRevision();
      const n = this.q.countRange.get({ lo: prefix, after: "", end: prefixEnd(prefix), rev: revision, now: Date.now() });
      return { revision, count: n?.n ?? 0 };
    })();
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
    return this.hub.dbRevision();
  }

  async compactRevision(): Promise<number> {
    this.check();
    return this.compactRevisionSync();
  }

  async compact(revision: number): Promise<void> {
    this.check();
    await this.compactor.compact(revision);
    // Watchers behind the new watermark must learn it now, not at their next event.
    this.hub.sync();
  }

  /** One background compaction pass now (what the timer does); for tests and tools. */
  compactNow(): Promise<void> {
    return this.compactor.tick();
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
    this.hub.close();
    this.db.close();
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
    // FULL: fsync the WAL at every commit (see the policy at the top of this file).
    db.run("PRAGMA synchronous = FULL");
    // Bound the WAL file left on disk after checkpoints.
    db.run("PRAGMA journal_size_limit = 16777216");
    const applied = migrate(db);
    if (applied.length > 0) (opts.log ?? logger("store")).info("database migrated", { path, applied });
    return new SqliteStore(db, opts);
  } catch (e) {
    db.close();
    throw e instanceof StoreError ? new StoreError(`${path}: ${e.message}`) : e;
  }
}
