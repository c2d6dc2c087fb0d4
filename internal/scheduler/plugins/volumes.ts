// VolumeBinding, after upstream's plugin of that name: every claim a pod uses must exist and not be on its way out;
// a bound claim's volume must be reachable from the node (its node affinity); an unbound claim of an Immediate class
// blocks the pod until the PV controller binds it; an unbound claim of a WaitForFirstConsumer class needs a free
// matching volume reachable from the node, or a class whose provisioner can create one there. After the node is
// chosen, the scheduler writes it on such claims (volume.kubernetes.io/selected-node, delayedClaims below) so the PV
// controller binds or provisions there before the pod is bound.

import type { PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1";
import { nodeSelectorMatches } from "../../api/selectors/objects.ts";
import { claimClass, findMatchingVolume, volumeFitsNode } from "../../api/volumes.ts";
import { SKIP, unresolvable, type CycleState, type Plugin, type PluginState, type Snapshot } from "../framework.ts";
import type { PodInfo } from "../podinfo.ts";

const NAME = "VolumeBinding";
export const ERR_NODE_CONFLICT = "node(s) had volume node affinity conflict";
export const ERR_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
const NO_PROVISIONER = "kubernetes.io/no-provisioner";

class State implements PluginState {
  constructor(
    /** Volumes of the pod's bound claims. */
    readonly bound: PersistentVolume[],
    /** Unbound claims of WaitForFirstConsumer classes. */
    readonly delayed: PersistentVolumeClaim[],
    readonly snap: Snapshot,
  ) {}
  clone(): State {
    return this;
  }
}

/** Claim names a pod uses, with whether each is a generic ephemeral volume. */
function podClaims(pi: PodInfo): { name: string; ephemeral: boolean }[] {
  const out: { name: string; ephemeral: boolean }[] = [];
  for (const v of pi.pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim) out.push({ name: v.persistentVolumeClaim.claimName, ephemeral: false });
    else if (v.ephemeral) out.push({ name: `${pi.pod.metadata?.name}-${v.name}`, ephemeral: true });
  }
  return out;
}

/** Unbound claims of WaitForFirstConsumer classes the pod uses (what PreBind must annotate). */
export function delayedClaims(state: CycleState): PersistentVolumeClaim[] {
  return state.get<State>(NAME)?.delayed ?? [];
}

export const volumeBinding: Plugin = {
  name: NAME,
  preFilter(state, pi, snap) {
    if (!snap.pvc) return SKIP;
    const pod = pi.pod;
    const bound: PersistentVolume[] = [];
    const delayed: PersistentVolumeClaim[] = [];
    let immediateUnbound = false;
    for (const { name: claim, ephemeral } of podClaims(pi)) {
      const pvc = snap.pvc(pi.namespace, claim);
      if (!pvc) return unresolvable(NAME, `persistentvolumeclaim "${claim}" not found`);
      if (pvc.metadata?.deletionTimestamp) return unresolvable(NAME, `persistentvolumeclaim "${claim}" is being deleted`);
      if (ephemeral && !pvc.metadata?.ownerReferences?.some((o) => o.controller && o.uid === pod.metadata?.uid))
        return unresolvable(NAME, `PVC ${pi.namespace}/${claim} was not created for pod ${pi.namespace}/${pod.metadata?.name} (pod is not owner)`);
      if (!snap.pv) continue; // without a volume view, only existence is checked
      const volumeName = pvc.spec?.volumeName;
      if (volumeName) {
        const pv = snap.pv(volumeName);
        if (!pv) return unresolvable(NAME, `persistentvolume "${volumeName}" not found`);
        bound.push(pv);
        continue;
      }
      const cls = claimClass(pvc);
      const sc = cls ? snap.storageClass?.(cls) : undefined;
      if (sc?.volumeBindingMode === "WaitForFirstConsumer") delayed.push(pvc);
      else immediateUnbound = true;
    }
    if (immediateUnbound) return unresolvable(NAME, "pod has unbound immediate PersistentVolumeClaims");
    if (!bound.length && !delayed.length) return SKIP;
    state.set(NAME, new State(bound, delayed, snap));
    return undefined;
  },
  filter(state, _pi, node) {
    const s = state.get<State>(NAME);
    if (!s) return undefined;
    for (const pv of s.bound) if (!volumeFitsNode(pv, node.node)) return unresolvable(NAME, ERR_NODE_CONFLICT);
    for (const pvc of s.delayed) {
      if (findMatchingVolume(pvc, s.snap.pvs?.() ?? [], node.node)) continue;
      const sc = s.snap.storageClass?.(claimClass(pvc));
      if (!sc || sc.provisioner === NO_PROVISIONER) return unresolvable(NAME, ERR_BIND_CONFLICT);
      // A provisioner can only serve the topologies the class allows.
      const allowed = sc.allowedTopologies;
      if (allowed?.length && !nodeSelectorMatches({ nodeSelectorTerms: allowed.map((t) => ({ matchExpressions: (t.matchLabelExpressions ?? []).map((e) => ({ key: e.key, operator: "In", values: e.values })) })) }, node.node))
        return unresolvable(NAME, ERR_BIND_CONFLICT);
    }
    return undefined;
  },
};
