// Group commit: writes queue up and run together in one BEGIN IMMEDIATE transaction on the next turn of the event
// loop, so N concurrent writers cost one fsync instead of N. Each write is acknowledged (its promise resolved) only
// once its batch is durable: after an fsync of the WAL that began after its COMMIT (walsync.ts). That fsync runs off
// the event loop, so the next batches commit while it runs and the one after covers them all; acknowledgements keep
// commit order. Watchers are told at COMMIT, as before. A write that fails its precondition (exists / not found /
// conflict) gets its error without affecting the others in the batch.
// Volatile keys (volatile.ts) go through the same queue and transaction, so they get revisions in the same order as
// durable writes; their rows are staged in memory and applied only once COMMIT succeeded. A batch of volatile
// writes alone commits an empty transaction, which writes nothing to disk.
import type { Database } from "bun:sqlite";
import type { KeyValue, WatchEvent } from "../types.ts";
import { ConflictError, KeyExistsError, NotFoundError, StoreError } from "../types.ts";
import { type LogRow, type Queries, rowToKV } from "./queries.ts";
import type { Revisions } from "./revisions.ts";
import type { VolatileLog } from "./volatile.ts";
import type { WalSync } from "./walsync.ts";

/** A unit of work run inside the batch transaction; the rows it appends record their events on the context. */
type Job<T> = (ctx: TxContext) => T;

interface Pending {
  job: Job<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** What a batch committed: its events in revision order, and max(id) of the database before and after. */
export interface Commit {
  events: WatchEvent[];
  dbBefore: number;
  dbAfter: number;
}

/** What a job may do inside the transaction. */
export class TxContext {
  readonly events: WatchEvent[] = [];
  /** Volatile rows and events of this transaction, applied to memory after COMMIT. */
  readonly volatileRows: LogRow[] = [];
  readonly volatileEvents: WatchEvent[] = [];
  private staged = new Map<string, LogRow>();
  /** max(id) when the transaction began (under the write lock: no other process can add rows until COMMIT). */
  readonly dbBefore: number;
  /** max(id) now, including this transaction's rows. */
  dbMax: number;

  constructor(
    private q: Queries,
    private volatile: VolatileLog,
    private revisions: Revisions,
    readonly now: number,
  ) {
    this.dbBefore = this.dbMax = q.currentRevision.get()?.seq ?? 0;
  }

  latest(key: string): LogRow | undefined {
    if (this.volatile.covers(key)) return this.staged.get(key) ?? this.volatile.latest(key);
    return this.q.latest.get({ name: key });
  }

  isExpired(r: LogRow): boolean {
    return r.expiresAt != null && r.expiresAt <= this.now;
  }

  private append(
    name: string,
    created: boolean,
    deleted: boolean,
    createRevision: number,
    prevRevision: number,
    expiresAt: number | null,
    value: string | null,
  ): number {
    const volatile = this.volatile.covers(name);
    const id = this.revisions.next(this.dbMax, volatile);
    if (volatile) {
      const row: LogRow = { id, name, created, deleted, createRevision, prevRevision, expiresAt, value };
      this.volatileRows.push(row);
      this.staged.set(name, row);
    } else {
      this.q.insert.run({
        id,
        name,
        created: created ? 1 : 0,
        deleted: deleted ? 1 : 0,
        createRevision,
        prevRevision,
        expiresAt,
        value,
      });
      this.dbMax = id;
    }
    return id;
  }

  private record(e: WatchEvent): void {
    this.events.push(e);
    if (this.volatile.covers(e.kv.key)) this.volatileEvents.push(e);
  }

  /** Appends a put; `prev` is the key's newest row (live, deleted or undefined). */
  put(key: string, value: string, prev: LogRow | undefined, expiresAt: number | null): KeyValue {
    const live = prev && !prev.deleted ? prev : undefined;
    const createRevision = live ? (live.created ? live.id : live.createRevision) : 0;
    const id = this.append(key, !live, false, createRevision, prev?.id ?? 0, expiresAt, value);
    const kv: KeyValue = { key, value, createRevision: live ? createRevision : id, modRevision: id };
    if (expiresAt != null) kv.expiresAt = expiresAt;
    this.record(live ? { type: "PUT", kv, prevKv: rowToKV(live) } : { type: "PUT", kv, created: true });
    return kv;
  }

  /** Appends a tombstone for the live row `prev`; returns the deleted value with modRevision = the delete's. */
  del(prev: LogRow): KeyValue {
    const prevKv = rowToKV(prev);
    const id = this.append(prev.name, false, true, prevKv.createRevision, prev.id, null, null);
    const kv: KeyValue = { key: prev.name, value: prevKv.value, createRevision: prevKv.createRevision, modRevision: id };
    this.record({ type: "DELETE", kv, prevKv });
    return kv;
  }

  /** Newest live row of key; an expired one is deleted through the log first (as the sweeper would). */
  live(key: string): LogRow | undefined {
    const r = this.latest(key);
    if (!r || r.deleted) return undefined;
    if (this.isExpired(r)) {
      this.del(r);
      return undefined;
    }
    return r;
  }
}

export class Writer {
  private queue: Pending[] = [];
  private scheduled = false;
  private closed = false;
  /** Settles of committed batches waiting for the next fsync, and of those the running fsync covers. */
  private waiting: Settle[] = [];
  private syncing: Settle[] = [];
  private syncRunning = false;

