// Deployment status and conditions (upstream calculateStatus + syncRolloutStatus condition logic).

import type { Deployment, DeploymentStatus, ReplicaSet } from "kubernetes-types/apps/v1";
import {
  condition,
  isComplete,
  isProgressing,
  isTimedOut,
  maxUnavailable,
  newCondition,
  progressDeadline,
  removeCondition,
  replicasOf,
  setCondition,
  sumActual,
  sumAvailable,
  sumReady,
  sumReplicas,
} from "./util.ts";

export function calculateStatus(all: ReplicaSet[], newRS: ReplicaSet | undefined, d: Deployment): DeploymentStatus {
  const available = sumAvailable(all);
  const total = sumReplicas(all);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata?.generation,
    replicas: sumActual(all),
    updatedReplicas: newRS ? (newRS.status?.replicas ?? 0) : 0,
    readyReplicas: sumReady(all),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    conditions: structuredClone(d.status?.conditions ?? []),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(status, newCondition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."));
  } else {
    setCondition(status, newCondition("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."));
  }
  if (!status.conditions?.length) delete status.conditions;
  return status;
}

/** Status during a rollout: calculateStatus plus the Progressing and ReplicaFailure conditions. */
export function rolloutStatus(all: ReplicaSet[], newRS: ReplicaSet | undefined, d: Deployment, nowMs = Date.now()): DeploymentStatus {
  const s = calculateStatus(all, newRS, d);
  s.conditions ??= [];
  if (progressDeadline(d) !== undefined) {
    const cur = condition(s, "Progressing");
    const complete = isComplete(d, s);
    const name = newRS?.metadata?.name ?? "";
    if (complete) {
      if (!cur || cur.reason !== "NewReplicaSetAvailable") {
        setCondition(s, newCondition("Progressing", "True", "NewReplicaSetAvailable", `ReplicaSet "${name}" has successfully progressed.`));
      }
    } else if (isProgressing(d, s)) {
      const c = newCondition("Progressing", "True", "ReplicaSetUpdated", `ReplicaSet "${name}" is progressing.`);
      if (cur?.status === "True") c.lastTransitionTime = cur.lastTransitionTime;
      removeCondition(s, "Progressing");
      s.conditions.push(c);
    } else if (newRS && isTimedOut(d, s, nowMs)) {
      setCondition(s, newCondition("Progressing", "False", "ProgressDeadlineExceeded", `ReplicaSet "${name}" has timed out progressing.`));
    }
  }
  const failure = all.map((rs) => rs.status?.conditions?.find((c) => c.type === "ReplicaFailure" && c.status === "True")).find(Boolean);
  if (failure) setCondition(s, newCondition("ReplicaFailure", failure.status, failure.reason ?? "", failure.message ?? ""));
  else removeCondition(s, "ReplicaFailure");
  if (!s.conditions.length) delete s.conditions;
  return s;
}

/** Equal apart from condition timestamps that only moved (lastUpdateTime of an unchanged condition). */
export function statusEqual(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  const n = (s: DeploymentStatus | undefined) =>
    JSON.stringify([
      s?.observedGeneration ?? 0,
      s?.replicas ?? 0,
      s?.updatedReplicas ?? 0,
      s?.readyReplicas ?? 0,
      s?.availableReplicas ?? 0,
      s?.unavailableReplicas ?? 0,
      s?.collisionCount ?? null,
      (s?.conditions ?? [])
        .map((c) => [c.type, c.status, c.reason, c.message, c.lastUpdateTime, c.lastTransitionTime])
        .sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    ]);
  return n(a) === n(b);
}
