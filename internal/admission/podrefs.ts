// What a pod spec references, as upstream's podutil.VisitPodSecretNames / VisitPodConfigmapNames (all containers):
// mirror pods, created by nodes, may reference neither.
import type { Pod } from "kubernetes-types/core/v1";

type Spec = NonNullable<Pod["spec"]>;

function containers(spec: Spec) {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...((spec.ephemeralContainers ?? []) as Spec["containers"])];
}

/** Whether the pod names any Secret (pull secrets, env, envFrom, volumes, projections, volume plugins' secret refs). */
export function referencesSecrets(spec: Spec): boolean {
  if (spec.imagePullSecrets?.some((s) => s.name)) return true;
  for (const c of containers(spec)) {
    if (c.envFrom?.some((e) => e.secretRef?.name)) return true;
    if (c.env?.some((e) => e.valueFrom?.secretKeyRef?.name)) return true;
  }
  for (const v of spec.volumes ?? []) {
    if (v.secret?.secretName) return true;
    if (v.projected?.sources?.some((s) => s.secret?.name)) return true;
    const refs = [
      v.azureFile?.secretName,
      v.cephfs?.secretRef?.name,
      v.cinder?.secretRef?.name,
      v.flexVolume?.secretRef?.name,
      v.rbd?.secretRef?.name,
      v.scaleIO?.secretRef?.name,
      v.iscsi?.secretRef?.name,
      v.storageos?.secretRef?.name,
      v.csi?.nodePublishSecretRef?.name,
    ];
    if (refs.some(Boolean)) return true;
  }
  return false;
}

/** Whether the pod names any ConfigMap (env, envFrom, volumes, projections). */
export function referencesConfigMaps(spec: Spec): boolean {
  for (const c of containers(spec)) {
    if (c.envFrom?.some((e) => e.configMapRef?.name)) return true;
    if (c.env?.some((e) => e.valueFrom?.configMapKeyRef?.name)) return true;
  }
  for (const v of spec.volumes ?? []) {
    if (v.configMap?.name) return true;
    if (v.projected?.sources?.some((s) => s.configMap?.name)) return true;
  }
  return false;
}
