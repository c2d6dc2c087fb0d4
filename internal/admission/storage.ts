// Storage admission, as upstream's plugin/pkg/admission/storage: DefaultStorageClass gives a claim that names no
// class (storageClassName unset; "" means "no class") the default StorageClass — the newest one when several are
// marked default — and StorageObjectInUseProtection puts the kubernetes.io/pvc-protection and pv-protection
// finalizers on new claims and volumes, which the protection controllers remove once nothing uses them.
import type { PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1";
import type { StorageClass } from "kubernetes-types/storage/v1";
import type { AdmissionPlugin } from "./types.ts";
import type { Getter } from "./deps.ts";
import { isDefaultStorageClass, newestDefaultClass } from "../api/defaultclass.ts";

export const PVC_PROTECTION_FINALIZER = "kubernetes.io/pvc-protection";
export const PV_PROTECTION_FINALIZER = "kubernetes.io/pv-protection";
/** Upstream GetDefaultClass: among classes marked default, the newest (then the first by name). */
export function pickDefaultClass(classes: StorageClass[]): StorageClass | undefined {
  return newestDefaultClass(classes, isDefaultStorageClass);
}

export function defaultStorageClassAdmission(get: Getter): AdmissionPlugin {
  return {
    name: "DefaultStorageClass",
    async admit(req) {
      if (req.operation !== "CREATE" || req.group !== "" || req.resource !== "persistentvolumeclaims" || req.subresource) return;
      const pvc = req.object as PersistentVolumeClaim | undefined;
      if (!pvc?.spec || typeof pvc.spec !== "object") return;
      // The beta annotation names a class too (upstream's GetPersistentVolumeClaimClass).
      if (pvc.spec.storageClassName !== undefined && pvc.spec.storageClassName !== null) return;
      if (pvc.metadata?.annotations?.["volume.beta.kubernetes.io/storage-class"] !== undefined) return;
      const def = pickDefaultClass(await get.list<StorageClass>("storage.k8s.io", "storageclasses"));
      if (def) pvc.spec.storageClassName = def.metadata!.name;
    },
  };
}

function addFinalizer(obj: { metadata?: { finalizers?: string[] } } | undefined, f: string): void {
  if (!obj?.metadata || typeof obj.metadata !== "object") return;
  const list = Array.isArray(obj.metadata.finalizers) ? obj.metadata.finalizers : [];
  if (!list.includes(f)) obj.metadata.finalizers = [...list, f];
}

export function storageObjectInUseProtection(): AdmissionPlugin {
  return {
    name: "StorageObjectInUseProtection",
    async admit(req) {
      if (req.operation !== "CREATE" || req.group !== "" || req.subresource) return;
      if (req.resource === "persistentvolumeclaims") addFinalizer(req.object as PersistentVolumeClaim, PVC_PROTECTION_FINALIZER);
      else if (req.resource === "persistentvolumes") addFinalizer(req.object as PersistentVolume, PV_PROTECTION_FINALIZER);
    },
  };
}
