// Pod state helpers shared by controllers (readiness, availability, activeness), following upstream podutil.

import type { Pod, PodCondition } from "kubernetes-types/core/v1";

export function podCondition(pod: Pod, type: string): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === type);
}

export function isPodReady(pod: Pod): boolean {
  return podCondition(pod, "Ready")?.status === "True";
}

/** Ready for at least minReadySeconds (upstream IsPodAvailable). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now = Date.now()): boolean {
  const c = podCondition(pod, "Ready");
  if (c?.status !== "True") return false;
  if (!minReadySeconds) return true;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : 0;
  return since + minReadySeconds * 1000 <= now;
}

/** Milliseconds until the pod becomes available, or undefined if it is not ready at all / already available. */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, now = Date.now()): number | undefined {
  const c = podCondition(pod, "Ready");
  if (c?.status !== "True" || !minReadySeconds) return undefined;
  const at = (c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : 0) + minReadySeconds * 1000;
  return at > now ? at - now : undefined;
}

export function isPodTerminating(pod: Pod): boolean {
  return !!pod.metadata?.deletionTimestamp;
}

/** Not finished and not being deleted (upstream controller.IsPodActive). */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed" && !pod.metadata?.deletionTimestamp;
}

export function podRestarts(pod: Pod): number {
  let n = 0;
  for (const s of pod.status?.containerStatuses ?? []) n += s.restartCount ?? 0;
  return n;
}
