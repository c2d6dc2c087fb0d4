// ownerReference helpers: who controls an object, and building a controller reference.

import type { ObjectMeta, OwnerReference } from "kubernetes-types/meta/v1";

export interface Owned {
  metadata?: ObjectMeta;
}

export function controllerOf(obj: Owned): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller);
}

export function newControllerRef(owner: { apiVersion?: string; kind?: string; metadata?: ObjectMeta }, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata!.name!,
    uid: owner.metadata!.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** "ns/name" or "name" for cluster-scoped objects. */
export function keyOf(obj: Owned): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : m.name!;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
