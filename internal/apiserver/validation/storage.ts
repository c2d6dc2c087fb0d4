// Validation of the storage kinds, after upstream's pkg/apis/core/validation (PersistentVolume, PersistentVolumeClaim)
// and pkg/apis/storage/validation (StorageClass): required fields, supported values, what may change on update.
import { isQuantity, quantityValue } from "../../api/quantity.ts";
import type { Errors } from "./errors.ts";
import { deepEqual, isObj, type Obj } from "./util.ts";

const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const RECLAIM_POLICIES = ["Delete", "Recycle", "Retain"];
const VOLUME_MODES = ["Block", "Filesystem"];
/** The PersistentVolumeSource fields upstream knows (one must be set). */
const PV_SOURCES = [
  "gcePersistentDisk", "awsElasticBlockStore", "hostPath", "glusterfs", "nfs", "rbd", "iscsi", "cinder", "cephfs", "fc",
  "flocker", "flexVolume", "azureFile", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "portworxVolume",
  "scaleIO", "local", "storageos", "csi",
];

function accessModes(e: Errors, modes: unknown, path: string, what: string): void {
  if (!Array.isArray(modes) || modes.length === 0) {
    e.required(path, what);
    return;
  }
  for (const m of modes) if (!ACCESS_MODES.includes(m)) e.notSupported(path, m, ACCESS_MODES);
  if (modes.includes("ReadWriteOncePod") && modes.length > 1) e.forbidden(path, "may not use ReadWriteOncePod with other access modes");
}

function storageQuantity(e: Errors, q: unknown, path: string): void {
  if (!isQuantity(q)) e.invalid(path, q, "must be a quantity");
  else if (quantityValue(q as string) <= 0) e.invalid(path, q, "must be greater than zero");
}

export function validateStorageClass(e: Errors, sc: Obj): void {
  if (typeof sc.provisioner !== "string" || sc.provisioner === "") e.required("provisioner");
  else if (sc.provisioner.length > 63) e.tooLong("provisioner", 63);
  if (sc.reclaimPolicy !== undefined && !["Delete", "Retain"].includes(sc.reclaimPolicy)) e.notSupported("reclaimPolicy", sc.reclaimPolicy, ["Delete", "Retain"]);
  if (sc.volumeBindingMode !== undefined && !["Immediate", "WaitForFirstConsumer"].includes(sc.volumeBindingMode)) {
    e.notSupported("volumeBindingMode", sc.volumeBindingMode, ["Immediate", "WaitForFirstConsumer"]);
  }
  if (sc.parameters !== undefined && !isObj(sc.parameters)) e.invalid("parameters", sc.parameters, "must be a map");
  else if (sc.parameters && Object.keys(sc.parameters).length > 512) e.tooLong("parameters", 512);
}

export function validateStorageClassUpdate(e: Errors, sc: Obj, old: Obj): void {
  if (!deepEqual(sc.parameters ?? {}, old.parameters ?? {})) e.forbidden("parameters", "updates to parameters are forbidden.");
  if (sc.provisioner !== old.provisioner) e.forbidden("provisioner", "updates to provisioner are forbidden.");
  if ((sc.reclaimPolicy ?? "Delete") !== (old.reclaimPolicy ?? "Delete")) e.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden.");
  if (sc.volumeBindingMode !== old.volumeBindingMode) e.invalid("volumeBindingMode", sc.volumeBindingMode, "field is immutable");
}

export function validatePersistentVolumeClaim(e: Errors, pvc: Obj): void {
  const spec = pvc.spec;
  if (!isObj(spec)) {
    e.required("spec");
    return;
  }
  // A claim cloning or restoring from a data source may leave access modes to the source; kubun has none.
  accessModes(e, spec.accessModes, "spec.accessModes", "at least 1 access mode is required");
  const storage = spec.resources?.requests?.storage;
  if (storage === undefined) e.required("spec.resources[storage]");
  else storageQuantity(e, storage, "spec.resources[storage]");
  if (spec.volumeMode !== undefined && !VOLUME_MODES.includes(spec.volumeMode)) e.notSupported("spec.volumeMode", spec.volumeMode, VOLUME_MODES);
  if (spec.storageClassName !== undefined && spec.storageClassName !== "" && typeof spec.storageClassName !== "string") {
    e.invalid("spec.storageClassName", spec.storageClassName, "must be a string");
  }
}

