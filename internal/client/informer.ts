// Informer: list (paged) + watch into an in-memory cache with indexes, calling handlers on every change,
// as upstream client-go's reflector + indexer + shared informer. Handlers must be quick (enqueue a key).

import { logger, type Logger } from "../log/log.ts";
import { ApiError, type ResourceClient, type WatchEvent } from "./types.ts";

export interface ObjectWithMeta {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    ownerReferences?: { uid: string }[];
    [k: string]: any;
  };
}

export interface EventHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  /**
   * finalStateUnknown (upstream's DeletedFinalStateUnknown tombstone) is true when the deletion was noticed by a
   * relist rather than a watch event, so obj is the last state the cache saw, not the state at deletion.
   */
  onDelete?(obj: T, finalStateUnknown: boolean): void;
}

export type IndexFunc<T> = (obj: T) => string[];

export interface InformerOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size of the initial list and relists. */
  pageSize?: number;
  /** Server-side watch timeout; the informer re-watches from the last resourceVersion when it ends. */
  watchTimeoutSeconds?: number;
  /** Backoff after a failed list or a broken watch. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Calls onUpdate(obj, obj) for every cached object this often (upstream resyncPeriod); 0 = never. */
  resyncMs?: number;
  /**
   * Keep metadata.managedFields in cached objects. By default they are dropped before caching, as upstream's
   * scheduler does for its pod informer (client-go TransformStripManagedFields): no kubun component reads them, and
   * they are a third or more of a pod's objects in every cache (an update sent from a cached object without them
   * keeps the stored ones).
   */
  keepManagedFields?: boolean;
  log?: Logger;
  name?: string;
}

/** Cache key: "namespace/name" or "name" for cluster-scoped objects (upstream MetaNamespaceKeyFunc). */
export function keyOf(obj: ObjectWithMeta): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? "");
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** The object without metadata.managedFields (a new top-level object and metadata; the rest shared). */
export function withoutManagedFields<T extends ObjectWithMeta>(o: T): T {
  if (o.metadata?.managedFields === undefined) return o;
  // Rest-spread rather than delete: a deleted property turns an object into a slow dictionary in JavaScriptCore.
  const { managedFields: _, ...metadata } = o.metadata;
  return { ...o, metadata };
}

/** Common index functions. */
export const indexers = {
  byNamespace: (o: ObjectWithMeta) => (o.metadata?.namespace ? [o.metadata.namespace] : []),
  byNodeName: (o: any) => (o?.spec?.nodeName ? [o.spec.nodeName] : []),
  byOwnerUID: (o: ObjectWithMeta) => (o.metadata?.ownerReferences ?? []).map((r) => r.uid),
  /** Index by the value of one label; objects without it are not indexed. */
  byLabel:
    (label: string) =>
    (o: ObjectWithMeta): string[] => {
      const v = o.metadata?.labels?.[label];
      return v === undefined ? [] : [v];
    },
};

export class Informer<T extends ObjectWithMeta = any> {
  private store = new Map<string, T>();
  private indexFns = new Map<string, IndexFunc<T>>();
  private indices = new Map<string, Map<string, Set<string>>>();
  private handlers: EventHandlers<T>[] = [];
  private synced_ = false;
  private seeded = false;
  private resolveSynced!: () => void;
  /** Resolves once the first full list is in the cache. */
  readonly synced: Promise<void>;
  private running?: Promise<void>;
  private lastRV = "";
  private log: Logger;
  private opts: Required<Omit<InformerOptions, "labelSelector" | "fieldSelector" | "log" | "name" | "resyncMs" | "keepManagedFields">> & InformerOptions;

  constructor(
    private client: ResourceClient<T>,
    opts: InformerOptions = {},
  ) {
    this.opts = { pageSize: 500, watchTimeoutSeconds: 300, minBackoffMs: 200, maxBackoffMs: 30_000, ...opts };
    this.log = opts.log ?? logger(`informer${opts.name ? "." + opts.name : ""}`);
    this.synced = new Promise((r) => (this.resolveSynced = r));
  }

  hasSynced(): boolean {
    return this.synced_;
  }

  /** Synced, or seeded with a saved copy: the cache holds the last known state even while the server is away. */
  hasData(): boolean {
    return this.synced_ || this.seeded;
  }

  /**
   * Fills the cache with objects saved by an earlier run (handlers see adds), before the first list: a node that
   * restarts while the server is away answers from them. The first real list replaces them (with tombstones).
   */
  seed(objects: T[]): void {
    if (this.synced_) return;
    this.seeded = true;
    for (const o of objects) if (!this.store.has(keyOf(o))) this.apply("ADDED", o);
  }

  /** resourceVersion of the last list, event or bookmark seen. */
  lastSyncResourceVersion(): string {
    return this.lastRV;
  }

  addIndexer(name: string, fn: IndexFunc<T>): void {
    if (this.indexFns.has(name)) return;
    this.indexFns.set(name, fn);
    const idx = new Map<string, Set<string>>();
    this.indices.set(name, idx);
    for (const [k, o] of this.store) for (const v of fn(o)) addTo(idx, v, k);
  }

