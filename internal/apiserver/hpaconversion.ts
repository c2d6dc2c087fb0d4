// autoscaling/v1 HorizontalPodAutoscalers are stored as autoscaling/v2 (as upstream). v1 has one CPU target;
// whatever v2 holds beyond it (other metrics, behavior, conditions, other current metrics) travels in upstream's
// autoscaling.alpha.kubernetes.io/* annotations, so a v2 object read and written back through v1 loses nothing.
import type { KObject } from "./objects.ts";

const A_METRICS = "autoscaling.alpha.kubernetes.io/metrics";
const A_CURRENT = "autoscaling.alpha.kubernetes.io/current-metrics";
const A_CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions";
const A_BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior";

const isCpuUtilization = (m: any) => m?.type === "Resource" && m.resource?.name === "cpu" && m.resource?.target?.type === "Utilization";

function parseJSON(s: string | undefined): any {
  if (!s) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

function clean<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** autoscaling/v2 (storage) → autoscaling/v1. */
export function hpaV2ToV1(o: KObject): KObject {
  const spec = o.spec ?? {};
  const status = o.status;
  const annotations: Record<string, string> = { ...(o.metadata?.annotations ?? {}) };
  const metrics: any[] = spec.metrics ?? [];
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => m !== cpu);
  if (others.length) annotations[A_METRICS] = JSON.stringify(others);
  if (spec.behavior) annotations[A_BEHAVIOR] = JSON.stringify(spec.behavior);
  let currentCPU: number | undefined;
  if (status) {
    const cur: any[] = status.currentMetrics ?? [];
    const c = cur.find((m) => m?.type === "Resource" && m.resource?.name === "cpu" && m.resource?.current?.averageUtilization !== undefined);
    currentCPU = c?.resource.current.averageUtilization;
    const rest = cur.filter((m) => m !== c);
    if (rest.length) annotations[A_CURRENT] = JSON.stringify(rest);
    if (status.conditions?.length) annotations[A_CONDITIONS] = JSON.stringify(status.conditions);
  }
  const metadata = { ...o.metadata };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  return clean({
    kind: "HorizontalPodAutoscaler",
    apiVersion: "autoscaling/v1",
    metadata,
    spec: clean({
      scaleTargetRef: spec.scaleTargetRef,
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas,
      targetCPUUtilizationPercentage: cpu?.resource.target.averageUtilization,
    }),
    status: status
      ? clean({
          observedGeneration: status.observedGeneration,
          lastScaleTime: status.lastScaleTime,
          currentReplicas: status.currentReplicas ?? 0,
          desiredReplicas: status.desiredReplicas ?? 0,
          currentCPUUtilizationPercentage: currentCPU,
        })
      : undefined,
  }) as KObject;
}

/** autoscaling/v1 → autoscaling/v2 (storage). */
export function hpaV1ToV2(o: KObject): KObject {
  const spec = o.spec ?? {};
  const status = o.status;
  const annotations: Record<string, string> = { ...(o.metadata?.annotations ?? {}) };
  const take = (k: string) => {
    const v = parseJSON(annotations[k]);
    delete annotations[k];
    return v;
  };
  const otherMetrics = take(A_METRICS);
  const behavior = take(A_BEHAVIOR);
  const otherCurrent = take(A_CURRENT);
  const conditions = take(A_CONDITIONS);
  const metrics: any[] = [];
  if (spec.targetCPUUtilizationPercentage !== undefined && spec.targetCPUUtilizationPercentage !== null) {
    metrics.push({ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: spec.targetCPUUtilizationPercentage } } });
  }
  if (Array.isArray(otherMetrics)) metrics.push(...otherMetrics);
  const currentMetrics: any[] = [];
  if (status?.currentCPUUtilizationPercentage !== undefined && status?.currentCPUUtilizationPercentage !== null) {
    currentMetrics.push({ type: "Resource", resource: { name: "cpu", current: { averageUtilization: status.currentCPUUtilizationPercentage } } });
  }
  if (Array.isArray(otherCurrent)) currentMetrics.push(...otherCurrent);
  const metadata = { ...o.metadata };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  return clean({
    kind: "HorizontalPodAutoscaler",
    apiVersion: "autoscaling/v2",
    metadata,
    spec: clean({
      scaleTargetRef: spec.scaleTargetRef,
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas,
      metrics: metrics.length ? metrics : undefined,
      behavior: behavior && typeof behavior === "object" ? behavior : undefined,
    }),
    status: status
      ? clean({
          observedGeneration: status.observedGeneration,
          lastScaleTime: status.lastScaleTime,
          currentReplicas: status.currentReplicas,
          desiredReplicas: status.desiredReplicas,
          currentMetrics: currentMetrics.length ? currentMetrics : undefined,
          conditions: Array.isArray(conditions) ? conditions : undefined,
        })
      : undefined,
  }) as KObject;
}
