// A ResourceClient view that keeps only metadata of listed and watched objects, so the garbage collector's
// informers on every resource cost little memory (upstream uses metadata-only informers for the same reason).

import type { ResourceClient, WatchEvent } from "../../client/types.ts";

function strip(o: any, apiVersion: string, kind: string): any {
  if (!o || typeof o !== "object") return o;
  const m = o.metadata ?? {};
  return {
    apiVersion,
    kind,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      ownerReferences: m.ownerReferences,
      finalizers: m.finalizers,
      deletionTimestamp: m.deletionTimestamp,
    },
  };
}

export function metadataOnly<T>(c: ResourceClient<T>, apiVersion: string, kind: string): ResourceClient<T> {
  return {
    ...c,
    async list(opts) {
      const res = await c.list(opts);
      return { ...res, items: res.items.map((o) => strip(o, apiVersion, kind)) };
    },
    async *watch(opts) {
      for await (const ev of c.watch(opts) as AsyncIterable<WatchEvent<any>>) {
        if (ev.type === "ERROR" || ev.type === "BOOKMARK") yield ev;
        else yield { type: ev.type, object: strip(ev.object, apiVersion, kind) };
      }
    },
  };
}
