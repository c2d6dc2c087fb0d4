// Deployment arithmetic and annotations as upstream's deployment/util: revisions, surge/unavailable
// fenceposts, new-ReplicaSet sizing, proportional scaling, and rollout completeness.

import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from "kubernetes-types/apps/v1";
import { scaledValue } from "../util/intstr.ts";

export const REVISION = "deployment.kubernetes.io/revision";
export const REVISION_HISTORY = "deployment.kubernetes.io/revision-history";
export const DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas";
export const MAX_REPLICAS = "deployment.kubernetes.io/max-replicas";
export const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** Annotations never copied from a Deployment to its ReplicaSets. */
const SKIP_COPY = new Set([LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS]);

export function replicasOf(x: { spec?: { replicas?: number } } | undefined): number {
  return x?.spec?.replicas ?? 1;
}

export function revisionOf(rs: ReplicaSet | undefined): number {
  const v = Number(rs?.metadata?.annotations?.[REVISION] ?? 0);
  return Number.isFinite(v) ? v : 0;
}

export function maxRevision(sets: ReplicaSet[]): number {
  let m = 0;
  for (const rs of sets) m = Math.max(m, revisionOf(rs));
  return m;
}

/** Copies the Deployment's annotations to the ReplicaSet; true when something changed. */
export function copyAnnotations(d: Deployment, rs: ReplicaSet): boolean {
  let changed = false;
  const ann = (rs.metadata!.annotations ??= {});
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (SKIP_COPY.has(k) || ann[k] === v) continue;
    ann[k] = v;
    changed = true;
  }
  return changed;
}

export function maxSurge(d: Deployment): number {
  if (d.spec?.strategy?.type === "Recreate") return 0;
  const [surge] = resolveFenceposts(d);
  return surge;
}

export function maxUnavailable(d: Deployment): number {
  if (d.spec?.strategy?.type === "Recreate" || replicasOf(d) === 0) return 0;
  const [, unavailable] = resolveFenceposts(d);
  return Math.min(unavailable, replicasOf(d));
}

/** Upstream ResolveFenceposts: surge rounds up, unavailable rounds down, and both zero means unavailable 1. */
export function resolveFenceposts(d: Deployment): [number, number] {
  const ru = d.spec?.strategy?.rollingUpdate;
  const desired = replicasOf(d);
  const surge = scaledValue((ru?.maxSurge as any) ?? "25%", desired, true);
  let unavailable = scaledValue((ru?.maxUnavailable as any) ?? "25%", desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return [surge, unavailable];
}

export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const ann = (rs.metadata!.annotations ??= {});
  let changed = false;
  if (ann[DESIRED_REPLICAS] !== String(desired)) (ann[DESIRED_REPLICAS] = String(desired)), (changed = true);
  if (ann[MAX_REPLICAS] !== String(max)) (ann[MAX_REPLICAS] = String(max)), (changed = true);
  return changed;
}

export function sumReplicas(sets: ReplicaSet[]): number {
  return sets.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
}
export function sumActual(sets: ReplicaSet[]): number {
  return sets.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0);
}
export function sumAvailable(sets: ReplicaSet[]): number {
  return sets.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
}
export function sumReady(sets: ReplicaSet[]): number {
  return sets.reduce((n, rs) => n + (rs.status?.readyReplicas ?? 0), 0);
}

/** How big the new ReplicaSet may get now (upstream NewRSNewReplicas for RollingUpdate). */
export function newRSNewReplicas(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet): number {
  if (d.spec?.strategy?.type === "Recreate") return replicasOf(d);
  const surge = maxSurge(d);
  const current = sumReplicas(all);
  const maxTotal = replicasOf(d) + surge;
  if (current >= maxTotal) return newRS.spec?.replicas ?? 0;
  const up = Math.min(maxTotal - current, replicasOf(d) - (newRS.spec?.replicas ?? 0));
  return (newRS.spec?.replicas ?? 0) + Math.max(0, up);
}

function annotatedInt(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata?.annotations?.[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
}

/** Upstream IsSaturated: the new set has all replicas, all available, and knows it. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = annotatedInt(rs, DESIRED_REPLICAS);
  return (
    desired === replicasOf(d) && (rs.spec?.replicas ?? 0) === replicasOf(d) && (rs.status?.availableReplicas ?? 0) === replicasOf(d)
  );
}

/** True when some active set was sized for a different Deployment replica count. */
export function isScalingEvent(d: Deployment, sets: ReplicaSet[]): boolean {
  for (const rs of sets) {
    if ((rs.spec?.replicas ?? 0) === 0) continue;
    const desired = annotatedInt(rs, DESIRED_REPLICAS);
    if (desired !== undefined && desired !== replicasOf(d)) return true;
  }
  return false;
}

/** The share of `toAdd` this set gets (upstream getReplicaSetProportion/getReplicaSetFraction). */
export function proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  const cur = rs.spec?.replicas ?? 0;
  if (!cur || !toAdd || toAdd === added) return 0;
  let fraction: number;
  if (replicasOf(d) === 0) fraction = -cur;
  else {
    const deploymentReplicas = replicasOf(d) + maxSurge(d);
    const annotated = annotatedInt(rs, MAX_REPLICAS) ?? d.status?.replicas ?? 0;
    fraction = annotated ? Math.round((cur * deploymentReplicas) / annotated) - cur : 0;
  }
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

export function condition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

export function newCondition(type: string, status: string, reason: string, message: string): DeploymentCondition {
  const t = now();
  return { type, status, reason, message, lastUpdateTime: t, lastTransitionTime: t };
}

/** Upstream SetDeploymentCondition: keeps lastTransitionTime when status is unchanged; no-op on identical reason. */
export function setCondition(status: DeploymentStatus, c: DeploymentCondition): void {
  const conds = (status.conditions ??= []);
  const i = conds.findIndex((x) => x.type === c.type);
  const cur = conds[i];
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  if (cur && cur.status === c.status) c.lastTransitionTime = cur.lastTransitionTime;
  if (i >= 0) conds.splice(i, 1);
  conds.push(c);
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  if (status.conditions) status.conditions = status.conditions.filter((c) => c.type !== type);
}

/** Upstream DeploymentComplete. */
export function isComplete(d: Deployment, s: DeploymentStatus): boolean {
  const r = replicasOf(d);
  return (
    (s.updatedReplicas ?? 0) === r &&
    (s.replicas ?? 0) === r &&
    (s.availableReplicas ?? 0) === r &&
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0)
  );
}

/** Upstream DeploymentProgressing: any step forward since the last status. */
export function isProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** Upstream DeploymentTimedOut. */
export function isTimedOut(d: Deployment, s: DeploymentStatus, nowMs = Date.now()): boolean {
  const deadline = progressDeadline(d);
  if (deadline === undefined) return false;
  const c = condition(s, "Progressing");
  if (!c) return false;
  if (c.reason === "NewReplicaSetAvailable") return false;
  if (c.reason === "ProgressDeadlineExceeded") return true;
  const from = Date.parse(c.lastUpdateTime ?? c.lastTransitionTime ?? "");
  return Number.isFinite(from) && from + deadline * 1000 < nowMs;
}

/** progressDeadlineSeconds with upstream's default (600); undefined when disabled (MaxInt32). */
export function progressDeadline(d: Deployment): number | undefined {
  const v = d.spec?.progressDeadlineSeconds ?? 600;
  return v >= 2147483647 ? undefined : v;
}
