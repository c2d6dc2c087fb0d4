// Upstream's replica calculator (pkg/controller/podautoscaler/replica_calculator.go) for resource metrics:
// pods are grouped into ready, unready (CPU only: not Ready, or Ready too recently for their sample to count),
// missing (no metrics) and ignored (deleted, failed); the usage ratio against the target is computed over the
// pods with metrics and, when unready or missing pods exist, recomputed assuming they use 0 % (scale-up) or
// 100 % of their request (scale-down) so that they can only damp a change, never cause or invert one.
import type { Pod } from "kubernetes-types/core/v1";

export const TOLERANCE = 0.1;
/** Upstream --horizontal-pod-autoscaler-cpu-initialization-period. */
export const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
/** Upstream --horizontal-pod-autoscaler-initial-readiness-delay. */
export const INITIAL_READINESS_DELAY_MS = 30_000;

/** Usage of one pod: milli-cores for cpu, bytes for memory. */
export interface PodMetric {
  value: number;
  /** ms since the epoch */
  timestamp: number;
  windowMs: number;
}

export class MetricsError extends Error {}

interface Grouped {
  readyCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

function groupPods(pods: Pod[], metrics: Map<string, PodMetric>, resource: string, now: number): Grouped {
  const g: Grouped = { readyCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    const name = pod.metadata!.name!;
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === "Failed") {
      g.ignored.add(name);
      continue;
    }
    if (pod.status?.phase === "Pending") {
      g.unready.add(name);
      continue;
    }
    const m = metrics.get(name);
    if (!m) {
      g.missing.add(name);
      continue;
    }
    if (resource === "cpu") {
      const cond = pod.status?.conditions?.find((c) => c.type === "Ready");
      const start = pod.status?.startTime ? Date.parse(pod.status.startTime) : undefined;
      let unready: boolean;
      if (!cond || start === undefined) unready = true;
      else {
        const ready = cond.status === "True";
        const transition = Date.parse(cond.lastTransitionTime ?? "") || 0;
        if (start + CPU_INITIALIZATION_PERIOD_MS > now) unready = !ready || m.timestamp - m.windowMs < transition;
        else unready = !ready && start + INITIAL_READINESS_DELAY_MS > transition;
      }
      if (unready) {
        g.unready.add(name);
        continue;
      }
    }
    g.readyCount++;
  }
  return g;
}

