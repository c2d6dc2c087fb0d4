// persistentVolumeClaimRetentionPolicy (upstream statefulset stateful_set_utils.go updateClaimOwnerRefForSetAndPod):
// which owners a pod's claims carry so that the garbage collector deletes them at the right time —
// whenDeleted: Delete → owned by the StatefulSet (gone with the set); whenScaled: Delete → a condemned pod's
// (ordinal ≥ replicas) claims are owned by that pod instead (gone with the pod). Retain/Retain: no such owners,
// so claims outlive pods, scale-downs and the set.
import type { StatefulSet } from "kubernetes-types/apps/v1";
import type { OwnerReference } from "kubernetes-types/meta/v1";
import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1";

export function desiredClaimOwners(claim: PersistentVolumeClaim, sts: StatefulSet, pod: Pod | undefined, condemned: boolean): OwnerReference[] {
  const policy = sts.spec?.persistentVolumeClaimRetentionPolicy;
  const deleteWithSet = policy?.whenDeleted === "Delete";
  const deleteWhenScaled = policy?.whenScaled === "Delete";
  const podName = pod?.metadata?.name;
  const others = (claim.metadata?.ownerReferences ?? []).filter(
    (r) => !(r.kind === "StatefulSet" && r.uid === sts.metadata!.uid) && !(r.kind === "Pod" && (r.uid === pod?.metadata?.uid || r.name === podName)),
  );
  const setRef: OwnerReference = { apiVersion: "apps/v1", kind: "StatefulSet", name: sts.metadata!.name!, uid: sts.metadata!.uid!, controller: true, blockOwnerDeletion: true };
  const podRef = pod?.metadata?.uid ? ({ apiVersion: "v1", kind: "Pod", name: podName!, uid: pod.metadata.uid } as OwnerReference) : undefined;
  const out = [...others];
  if (condemned && deleteWhenScaled) {
    if (podRef) out.push(podRef);
    else if (deleteWithSet) out.push(setRef);
  } else if (deleteWithSet) out.push(setRef);
  return out;
}

const refKey = (refs: OwnerReference[] | undefined) => JSON.stringify((refs ?? []).map((r) => [r.kind, r.uid, !!r.controller]).sort());

export function ownersDiffer(claim: PersistentVolumeClaim, want: OwnerReference[]): boolean {
  return refKey(claim.metadata?.ownerReferences) !== refKey(want);
}
