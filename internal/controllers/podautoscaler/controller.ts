// HorizontalPodAutoscaler controller (autoscaling/v2) as upstream's: every sync period (default 15 s) each HPA
// reads its target's scale subresource (Deployments, ReplicaSets, StatefulSets, ReplicationControllers, custom
// resources with a scale subresource), computes a replica count per Resource/ContainerResource metric from the
// metrics.k8s.io PodMetrics of the selected pods, takes the largest, normalizes it (stabilization windows,
// behavior policies, min/max), rescales, and writes status with the AbleToScale, ScalingActive and
// ScalingLimited conditions and upstream's events. Object/Pods/External metrics need custom metrics APIs kubun
// does not serve: they are reported as invalid, as upstream does when those APIs are missing.
import type { Pod } from "kubernetes-types/core/v1";
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, MetricSpec, MetricStatus } from "kubernetes-types/autoscaling/v2";
import { findKind, RESOURCES } from "../../api/resources.ts";
import { milliValue, quantityValue, formatQuantity } from "../../api/quantity.ts";
import { parseLabelSelector, matchLabels } from "../../api/selectors/labels.ts";
import { indexers, keyOf, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import type { ResourceRef } from "../../client/types.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";
import { initHistory, normalize, recordScaleEvent, type History } from "./behavior.ts";
import { averageValueReplicas, MetricsError, podRequests, utilizationReplicas, type PodMetric, type Proposal } from "./replicas.ts";

export const DEFAULT_HPA_SYNC_PERIOD_MS = 15_000;
const HPA_REF: ResourceRef = { group: "autoscaling", version: "v2", resource: "horizontalpodautoscalers", namespaced: true };
const nowRFC = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

/** Defaults of the v2 API applied when reading (minReplicas 1, cpu at 80 % when no metric is given). */
export function specMetrics(hpa: HorizontalPodAutoscaler): MetricSpec[] {
  const m = hpa.spec?.metrics;
  if (m && m.length) return m;
  return [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }];
}

interface Scale {
  replicas: number;
  selector?: string;
  obj: any;
  path: string;
}

function describeMetric(spec: MetricSpec): string {
  const r = spec.type === "ContainerResource" ? spec.containerResource! : spec.resource!;
  const util = r.target.type === "Utilization";
  const what = util ? `${r.name} resource utilization (percentage of request)` : `${r.name} resource`;
  return spec.type === "ContainerResource" ? `${what} of container ${spec.containerResource!.container}` : what;
}

