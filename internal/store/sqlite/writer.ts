// Group commit: writes queue up and run together in one BEGIN IMMEDIATE transaction on the next turn of the event
// loop, so N concurrent writers cost one fsync instead of N. Each write is acknowledged (its promise resolved) only
// after COMMIT returned, i.e. after the WAL was fsynced (synchronous=FULL). A write that fails its precondition
// (exists / not found / conflict) gets its error without affecting the others in the batch.
import type { Database } from "bun:sqlite";
import type { KeyValue, WatchEvent } from "../types.ts";
import { ConflictError, KeyExistsError, NotFoundError, StoreError } from "../types.ts";
import { type LogRow, type Queries, changes, rowToKV } from "./queries.ts";

/** A unit of work run inside the batch transaction; the rows it appends record their events on the context. */
type Job<T> = (ctx: TxContext) => T;

interface Pending {
  job: Job<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** What a job may do inside the transaction. */
export class TxContext {
  readonly events: WatchEvent[] = [];
  constructor(
    private q: Queries,
    readonly now: number,
  ) {}

  latest(key: string): LogRow | undefined {
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
    const res = this.q.insert.run({
      name,
      created: created ? 1 : 0,
      deleted: deleted ? 1 : 0,
      createRevision,
      prevRevision,
      expiresAt,
      value,
    });
    return Number(changes(res).lastInsertRowid);
  }

  /** Appends a put; `prev` is the key's newest row (live, deleted or undefined). */
  put(key: string, value: string, prev: LogRow | undefined, expiresAt: number | null): KeyValue {
    const live = prev && !prev.deleted ? prev : undefined;
    const createRevision = live ? (live.created ? live.id : live.createRevision) : 0;
    const id = this.append(key, !live, false, createRevision, prev?.id ?? 0, expiresAt, value);
    const kv: KeyValue = { key, value, createRevision: live ? createRevision : id, modRevision: id };
    if (expiresAt != null) kv.expiresAt = expiresAt;
    this.events.push(live ? { type: "PUT", kv, prevKv: rowToKV(live) } : { type: "PUT", kv, created: true });
    return kv;
  }

  /** Appends a tombstone for the live row `prev`; returns the deleted value with modRevision = the delete's. */
  del(prev: LogRow): KeyValue {
    const prevKv = rowToKV(prev);
    const id = this.append(prev.name, false, true, prevKv.createRevision, prev.id, null, null);
    const kv: KeyValue = { key: prev.name, value: prevKv.value, createRevision: prevKv.createRevision, modRevision: id };
    this.events.push({ type: "DELETE", kv, prevKv });
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

  constructor(
    private db: Database,
    private q: Queries,
    /** Called after each commit with the events of the batch (consecutive revisions). */
    private onCommit: (events: WatchEvent[]) => void,
    private maxBatch = 256,
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
          ctx = new TxContext(this.q, Date.now());
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
      // Rolled back: nothing of this batch was written (e.g. disk full, or SQLITE_BUSY past busy_timeout).
      for (const p of batch) p.reject(e);
      return;
    }
    if (ctx.events.length > 0) this.onCommit(ctx.events);
    batch.forEach((p, i) => (outcomes[i]!.ok ? p.resolve(outcomes[i]!.v) : p.reject(outcomes[i]!.v)));
  }

  /** Runs what is queued now and refuses new writes. */
  close(): void {
    this.closed = true;
    while (this.queue.length > 0) this.flush();
  }
}

function expiry(now: number, ttlSeconds?: number): number | null {
  if (ttlSeconds === undefined || ttlSeconds <= 0) return null;
  return now + Math.round(ttlSeconds * 1000);
}
