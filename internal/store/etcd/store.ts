// The etcd backend of the Store contract (for HA): etcd already is a revisioned store with watch, so each method
// maps onto one etcd request — create = txn(create_revision == 0), update = txn(mod_revision == expected),
// TTL = a lease per write. Compaction: like kube-apiserver, a background loop compacts to the revision it saw
// one interval earlier; a txn on the compact_rev_key makes sure only one of several servers does it per interval.
import { Etcd3, type IKeyValue, type IOptions } from "etcd3";
import { type Logger, logger } from "../../log/log.ts";
import { prefixEnd } from "../keys.ts";
import {
  ConflictError,
  KeyExistsError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  NotFoundError,
  type Store,
  StoreError,
  type WatchEvent,
  type WatchOptions,
} from "../types.ts";
import { enc, mapReadError, toKV } from "./convert.ts";
import { EtcdWatch } from "./watch.ts";
import { allowIPServerNames } from "./tls-ip.ts";

const COMPACT_KEY = "compact_rev_key";

export interface EtcdStoreOptions {
  log?: Logger;
  /** Background compaction interval, ms (default 5 min; 0 = off). History kept = about one interval. */
  compactIntervalMs?: number;
  /** Extra etcd3 client options (TLS credentials, auth). */
  client?: Partial<IOptions>;
}

export class EtcdStore implements Store {
  readonly client: Etcd3;
  private log: Logger;
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastSeen = 0;
  private leases = new Map<number, { id: string; reuseUntil: number }>();
  private closed = false;

  constructor(endpoints: string[], opts: EtcdStoreOptions = {}) {
    this.log = opts.log ?? logger("store.etcd");
    if (opts.client?.credentials) allowIPServerNames();
    this.client = new Etcd3({
      hosts: endpoints,
      dialTimeout: 5000,
      // Lists of many objects exceed gRPC's 4 MB default (kube-apiserver lifts the limit too).
      grpcOptions: { "grpc.max_receive_message_length": -1, "grpc.max_send_message_length": -1 },
      ...opts.client,
    });
    const interval = opts.compactIntervalMs ?? 5 * 60_000;
    if (interval > 0) {
      this.timer = setInterval(() => void this.compactTick().catch((e) => this.log.warn("compaction failed", { error: e })), interval);
      this.timer.unref?.();
    }
  }

  private check(): void {
    if (this.closed) throw new StoreError("store is closed");
  }

  async get(key: string): Promise<{ revision: number; kv?: KeyValue }> {
    this.check();
    const res = await this.client.kv.range({ key: enc(key) });
    const kv = res.kvs[0];
    return kv ? { revision: Number(res.header.revision), kv: toKV(kv) } : { revision: Number(res.header.revision) };
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.check();
    const start = opts.startAfter !== undefined && opts.startAfter >= prefix ? opts.startAfter + "\0" : prefix;
    const revision = opts.revision && opts.revision > 0 ? opts.revision : undefined;
    try {
      const res = await this.client.kv.range({
        key: enc(start),
        range_end: enc(prefixEnd(prefix)),
        limit: opts.limit && opts.limit > 0 ? opts.limit : 0,
        revision,
      });
      const items = res.kvs.map(toKV);
      // count is the number of keys in the whole range, not only the page.
      // header.revision is etcd's current revision; the read happened at the requested one.
      return { revision: revision ?? Number(res.header.revision), items, remaining: Number(res.count) - items.length };
    } catch (e) {
      return mapReadError(e, revision ?? 0, () => this.compactRevision());
    }
  }

  async count(prefix: string): Promise<{ revision: number; count: number }> {
    this.check();
    const res = await this.client.kv.range({ key: enc(prefix), range_end: enc(prefixEnd(prefix)), count_only: true });
    return { revision: Number(res.header.revision), count: Number(res.count) };
  }

  /**
   * A lease for a TTL'd write. As kube-apiserver does, one lease is shared by the writes of a short window (5% of the
   * TTL, at most a minute) and granted that much longer, so Events cost one lease per window, not one each; a key
   * thus expires between ttl and ttl + window after its write.
   */
  private async lease(ttlSeconds?: number): Promise<string | undefined> {
    if (ttlSeconds === undefined || ttlSeconds <= 0) return undefined;
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    const now = Date.now();
    const cached = this.leases.get(ttl);
    if (cached && now < cached.reuseUntil) return cached.id;
    const reuse = Math.min(60, ttl * 0.05);
    const res = await this.client.leaseClient.leaseGrant({ TTL: Math.ceil(ttl + reuse), ID: 0 });
    this.leases.set(ttl, { id: res.ID, reuseUntil: now + reuse * 1000 });
    return res.ID;
  }