export function newHorizontalPodAutoscalerController(ctx: ControllerContext): Controller {
  const period = ctx.options.hpaSyncPeriodMs ?? DEFAULT_HPA_SYNC_PERIOD_MS;
  const hpaInf: Informer<HorizontalPodAutoscaler> = ctx.informers.informerFor<HorizontalPodAutoscaler>(HPA_REF);
  const podInf: Informer<Pod> = ctx.informers.informerFor<Pod>(refs.pods);
  podInf.addIndexer("namespace", indexers.byNamespace);
  const { queue, run } = controllerQueue(ctx, "horizontal-pod-autoscaler");
  const recorder = ctx.recorder("horizontal-pod-autoscaler");
  const histories = new Map<string, History>();

  hpaInf.addEventHandler({
    onAdd: (h) => queue.add(keyOf(h)),
    onUpdate: (o, h) => {
      // Our own status writes must not shorten the resync period; spec changes are acted on at once.
      if (o.metadata?.generation !== h.metadata?.generation) queue.add(keyOf(h));
    },
    onDelete: (h) => histories.delete(keyOf(h)),
  });

  function scalePath(ns: string, ref: { apiVersion?: string; kind: string; name: string }): string {
    const [group, version] = (ref.apiVersion ?? "").includes("/") ? ref.apiVersion!.split("/") : ["", ref.apiVersion || "v1"];
    const ri = RESOURCES.find((r) => r.group === group && r.version === version && r.kind === ref.kind) ?? findKind(group!, ref.kind);
    if (!ri) throw new Error(`unable to determine resource for scale target reference: no matches for kind "${ref.kind}" in group "${group}"`);
    const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
    return `${base}/namespaces/${encodeURIComponent(ns)}/${ri.resource}/${encodeURIComponent(ref.name)}/scale`;
  }

  async function getScale(hpa: HorizontalPodAutoscaler): Promise<Scale> {
    const path = scalePath(hpa.metadata!.namespace!, hpa.spec!.scaleTargetRef);
    const obj = await ctx.client.request("GET", path);
    return { replicas: obj?.spec?.replicas ?? 0, selector: obj?.status?.selector, obj, path };
  }

  async function podMetrics(ns: string, selector: string): Promise<Map<string, Map<string, { cpu: number; memory: number; timestamp: number; windowMs: number }>>> {
    const list = await ctx.client.request("GET", `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(ns)}/pods?labelSelector=${encodeURIComponent(selector)}`);
    const out = new Map<string, Map<string, { cpu: number; memory: number; timestamp: number; windowMs: number }>>();
    for (const item of list?.items ?? []) {
      const timestamp = Date.parse(item.timestamp);
      const windowMs = parseWindow(item.window);
      const cs = new Map<string, { cpu: number; memory: number; timestamp: number; windowMs: number }>();
      for (const c of item.containers ?? []) cs.set(c.name, { cpu: milliValue(c.usage?.cpu ?? "0"), memory: quantityValue(c.usage?.memory ?? "0"), timestamp, windowMs });
      out.set(item.metadata.name, cs);
    }
    return out;
  }

  /** One metric's proposal and its status entry. */
  async function computeMetric(hpa: HorizontalPodAutoscaler, spec: MetricSpec, scale: Scale, pods: Pod[], raw: () => ReturnType<typeof podMetrics>): Promise<{ proposal: Proposal; status: MetricStatus }> {
    if (spec.type !== "Resource" && spec.type !== "ContainerResource") {
      throw new MetricsError(`unable to get ${spec.type} metric: the ${spec.type === "External" ? "external.metrics.k8s.io" : "custom.metrics.k8s.io"} API is not served`);
    }
    const src = spec.type === "Resource" ? spec.resource! : spec.containerResource!;
    const container = spec.type === "ContainerResource" ? spec.containerResource!.container : undefined;
    const resource = src.name;
    if (resource !== "cpu" && resource !== "memory") throw new MetricsError(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
    const value = resource === "cpu" ? milliValue : quantityValue;
    const all = await raw();
    const metrics = new Map<string, PodMetric>();
    for (const [pod, cs] of all) {
      let sum = 0;
      let seen = false;
      let t = 0;
      let w = 0;
      for (const [name, u] of cs) {
        if (container && name !== container) continue;
        sum += resource === "cpu" ? u.cpu : u.memory;
        seen = true;
        t = u.timestamp;
        w = u.windowMs;
      }
      if (seen) metrics.set(pod, { value: sum, timestamp: t, windowMs: w });
    }
    if (!metrics.size) throw new MetricsError(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
    const fmt = (v: number) => (resource === "cpu" ? formatQuantity(v, { milli: true }) : formatQuantity(Math.round(v), { binary: true }));
    const statusOf = (p: Proposal): MetricStatus => {
      const current: any = { averageValue: fmt(p.average) };
      if (p.utilization !== undefined) current.averageUtilization = p.utilization;
      return spec.type === "Resource"
        ? { type: "Resource", resource: { name: resource, current } }
        : { type: "ContainerResource", containerResource: { name: resource, container: container!, current } };
    };
    if (src.target.type === "Utilization") {
      const target = src.target.averageUtilization ?? 80;
      const requests = podRequests(pods, resource, container, value);
      const proposal = utilizationReplicas({ current: scale.replicas, target, pods, metrics, requests, resource });
      return { proposal, status: statusOf(proposal) };
    }
    if (src.target.type === "AverageValue" && src.target.averageValue !== undefined) {
      const proposal = averageValueReplicas({ current: scale.replicas, target: value(String(src.target.averageValue)), pods, metrics, resource });
      return { proposal, status: statusOf(proposal) };
    }
    throw new MetricsError("invalid resource metric source: neither an average utilization target nor an average value (usage) target was set");
  }

  async function sync(key: string): Promise<void> {
    const cached = hpaInf.get(key);
    if (!cached || cached.metadata?.deletionTimestamp) return;
    const hpa: HorizontalPodAutoscaler = structuredClone(cached);
    queue.addAfter(key, period);
    const history = histories.get(key) ?? { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };
    histories.set(key, history);
    const conditions: HorizontalPodAutoscalerCondition[] = [];
    const setCond = (type: string, status: "True" | "False", reason: string, message: string) => {
      const old = hpa.status?.conditions?.find((c) => c.type === type);
      const i = conditions.findIndex((c) => c.type === type);
      const c = { type, status, reason, message, lastTransitionTime: old && old.status === status ? old.lastTransitionTime : nowRFC() };
      if (i >= 0) conditions[i] = c;
      else conditions.push(c);
    };
    const min = hpa.spec?.minReplicas ?? 1;
    const max = hpa.spec!.maxReplicas;
    const ref = hpa.spec!.scaleTargetRef;
    const reference = `${ref.kind}/${ref.name}`;

    let scale: Scale;
    try {
      scale = await getScale(hpa);
    } catch (e) {
      const msg = (e as Error).message;
      void recorder.event(hpa, "Warning", "FailedGetScale", msg);
      setCond("AbleToScale", "False", "FailedGetScale", `the HPA controller was unable to get the target's current scale: ${msg}`);
      await writeStatus(hpa, { currentReplicas: hpa.status?.currentReplicas ?? 0, desiredReplicas: hpa.status?.desiredReplicas ?? 0, currentMetrics: hpa.status?.currentMetrics }, conditions);
      return;
    }
    setCond("AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale");
    const current = scale.replicas;
    let desired = 0;
    let rescaleReason = "";
    let currentMetrics: MetricStatus[] | undefined = hpa.status?.currentMetrics;

    if (current === 0 && min !== 0) {
      // Upstream: autoscaling is off while the target is scaled to zero by hand.
      desired = 0;
      setCond("ScalingActive", "False", "ScalingDisabled", "scaling is disabled since the replica count of the target is zero");
    } else if (current > max) {
      rescaleReason = "Current number of replicas above Spec.MaxReplicas";
      desired = max;
    } else if (current < min) {
      rescaleReason = "Current number of replicas below Spec.MinReplicas";
      desired = min;
    } else {
      const specs = specMetrics(hpa);
      let pods: Pod[] = [];
      let selectorErr: string | undefined;
      if (!scale.selector) selectorErr = "selector is required";
      else {
        const sel = parseLabelSelector(scale.selector);
        pods = podInf.byIndex("namespace", hpa.metadata!.namespace!).filter((p) => matchLabels(sel, p.metadata?.labels));
      }
      let cachedMetrics: ReturnType<typeof podMetrics> | undefined;
      const raw = () => (cachedMetrics ??= podMetrics(hpa.metadata!.namespace!, scale.selector!));
      const statuses: MetricStatus[] = [];
      let best: { replicas: number; spec: MetricSpec; timestamp: number } | undefined;
      let invalid = 0;
      let lastError: { reason: string; message: string } | undefined;
      for (const spec of specs) {
        if (selectorErr) {
          invalid++;
          lastError = { reason: "InvalidSelector", message: `the HPA target's scale is missing a selector` };
          continue;
        }
        try {
          const { proposal, status } = await computeMetric(hpa, spec, scale, pods, raw);
          statuses.push(status);
          if (!best || proposal.replicas > best.replicas) best = { replicas: proposal.replicas, spec, timestamp: proposal.timestamp };
        } catch (e) {
          invalid++;
          const r = spec.type === "ContainerResource" ? spec.containerResource?.name : spec.resource?.name;
          const failed = spec.type === "Resource" || spec.type === "ContainerResource" ? (spec.type === "Resource" ? "FailedGetResourceMetric" : "FailedGetContainerResourceMetric") : `FailedGet${spec.type}Metric`;
          // Upstream wraps what the calculator reports: "failed to get cpu utilization: <why>" ("usage" for AverageValue).
          const src = spec.type === "ContainerResource" ? spec.containerResource : spec.resource;
          const what = src?.target?.type === "AverageValue" ? "usage" : "utilization";
          const msg = !src ? (e as Error).message : `failed to get ${r} ${what}: ${(e as Error).message}`;
          void recorder.event(hpa, "Warning", failed, msg);
          lastError = { reason: failed, message: `the HPA was unable to compute the replica count: ${msg}` };
          statuses.push({ type: spec.type } as MetricStatus);
        }
      }
      currentMetrics = statuses.some((s) => s.resource || s.containerResource) ? statuses : undefined;
      if (!best || (invalid > 0 && best.replicas < current)) {
        // Upstream: no scaling on invalid metrics, and never a scale-down while some metric is invalid.
        if (lastError) {
          void recorder.event(hpa, "Warning", "FailedComputeMetricsReplicas", `invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${lastError.message.replace(/^the HPA was unable to compute the replica count: /, "")}`);
          setCond("ScalingActive", "False", lastError.reason, lastError.message);
        }
        await writeStatus(hpa, { currentReplicas: current, desiredReplicas: hpa.status?.desiredReplicas ?? current, currentMetrics }, conditions);
        return;
      }
      setCond("ScalingActive", "True", "ValidMetricFound", `the HPA was able to successfully calculate a replica count from ${describeMetric(best.spec)}`);
      initHistory(history, hpa.spec?.behavior, current);
      const n = normalize({ desired: best.replicas, current, min, max, behavior: hpa.spec?.behavior, history });
      setCond("AbleToScale", "True", n.stabilization.reason, n.stabilization.message);
      if (n.limited) setCond("ScalingLimited", "True", n.limited.reason, n.limited.message);
      else setCond("ScalingLimited", "False", "DesiredWithinRange", "the desired count is within the acceptable range");
      desired = n.replicas;
      rescaleReason = desired > current ? `${describeMetric(best.spec)} above target` : "All metrics below target";
    }

    let lastScaleTime = hpa.status?.lastScaleTime;
    if (desired !== current) {
      try {
        await ctx.client.request("PUT", scale.path, { ...scale.obj, spec: { ...scale.obj.spec, replicas: desired } });
      } catch (e) {
        const msg = (e as Error).message;
        void recorder.event(hpa, "Warning", "FailedRescale", `New size: ${desired}; reason: ${rescaleReason}; error: ${msg}`);
        setCond("AbleToScale", "False", "FailedUpdateScale", `the HPA controller was unable to update the target scale: ${msg}`);
        await writeStatus(hpa, { currentReplicas: current, desiredReplicas: hpa.status?.desiredReplicas ?? current, currentMetrics }, conditions);
        return;
      }
      setCond("AbleToScale", "True", "SucceededRescale", `the HPA controller was able to update the target scale to ${desired}`);
      void recorder.event(hpa, "Normal", "SuccessfulRescale", `New size: ${desired}; reason: ${rescaleReason}`);
      recordScaleEvent(history, hpa.spec?.behavior, current, desired);
      lastScaleTime = nowRFC();
      ctx.log.info("rescaled", { hpa: key, target: reference, from: current, to: desired, reason: rescaleReason });
    }
    await writeStatus(hpa, { currentReplicas: current, desiredReplicas: desired, currentMetrics, lastScaleTime }, conditions);
  }

  async function writeStatus(hpa: HorizontalPodAutoscaler, s: { currentReplicas: number; desiredReplicas: number; currentMetrics?: MetricStatus[]; lastScaleTime?: string }, conditions: HorizontalPodAutoscalerCondition[]): Promise<void> {
    // Conditions not computed in this pass keep their last value (e.g. ScalingLimited while scaling is disabled).
    const merged = [...conditions];
    for (const c of hpa.status?.conditions ?? []) if (!merged.some((m) => m.type === c.type)) merged.push(c);
    const order = ["AbleToScale", "ScalingActive", "ScalingLimited"];
    merged.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
    const status: any = {
      observedGeneration: hpa.metadata?.generation,
      ...(s.lastScaleTime ?? hpa.status?.lastScaleTime ? { lastScaleTime: s.lastScaleTime ?? hpa.status?.lastScaleTime } : {}),
      currentReplicas: s.currentReplicas,
      desiredReplicas: s.desiredReplicas,
      ...(s.currentMetrics ? { currentMetrics: s.currentMetrics } : {}),
      conditions: merged,
    };
    if (JSON.stringify(status) === JSON.stringify(hpa.status ?? {})) return;
    await ctx.client.resource<HorizontalPodAutoscaler>(HPA_REF, hpa.metadata!.namespace).updateStatus({ ...hpa, status });
  }

  return { name: "horizontal-pod-autoscaler", run: () => run(sync) };
}

/** metav1.Duration text ("15.002s", "1m0s", "250ms") → ms. */
function parseWindow(s: string | undefined): number {
  if (!s) return 0;
  let ms = 0;
  for (const m of s.matchAll(/([\d.]+)(h|ms|m|s|us|µs|ns)/g)) {
    const v = Number(m[1]);
    ms += m[2] === "h" ? v * 3_600_000 : m[2] === "m" ? v * 60_000 : m[2] === "s" ? v * 1000 : m[2] === "ms" ? v : m[2] === "ns" ? v / 1e6 : v / 1000;
  }
  return ms;
}
