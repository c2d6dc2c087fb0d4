// VolumeBinding, reduced to what kubun can decide without a volume binder: every claim a pod uses must exist and
// not be on its way out (upstream's PreFilter checks and messages). Binding claims to volumes is left to the
// kubelet's volume handling.

import { unresolvable, type Plugin } from "../framework.ts";

export const volumeBinding: Plugin = {
  name: "VolumeBinding",
  preFilter(_state, pi, snap) {
    if (!snap.pvc) return undefined;
    const pod = pi.pod;
    for (const v of pod.spec?.volumes ?? []) {
      let claim: string | undefined;
      let ephemeral = false;
      if (v.persistentVolumeClaim) claim = v.persistentVolumeClaim.claimName;
      else if (v.ephemeral) {
        claim = `${pod.metadata?.name}-${v.name}`;
        ephemeral = true;
      }
      if (!claim) continue;
      const pvc = snap.pvc(pi.namespace, claim);
      if (!pvc) return unresolvable("VolumeBinding", `persistentvolumeclaim "${claim}" not found`);
      if (pvc.metadata?.deletionTimestamp) return unresolvable("VolumeBinding", `persistentvolumeclaim "${claim}" is being deleted`);
      if (ephemeral && !pvc.metadata?.ownerReferences?.some((o) => o.controller && o.uid === pod.metadata?.uid))
        return unresolvable("VolumeBinding", `PVC ${pi.namespace}/${claim} was not created for pod ${pi.namespace}/${pod.metadata?.name} (pod is not owner)`);
    }
    return undefined;
  },
};