  constructor(
    private db: Database,
    private q: Queries,
    private volatile: VolatileLog,
    private revisions: Revisions,
    /** Called after each commit that produced events. */
    private onCommit: (commit: Commit) => void,
    private maxBatch = 256,
    /** Makes the WAL durable; none for an in-memory database. */
    private wal?: WalSync,
  ) {}

  submit<T>(job: Job<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError("store is closed"));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ job, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate rather than a microtask: requests arriving in the same I/O turn share one commit.
        setImmediate(() => this.flush());
      }
    });
  }

  create(key: string, value: string, ttlSeconds?: number): Promise<KeyValue> {
    return this.submit((tx) => {
      let prev = tx.latest(key);
      if (prev && !prev.deleted) {
        if (!tx.isExpired(prev)) throw new KeyExistsError(key);
        // An expired but unswept key is deleted first, so watchers see DELETE then the new PUT.
        tx.del(prev);
        prev = tx.latest(key);
      }
      return tx.put(key, value, prev, expiry(tx.now, ttlSeconds));
    });
  }

  update(key: string, value: string, expectedRevision: number, ttlSeconds?: number): Promise<KeyValue> {
    return this.submit((tx) => {
      const cur = tx.live(key);
      if (!cur) throw new NotFoundError(key);
      if (cur.id !== expectedRevision) throw new ConflictError(key, rowToKV(cur));
      return tx.put(key, value, cur, expiry(tx.now, ttlSeconds));
    });
  }

  delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    return this.submit((tx) => {
      const cur = tx.live(key);
      if (!cur) throw new NotFoundError(key);
      if (expectedRevision !== undefined && cur.id !== expectedRevision) throw new ConflictError(key, rowToKV(cur));
      return tx.del(cur);
    });
  }

  /** Runs the queued jobs; resolves them once the transaction committed. */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    const outcomes: { ok: boolean; v: unknown }[] = [];
    let ctx!: TxContext;
    try {
      this.db
        .transaction(() => {
          ctx = new TxContext(this.q, this.volatile, this.revisions, Date.now());
          outcomes.length = 0;
          for (const p of batch) {
            try {
              outcomes.push({ ok: true, v: p.job(ctx) });
            } catch (e) {
              // Precondition failures are checked before anything is appended, so they need no rollback.
              if (!(e instanceof StoreError)) throw e;
              outcomes.push({ ok: false, v: e });
            }
          }
        })
        .immediate();
    } catch (e) {
      // Rolled back: nothing of this batch was written (e.g. disk full, or SQLITE_BUSY past busy_timeout), and its
      // volatile rows were never applied.
      this.revisions.rolledBack();
      for (const p of batch) p.reject(e);
      return;
    }
    if (ctx.volatileRows.length > 0) this.volatile.apply(ctx.volatileRows, ctx.volatileEvents);
    if (ctx.events.length > 0) this.onCommit({ events: ctx.events, dbBefore: ctx.dbBefore, dbAfter: ctx.dbMax });
    const settle: Settle = (err) =>
      batch.forEach((p, i) => (err ? p.reject(err) : outcomes[i]!.ok ? p.resolve(outcomes[i]!.v) : p.reject(outcomes[i]!.v)));
    // A batch that wrote nothing to the file (volatile keys, failed preconditions) needs no fsync, but it still waits
    // behind earlier batches that do, so answers keep commit order.
    const wroteFile = ctx.dbMax > ctx.dbBefore;
    if (!this.wal || (!wroteFile && !this.syncRunning && this.waiting.length === 0)) return settle();
    this.waiting.push(settle);
    if (!this.syncRunning) this.startSync();
  }

  /** One fsync for every batch committed so far; batches committed while it runs wait for the next. */
  private startSync(): void {
    this.syncing = this.waiting;
    this.waiting = [];
    this.syncRunning = true;
    this.wal!.sync((err) => {
      const done = this.syncing;
      this.syncing = [];
      this.syncRunning = false;
      const failure = err ? new StoreError(`the store's write-ahead log could not be made durable: ${err.message}`) : undefined;
      for (const settle of done) settle(failure);
      if (this.waiting.length > 0) this.startSync();
    });
  }

  /** Runs what is queued now, makes it durable and refuses new writes. */
  close(): void {
    this.closed = true;
    while (this.queue.length > 0) this.flush();
    const pending = [...this.syncing, ...this.waiting];
    this.syncing = [];
    this.waiting = [];
    if (pending.length === 0) return;
    let failure: StoreError | undefined;
    try {
      this.wal!.syncNow();
    } catch (e) {
      failure = new StoreError(`the store's write-ahead log could not be made durable: ${(e as Error).message}`);
    }
    for (const settle of pending) settle(failure);
  }
}

/** Answers a committed batch's writers: their outcomes, or all rejected when the commit could not be made durable. */
type Settle = (err?: StoreError) => void;

function expiry(now: number, ttlSeconds?: number): number | null {
  if (ttlSeconds === undefined || ttlSeconds <= 0) return null;
  return now + Math.round(ttlSeconds * 1000);
}
