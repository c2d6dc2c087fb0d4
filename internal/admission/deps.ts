// What admission plugins read: current objects from the store (they run inside the API server, before the write).
import type { Store } from "../store/types.ts";
import { findResource, storageKey, storagePrefix } from "../api/resources.ts";

export interface AdmissionDeps {
  store: Store;
  /** How long ServiceAccount admission waits for a namespace's "default" ServiceAccount to appear (ms). */
  serviceAccountWaitMs?: number;
}

export interface Getter {
  get<T = any>(group: string, resource: string, namespace: string | undefined, name: string): Promise<T | undefined>;
  list<T = any>(group: string, resource: string, namespace?: string): Promise<T[]>;
  /** Read the store itself, past any cache (NamespaceLifecycle after a namespace DELETE). Absent: same as get. */
  getLive?<T = any>(group: string, resource: string, namespace: string | undefined, name: string): Promise<T | undefined>;
}

export function storeGetter(store: Store): Getter {
  const info = (group: string, resource: string) => {
    const ri = findResource(group, "v1", resource);
    if (!ri) throw new Error(`unknown resource ${resource}.${group}`);
    return ri;
  };
  const get: Getter["get"] = async (group, resource, namespace, name) => {
    const { kv } = await store.get(storageKey(info(group, resource), namespace, name));
    return kv ? JSON.parse(kv.value) : undefined;
  };
  return {
    get,
    getLive: get,
    async list(group, resource, namespace) {
      const ri = info(group, resource);
      const prefix = namespace ? `${storagePrefix(ri)}${namespace}/` : storagePrefix(ri);
      const res = await store.list(prefix);
      return res.items.map((kv) => JSON.parse(kv.value));
    },
  };
}