/** Upstream ValidatePersistentVolumeClaimUpdate: the spec is fixed, except what binding and expansion change. */
export function validatePersistentVolumeClaimUpdate(e: Errors, pvc: Obj, old: Obj): void {
  const spec = isObj(pvc.spec) ? pvc.spec : {};
  const oldSpec = isObj(old.spec) ? old.spec : {};
  const masked = structuredClone(spec);
  // The binder fills volumeName once; a retroactively defaulted class may be set once; bound claims may grow.
  if (!oldSpec.volumeName) masked.volumeName = oldSpec.volumeName;
  if (oldSpec.storageClassName === undefined || oldSpec.storageClassName === null) masked.storageClassName = oldSpec.storageClassName;
  const bound = old.status?.phase === "Bound";
  if (bound) {
    masked.resources = oldSpec.resources;
    masked.volumeAttributesClassName = oldSpec.volumeAttributesClassName;
  }
  if (!deepEqual(masked, oldSpec)) {
    e.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims");
    return;
  }
  const req = spec.resources?.requests?.storage;
  const cap = old.status?.capacity?.storage;
  if (bound && req !== undefined && cap !== undefined && isQuantity(req) && isQuantity(cap) && quantityValue(req) < quantityValue(cap)) {
    e.forbidden("spec.resources.requests.storage", "field can not be less than status.capacity");
  }
}

export function validatePersistentVolume(e: Errors, pv: Obj): void {
  const spec = pv.spec;
  if (!isObj(spec)) {
    e.required("spec");
    return;
  }
  accessModes(e, spec.accessModes, "spec.accessModes", "");
  if (!isObj(spec.capacity) || Object.keys(spec.capacity).length === 0) e.required("spec.capacity");
  else {
    const keys = Object.keys(spec.capacity);
    if (!("storage" in spec.capacity) || keys.length > 1) e.notSupported("spec.capacity", keys.join(", "), ["storage"]);
    else storageQuantity(e, spec.capacity.storage, "spec.capacity[storage]");
  }
  if (spec.persistentVolumeReclaimPolicy !== undefined && !RECLAIM_POLICIES.includes(spec.persistentVolumeReclaimPolicy)) {
    e.notSupported("spec.persistentVolumeReclaimPolicy", spec.persistentVolumeReclaimPolicy, RECLAIM_POLICIES);
  }
  if (spec.volumeMode !== undefined && !VOLUME_MODES.includes(spec.volumeMode)) e.notSupported("spec.volumeMode", spec.volumeMode, VOLUME_MODES);
  const sources = PV_SOURCES.filter((k) => spec[k] !== undefined && spec[k] !== null);
  if (sources.length === 0) e.required("spec", "must specify a volume type");
  for (const k of sources.slice(1)) e.forbidden(`spec.${k}`, "may not specify more than 1 volume type");
  if (isObj(spec.hostPath)) {
    if (typeof spec.hostPath.path !== "string" || spec.hostPath.path === "") e.required("spec.hostPath.path");
    else if (spec.hostPath.path.split("/").includes("..")) e.invalid("spec.hostPath.path", spec.hostPath.path, "must not contain '..'");
  }
  if (isObj(spec.local)) {
    if (typeof spec.local.path !== "string" || spec.local.path === "") e.required("spec.local.path");
    if (!isObj(spec.nodeAffinity)) e.required("spec.nodeAffinity", "Local volume requires node affinity");
  }
  if (spec.nodeAffinity !== undefined && isObj(spec.nodeAffinity)) {
    const terms = spec.nodeAffinity.required?.nodeSelectorTerms;
    if (!Array.isArray(terms) || terms.length === 0) e.required("spec.nodeAffinity.required.nodeSelectorTerms", "must have at least one node selector term");
  }
}

export function validatePersistentVolumeUpdate(e: Errors, pv: Obj, old: Obj): void {
  const spec = isObj(pv.spec) ? pv.spec : {};
  const oldSpec = isObj(old.spec) ? old.spec : {};
  const source = (s: Obj) => Object.fromEntries(PV_SOURCES.filter((k) => s[k] !== undefined).map((k) => [k, s[k]]));
  if (!deepEqual(source(spec), source(oldSpec))) e.forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is immutable after creation");
  if (oldSpec.volumeMode !== undefined && spec.volumeMode !== oldSpec.volumeMode) e.invalid("spec.volumeMode", spec.volumeMode, "field is immutable");
  if (oldSpec.nodeAffinity !== undefined && !deepEqual(spec.nodeAffinity, oldSpec.nodeAffinity)) e.invalid("spec.nodeAffinity", spec.nodeAffinity, "field is immutable");
}
