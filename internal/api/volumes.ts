// Which PersistentVolume a claim may bind to (shared by the PV controller and the scheduler), as upstream's findMatchingVolume:
// same class, same volume mode, the claim's access modes all offered, enough capacity, the claim's selector matches
// the volume's labels, the volume is free (or pre-bound to this claim) and, when a node is known, reachable from it.
// Among the candidates the smallest one wins; a volume pre-bound to the claim wins outright.
import type { Node, PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1";
import { quantityValue } from "./quantity.ts";
import { nodeSelectorMatches, selectorMatches } from "./selectors/objects.ts";

export const ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node";
export const ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed";
export const ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller";
export const ANN_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by";
export const ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner";
export const ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner";
const ANN_BETA_CLASS = "volume.beta.kubernetes.io/storage-class";

/** Upstream GetPersistentVolumeClaimClass: the beta annotation, then spec.storageClassName ("" = none). */
export function claimClass(pvc: PersistentVolumeClaim): string {
  return pvc.metadata?.annotations?.[ANN_BETA_CLASS] ?? pvc.spec?.storageClassName ?? "";
}

export function volumeClass(pv: PersistentVolume): string {
  return pv.metadata?.annotations?.[ANN_BETA_CLASS] ?? pv.spec?.storageClassName ?? "";
}

export const storageOf = (q: string | number | undefined): number => (q === undefined ? 0 : quantityValue(q));

/** The volume's required node affinity admits the node (no affinity: any node). */
export function volumeFitsNode(pv: PersistentVolume, node: Node): boolean {
  const req = pv.spec?.nodeAffinity?.required;
  return !req || nodeSelectorMatches(req, node);
}

export function isPreBoundTo(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  return !!ref && ref.name === pvc.metadata?.name && ref.namespace === pvc.metadata?.namespace && (!ref.uid || ref.uid === pvc.metadata?.uid);
}

/** Everything but availability, node and size: could this volume ever serve the claim? */
function compatible(pv: PersistentVolume, pvc: PersistentVolumeClaim, preBound = false): boolean {
  if (volumeClass(pv) !== claimClass(pvc)) return false;
  if ((pv.spec?.volumeMode ?? "Filesystem") !== (pvc.spec?.volumeMode ?? "Filesystem")) return false;
  const offered = new Set(pv.spec?.accessModes ?? []);
  if (!(pvc.spec?.accessModes ?? []).every((m) => offered.has(m))) return false;
  if (storageOf(pv.spec?.capacity?.storage) < storageOf(pvc.spec?.resources?.requests?.storage)) return false;
  if (!preBound && pvc.spec?.selector && !selectorMatches(pvc.spec.selector, pv.metadata?.labels)) return false;
  return true;
}

/** The volume to bind the claim to, or undefined. `node`: only volumes reachable from it (delayed binding). */
export function findMatchingVolume(pvc: PersistentVolumeClaim, volumes: Iterable<PersistentVolume>, node?: Node): PersistentVolume | undefined {
  let best: PersistentVolume | undefined;
  for (const pv of volumes) {
    if (pv.metadata?.deletionTimestamp) continue;
    if (node && !volumeFitsNode(pv, node)) continue;
    if (isPreBoundTo(pv, pvc)) {
      // Pre-bound volumes skip the selector (upstream checkVolumeSatisfyClaim).
      if (compatible(pv, pvc, true)) return pv;
      continue;
    }
    if (pv.spec?.claimRef) continue;
    if (pv.status?.phase && pv.status.phase !== "Available" && pv.status.phase !== "Pending") continue;
    if (!compatible(pv, pvc)) continue;
    if (!best || storageOf(pv.spec?.capacity?.storage) < storageOf(best.spec?.capacity?.storage)) best = pv;
  }
  return best;
}