  async create(key: string, value: string, ttlSeconds?: number): Promise<KeyValue> {
    this.check();
    const lease = await this.lease(ttlSeconds);
    const res = await this.client.kv.txn({
      compare: [{ key: enc(key), target: "Create", result: "Equal", create_revision: 0 }],
      success: [{ request_put: { key: enc(key), value: enc(value), lease } }],
      failure: [],
    });
    if (!res.succeeded) throw new KeyExistsError(key);
    const rev = Number(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(key: string, value: string, expectedRevision: number, ttlSeconds?: number): Promise<KeyValue> {
    this.check();
    const lease = await this.lease(ttlSeconds);
    const res = await this.client.kv.txn({
      compare: [{ key: enc(key), target: "Mod", result: "Equal", mod_revision: expectedRevision }],
      success: [{ request_put: { key: enc(key), value: enc(value), lease, prev_kv: true } }],
      failure: [{ request_range: { key: enc(key) } }],
    });
    if (!res.succeeded) throw this.failure(key, res.responses[0]?.response_range?.kvs[0]);
    const prev = res.responses[0]!.response_put.prev_kv;
    const rev = Number(res.header.revision);
    return { key, value, createRevision: prev ? Number(prev.create_revision) : rev, modRevision: rev };
  }

  async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    this.check();
    const res = await this.client.kv.txn({
      compare:
        expectedRevision === undefined
          ? [{ key: enc(key), target: "Create", result: "Greater", create_revision: 0 }]
          : [{ key: enc(key), target: "Mod", result: "Equal", mod_revision: expectedRevision }],
      success: [{ request_delete_range: { key: enc(key), prev_kv: true } }],
      failure: [{ request_range: { key: enc(key) } }],
    });
    if (!res.succeeded) throw this.failure(key, res.responses[0]?.response_range?.kvs[0]);
    const prev = res.responses[0]!.response_delete_range.prev_kvs[0];
    if (!prev) throw new NotFoundError(key);
    return { ...toKV(prev), modRevision: Number(res.header.revision) };
  }

  private failure(key: string, current: IKeyValue | undefined): StoreError {
    return current ? new ConflictError(key, toKV(current)) : new NotFoundError(key);
  }

  watch(prefix: string, opts: WatchOptions = {}): AsyncIterable<WatchEvent[]> {
    this.check();
    return new EtcdWatch(
      this.client,
      prefix,
      opts.afterRevision,
      // A read at afterRevision fails exactly when a watch from afterRevision + 1 would be compacted.
      async (after) => {
        try {
          await this.client.kv.range({ key: enc(prefix), range_end: enc(prefixEnd(prefix)), revision: after, count_only: true });
        } catch (e) {
          await mapReadError(e, after, () => this.compactRevision());
        }
      },
      opts.signal,
    );
  }

  async currentRevision(): Promise<number> {
    this.check();
    const res = await this.client.kv.range({ key: enc(COMPACT_KEY), count_only: true });
    return Number(res.header.revision);
  }

  async compactRevision(): Promise<number> {
    this.check();
    const res = await this.client.kv.range({ key: enc(COMPACT_KEY) });
    return res.kvs[0] ? Number(res.kvs[0].value.toString()) : 0;
  }

  async compact(revision: number): Promise<void> {
    this.check();
    if (revision <= (await this.compactRevision())) return;
    await this.client.kv.put({ key: enc(COMPACT_KEY), value: enc(String(revision)) });
    try {
      await this.client.kv.compact({ revision, physical: true });
    } catch (e) {
      if (!(e as Error).message.includes("compacted")) throw e;
    }
  }

  /** Compacts to the revision seen at the previous tick, unless another server did so this interval. */
  private async compactTick(): Promise<void> {
    const current = await this.currentRevision();
    const target = this.lastSeen;
    this.lastSeen = current;
    if (target <= 0) return;
    const res = await this.client.kv.range({ key: enc(COMPACT_KEY) });
    const stored = res.kvs[0];
    if (stored && Number(stored.value.toString()) >= target) return;
    const claim = await this.client.kv.txn({
      compare: [{ key: enc(COMPACT_KEY), target: "Mod", result: "Equal", mod_revision: stored ? stored.mod_revision : 0 }],
      success: [{ request_put: { key: enc(COMPACT_KEY), value: enc(String(target)) } }],
      failure: [],
    });
    if (!claim.succeeded) return;
    await this.client.kv.compact({ revision: target, physical: false }).catch((e: Error) => {
      if (!e.message.includes("compacted")) throw e;
    });
    this.log.debug("compacted", { revision: target });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.client.close();
  }
}
