// Object-meta helpers every component shares: who controls an object (ownerReferences), building a
// controller reference.

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