  /** Registers handlers; objects already in the cache are replayed as adds (as upstream does for late handlers). */
  addEventHandler(h: EventHandlers<T>): () => void {
    this.handlers.push(h);
    if (h.onAdd) for (const o of this.store.values()) h.onAdd(o);
    return () => {
      const i = this.handlers.indexOf(h);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  getByName(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  values(): IterableIterator<T> {
    return this.store.values();
  }

  keys(): string[] {
    return [...this.store.keys()];
  }

  get size(): number {
    return this.store.size;
  }

  byIndex(indexName: string, value: string): T[] {
    const idx = this.indices.get(indexName);
    if (!idx) throw new Error(`informer: no index ${indexName}`);
    const keys = idx.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const o = this.store.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  indexKeys(indexName: string, value: string): string[] {
    return [...(this.indices.get(indexName)?.get(value) ?? [])];
  }

  /** Starts list+watch until the signal aborts; calling twice returns the same run. */
  run(signal: AbortSignal): Promise<void> {
    if (!this.running && this.opts.resyncMs && this.opts.resyncMs > 0) {
      const t = setInterval(() => {
        if (!this.synced_) return;
        for (const o of this.store.values()) for (const h of this.handlers) h.onUpdate?.(o, o);
      }, this.opts.resyncMs);
      (t as any).unref?.();
      signal.addEventListener("abort", () => clearInterval(t), { once: true });
    }
    this.running ??= this.loop(signal);
    return this.running;
  }

  private async loop(signal: AbortSignal): Promise<void> {
    let backoff = this.opts.minBackoffMs;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist(signal);
          needList = false;
          backoff = this.opts.minBackoffMs;
        }
        const started = Date.now();
        const clean = await this.watchOnce(signal);
        // A watch closed cleanly by the server (its timeout) resumes from the last resourceVersion; one that
        // keeps ending at once is retried with backoff rather than in a tight loop.
        if (clean) {
          if (Date.now() - started < 1000) {
            await sleep(backoff, signal);
            backoff = Math.min(backoff * 2, this.opts.maxBackoffMs);
          } else backoff = this.opts.minBackoffMs;
          continue;
        }
        needList = true;
      } catch (e) {
        if (signal.aborted) break;
        const gone = e instanceof ApiError && (e.code === 410 || e.reason === "Expired" || e.reason === "Gone");
        if (gone) {
          // Our resourceVersion is too old: relist at once.
          this.log.info("watch expired, relisting", { rv: this.lastRV });
          needList = true;
          continue;
        }
        this.log.warn("list/watch failed, retrying", { error: e as Error, backoffMs: Math.round(backoff) });
        needList = true;
        await sleep(backoff * (0.8 + Math.random() * 0.4), signal);
        backoff = Math.min(backoff * 2, this.opts.maxBackoffMs);
      }
    }
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = "";
    do {
      if (signal.aborted) return;
      const page = await this.client.list({
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
        limit: this.opts.pageSize,
        continue: cont,
      });
      for (const it of page.items) items.push(it);
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
    } while (cont);
    this.replace(items, rv);
  }

  /** Replaces the cache with a fresh list, emitting adds, updates and tombstoned deletes for the differences. */
  private replace(items: T[], rv: string): void {
    const seen = new Set<string>();
    for (const o of items) {
      const k = keyOf(o);
      seen.add(k);
      const old = this.store.get(k);
      if (!old) this.apply("ADDED", o);
      else if (old.metadata?.resourceVersion !== o.metadata?.resourceVersion) this.apply("MODIFIED", o);
    }
    for (const [k, o] of [...this.store]) {
      if (seen.has(k)) continue;
      this.removeKey(k, o);
      for (const h of this.handlers) h.onDelete?.(o, true);
    }
    this.lastRV = rv;
    if (!this.synced_) {
      this.synced_ = true;
      this.resolveSynced();
    }
  }

  /** One watch from lastRV; true when the server ended it cleanly, throws ApiError(410) when expired. */
  private async watchOnce(signal: AbortSignal): Promise<boolean> {
    const stream = this.client.watch({
      labelSelector: this.opts.labelSelector,
      fieldSelector: this.opts.fieldSelector,
      resourceVersion: this.lastRV,
      allowWatchBookmarks: true,
      timeoutSeconds: Math.round(this.opts.watchTimeoutSeconds * (1 + Math.random())),
      signal,
    });
    for await (const ev of stream as AsyncIterable<WatchEvent<any>>) {
      if (ev.type === "ERROR") {
        const st = ev.object ?? {};
        throw new ApiError(st.code ?? 500, st.reason ?? "InternalError", st.message ?? "watch error", st);
      }
      const rv = ev.object?.metadata?.resourceVersion;
      if (ev.type === "BOOKMARK") {
        if (rv) this.lastRV = rv;
        continue;
      }
      this.apply(ev.type, ev.object as T);
      if (rv) this.lastRV = rv;
    }
    return !signal.aborted;
  }

  private apply(type: WatchEvent<T>["type"], received: T): void {
    const obj = this.opts.keepManagedFields ? received : withoutManagedFields(received);
    const k = keyOf(obj);
    const old = this.store.get(k);
    if (type === "DELETED") {
      if (!old) return;
      this.removeKey(k, old);
      for (const h of this.handlers) h.onDelete?.(obj, false);
      return;
    }
    if (old) this.unindex(k, old);
    this.store.set(k, obj);
    this.index(k, obj);
    if (old) for (const h of this.handlers) h.onUpdate?.(old, obj);
    else for (const h of this.handlers) h.onAdd?.(obj);
  }

  private removeKey(k: string, old: T): void {
    this.unindex(k, old);
    this.store.delete(k);
  }

  private index(k: string, o: T): void {
    for (const [name, fn] of this.indexFns) {
      const idx = this.indices.get(name)!;
      for (const v of fn(o)) addTo(idx, v, k);
    }
  }

  private unindex(k: string, o: T): void {
    for (const [name, fn] of this.indexFns) {
      const idx = this.indices.get(name)!;
      for (const v of fn(o)) {
        const s = idx.get(v);
        if (!s) continue;
        s.delete(k);
        if (s.size === 0) idx.delete(v);
      }
    }
  }
}

function addTo(idx: Map<string, Set<string>>, v: string, k: string): void {
  let s = idx.get(v);
  if (!s) idx.set(v, (s = new Set()));
  s.add(k);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
