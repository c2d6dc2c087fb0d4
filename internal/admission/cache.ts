// The objects admission reads on every pod create — Namespaces (NamespaceLifecycle), PriorityClasses (Priority),
// ServiceAccounts (ServiceAccount, token Secrets) — held in memory and fed by store watches, as upstream's plugins
// read them from informer listers. A create then costs no store read: under load the synchronous SQLite reads (and on
// etcd a gRPC round trip each) were a large share of the create path.
// Reads of these resources hit the cache; a miss (an object created a moment ago, or the cache not synced yet)
// reads the store once. Everything else goes straight to the store.
import type { Store } from "../store/types.ts";
import { findResource, storageKey, storagePrefix, type ResourceInfo } from "../api/resources.ts";
import { storeGetter, type Getter } from "./deps.ts";
import { WatchedPrefix } from "./watchedprefix.ts";

/** group/resource pairs the cache holds. */
export const CACHED_RESOURCES = [
  ["", "namespaces"],
  ["scheduling.k8s.io", "priorityclasses"],
  ["", "serviceaccounts"],
] as const;

function resourceInfo(group: string, resource: string): ResourceInfo {
  const ri = findResource(group, "v1", resource);
  if (!ri) throw new Error(`unknown resource ${resource}.${group}`);
  return ri;
}

export class AdmissionCache {
  private prefixes = new Map<string, WatchedPrefix>(); // "group/resource" → copy
  /** Resolves once every resource has been listed (reads work before that: they go to the store). */
  readonly ready: Promise<void>;

  constructor(store: Store, opts: { signal?: AbortSignal } = {}) {
    for (const [group, resource] of CACHED_RESOURCES) {
      this.prefixes.set(`${group}/${resource}`, new WatchedPrefix(store, storagePrefix(resourceInfo(group, resource)), opts.signal));
    }
    this.ready = Promise.all([...this.prefixes.values()].map((p) => p.ready)).then(() => {});
  }

  /** The watched copy of a resource, if cached. */
  of(group: string, resource: string): WatchedPrefix | undefined {
    return this.prefixes.get(`${group}/${resource}`);
  }

  get synced(): boolean {
    for (const p of this.prefixes.values()) if (!p.synced) return false;
    return true;
  }

  close(): void {
    for (const p of this.prefixes.values()) p.close();
  }
}

/**
 * A Getter that answers from the cache where it can: get → cached object, or one store read on a miss; list → the
 * cached objects while synced. Returned objects are shared with the cache: plugins read them, never change them.
 */
export function cachedGetter(store: Store, cache: AdmissionCache): Getter {
  const live = storeGetter(store);
  return {
    async get(group, resource, namespace, name) {
      const copy = cache.of(group, resource);
      const hit = copy?.get(storageKey(resourceInfo(group, resource), namespace, name));
      if (hit !== undefined) return hit;
      return live.get(group, resource, namespace, name);
    },
    async list(group, resource, namespace) {
      const copy = cache.of(group, resource);
      if (!copy?.synced) return live.list(group, resource, namespace);
      const prefix = storagePrefix(resourceInfo(group, resource));
      return copy.list(namespace ? `${prefix}${namespace}/` : prefix);
    },
    getLive: live.get,
  };
}