/** Sum of the containers' requests of `resource` per pod (milli-cores / bytes); throws when one lacks it. */
export function podRequests(pods: Pod[], resource: string, container: string | undefined, value: (q: string) => number): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    for (const c of pod.spec?.containers ?? []) {
      if (container && c.name !== container) continue;
      const q = c.resources?.requests?.[resource];
      if (q === undefined) {
        if (container) continue;
        throw new MetricsError(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata!.name}`);
      }
      sum += value(String(q));
    }
    out.set(pod.metadata!.name!, sum);
  }
  return out;
}

function utilizationRatio(metrics: Map<string, PodMetric>, requests: Map<string, number>, target: number): { ratio: number; utilization: number; rawAverage: number } {
  let used = 0;
  let requested = 0;
  let n = 0;
  for (const [pod, m] of metrics) {
    const r = requests.get(pod);
    if (r === undefined) continue; // a pod that appeared between the metrics and the pod list
    used += m.value;
    requested += r;
    n++;
  }
  if (requested === 0) throw new MetricsError("no metrics returned matched known pods");
  const utilization = Math.trunc((used * 100) / requested);
  return { ratio: utilization / target, utilization, rawAverage: used / n };
}

export interface Proposal {
  replicas: number;
  /** Utilization % (Utilization targets) */
  utilization?: number;
  /** Average usage per pod with metrics (milli-cores / bytes). */
  average: number;
  timestamp: number;
}

function oldestTimestamp(metrics: Map<string, PodMetric>): number {
  let t = Infinity;
  for (const m of metrics.values()) t = Math.min(t, m.timestamp);
  return Number.isFinite(t) ? t : Date.now();
}

interface ReplicaArgs {
  current: number;
  target: number;
  pods: Pod[];
  metrics: Map<string, PodMetric>;
  resource: string;
  tolerance?: number;
  now?: number;
}

/** What differs between target types: the usage ratio, the usage assumed for pods without metrics, the proposal. */
interface TargetCalc<R extends { ratio: number }> {
  ratioOf(metrics: Map<string, PodMetric>): R;
  /** Usage assumed for a ready pod without metrics, given the first ratio; undefined leaves the pod out. */
  missingUsage(pod: string, first: R): number | undefined;
  proposal(first: R, replicas: number, timestamp: number): Proposal;
}

/** The algorithm both target types share (upstream's calcPlainMetricReplicas shape). */
function calculateReplicas<R extends { ratio: number }>(args: ReplicaArgs, calc: TargetCalc<R>): Proposal {
  const tol = args.tolerance ?? TOLERANCE;
  if (!args.pods.length) throw new MetricsError("no pods returned by selector while calculating replica count");
  const metrics = new Map(args.metrics);
  const g = groupPods(args.pods, metrics, args.resource, args.now ?? Date.now());
  for (const p of [...g.ignored, ...g.unready]) metrics.delete(p);
  if (!metrics.size) throw new MetricsError("did not receive metrics for targeted pods (pods might be unready)");
  const timestamp = oldestTimestamp(metrics);
  const first = calc.ratioOf(metrics);
  const result = (replicas: number): Proposal => calc.proposal(first, replicas, timestamp);
  const scaleUpWithUnready = g.unready.size > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (Math.abs(1 - first.ratio) <= tol) return result(args.current);
    return result(Math.ceil(first.ratio * g.readyCount));
  }
  for (const p of g.missing) {
    const value = calc.missingUsage(p, first);
    if (value !== undefined) metrics.set(p, { value, timestamp, windowMs: 0 });
  }
  if (scaleUpWithUnready) for (const p of g.unready) metrics.set(p, { value: 0, timestamp, windowMs: 0 });
  const next = calc.ratioOf(metrics);
  if (Math.abs(1 - next.ratio) <= tol || (first.ratio < 1 && next.ratio > 1) || (first.ratio > 1 && next.ratio < 1)) return result(args.current);
  const replicas = Math.ceil(next.ratio * metrics.size);
  if ((next.ratio < 1 && replicas > args.current) || (next.ratio > 1 && replicas < args.current)) return result(args.current);
  return result(replicas);
}

/** Replicas for a Utilization target (percent of request). */
export function utilizationReplicas(args: ReplicaArgs & { requests: Map<string, number> }): Proposal {
  return calculateReplicas(args, {
    ratioOf: (m) => utilizationRatio(m, args.requests, args.target),
    // Scale-down: a pod without metrics counts as using its request (or the target, when above 100 %); scale-up: nothing.
    missingUsage: (p, first) => {
      if (first.ratio < 1) return ((args.requests.get(p) ?? 0) * Math.max(100, args.target)) / 100;
      return first.ratio > 1 ? 0 : undefined;
    },
    proposal: (first, replicas, timestamp) => ({ replicas, utilization: first.utilization, average: first.rawAverage, timestamp }),
  });
}

/** Replicas for an AverageValue target (usage per pod, milli-cores / bytes): upstream's calcPlainMetricReplicas. */
export function averageValueReplicas(args: ReplicaArgs): Proposal {
  return calculateReplicas(args, {
    ratioOf: (m) => {
      let sum = 0;
      for (const v of m.values()) sum += v.value;
      return { ratio: sum / m.size / args.target, average: sum / m.size };
    },
    missingUsage: (_p, first) => (first.ratio < 1 ? args.target : 0),
    proposal: (first, replicas, timestamp) => ({ replicas, average: first.average, timestamp }),
  });
}
