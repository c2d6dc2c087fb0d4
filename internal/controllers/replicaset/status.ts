// ReplicaSet status as upstream calculateStatus: counts over the pods it controls.

import type { Pod } from "kubernetes-types/core/v1";
import type { ReplicaSet, ReplicaSetCondition, ReplicaSetStatus } from "kubernetes-types/apps/v1";
import { isPodAvailable, isPodReady } from "../util/pods.ts";

export function calculateStatus(rs: ReplicaSet, activePods: Pod[], failure?: ReplicaSetCondition): ReplicaSetStatus {
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReady = rs.spec?.minReadySeconds ?? 0;
  let fully = 0;
  let ready = 0;
  let available = 0;
  const now = Date.now();
  for (const p of activePods) {
    const l = p.metadata?.labels ?? {};
    if (Object.entries(templateLabels).every(([k, v]) => l[k] === v)) fully++;
    if (isPodReady(p)) {
      ready++;
      if (isPodAvailable(p, minReady, now)) available++;
    }
  }
  let conditions = (rs.status?.conditions ?? []).filter((c) => c.type !== "ReplicaFailure");
  if (failure) {
    const prev = rs.status?.conditions?.find((c) => c.type === "ReplicaFailure");
    conditions = [...conditions, prev && prev.reason === failure.reason && prev.message === failure.message ? prev : failure];
  }
  const status: ReplicaSetStatus = {
    replicas: activePods.length,
    fullyLabeledReplicas: fully,
    readyReplicas: ready,
    availableReplicas: available,
    observedGeneration: rs.metadata?.generation ?? rs.status?.observedGeneration,
  };
  if (conditions.length) status.conditions = conditions;
  return status;
}

export function statusEqual(a: ReplicaSetStatus | undefined, b: ReplicaSetStatus): boolean {
  const n = (s: ReplicaSetStatus | undefined) =>
    JSON.stringify([
      s?.replicas ?? 0,
      s?.fullyLabeledReplicas ?? 0,
      s?.readyReplicas ?? 0,
      s?.availableReplicas ?? 0,
      s?.observedGeneration ?? 0,
      (s?.conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message]),
    ]);
  return n(a) === n(b);
}
