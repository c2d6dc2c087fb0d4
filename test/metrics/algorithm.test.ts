// Upstream's HPA arithmetic without a cluster: the replica calculator (tolerance, unready and missing pods,
// AverageValue) and normalization (stabilization windows, behavior policies, min/max) — cases from upstream's
// replica_calculator_test.go and horizontal_test.go, re-derived.
import { expect, test } from "bun:test";
import type { Pod } from "kubernetes-types/core/v1";
import { averageValueReplicas, MetricsError, podRequests, utilizationReplicas, type PodMetric } from "../../internal/controllers/podautoscaler/replicas.ts";
import { initHistory, normalize, recordScaleEvent, type History } from "../../internal/controllers/podautoscaler/behavior.ts";
import { milliValue } from "../../internal/api/quantity.ts";

const NOW = Date.parse("2026-01-01T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

function pod(name: string, o: { ready?: boolean; phase?: string; startedAgoMs?: number; readySinceAgoMs?: number; cpu?: string; deleted?: boolean } = {}): Pod {
  const started = NOW - (o.startedAgoMs ?? 3_600_000);
  return {
    metadata: { name, ...(o.deleted ? { deletionTimestamp: iso(NOW) } : {}) },
    spec: { containers: [{ name: "c", resources: { requests: { cpu: o.cpu ?? "100m" } } }] },
    status: {
      phase: o.phase ?? "Running",
      startTime: iso(started),
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True", lastTransitionTime: iso(NOW - (o.readySinceAgoMs ?? 3_000_000)) }],
    },
  } as Pod;
}

const m = (value: number): PodMetric => ({ value, timestamp: NOW - 1000, windowMs: 15_000 });

function calc(pods: Pod[], usage: Record<string, number>, target: number, current = pods.length) {
  const metrics = new Map(Object.entries(usage).map(([k, v]) => [k, m(v)]));
  return utilizationReplicas({ current, target, pods, metrics, requests: podRequests(pods, "cpu", undefined, milliValue), resource: "cpu", now: NOW });
}

test("utilization: scale up, scale down, and no change within the 10 % tolerance", () => {
  const pods = [pod("a"), pod("b"), pod("c")];
  // 300m, 500m, 700m of 100m requests = 500 % against 50 %: ratio 10 → 30 replicas.
  expect(calc(pods, { a: 300, b: 500, c: 700 }, 50)).toMatchObject({ replicas: 30, utilization: 500 });
  // 20 % against 50 %: ratio 0.4 → ceil(1.2) = 2.
  expect(calc(pods, { a: 20, b: 20, c: 20 }, 50).replicas).toBe(2);
  // 54 % against 50 %: inside the tolerance.
  expect(calc(pods, { a: 54, b: 54, c: 54 }, 50).replicas).toBe(3);
});

test("utilization: unready pods count as 0 on a scale-up; missing pods damp both directions", () => {
  // One pod is not Ready: only the ready pods' metrics count, and the unready one is assumed idle on scale-up.
  const pods = [pod("a"), pod("b"), pod("c", { ready: false, readySinceAgoMs: 10_000, startedAgoMs: 20_000 })];
  expect(calc(pods, { a: 100, b: 100, c: 900 }, 50).replicas).toBe(4); // (100+100+0)/300 = 66 % → ceil(1.33*3)
  // A pod without metrics: on a scale-down it counts as using 100 % of its request.
  const p2 = [pod("a"), pod("b"), pod("c")];
  // Alone, a and b (10 %) would ask for 1 replica; with c at 100 %: (10+10+100)/300 = 40 % → ceil(0.8*3) = 3, no change.
  expect(calc(p2, { a: 10, b: 10 }, 50).replicas).toBe(3);
  // (0+0+100)/300 = 33 % → ceil(0.67*3) = 2.
  expect(calc(p2, { a: 0, b: 0 }, 50).replicas).toBe(2);
  // On a scale-up a pod without metrics counts as 0: (200+200+0)/300 = 133 % → ceil(2.67*3) = 8.
  expect(calc(p2, { a: 200, b: 200 }, 50).replicas).toBe(8);
});

test("utilization: errors as upstream's", () => {
  expect(() => calc([], {}, 50)).toThrow("no pods returned by selector while calculating replica count");
  expect(() => calc([pod("a", { phase: "Pending" })], { a: 10 }, 50)).toThrow("did not receive metrics for targeted pods (pods might be unready)");
  const noReq = { ...pod("x"), spec: { containers: [{ name: "c" }] } } as Pod;
  expect(() => podRequests([noReq], "cpu", undefined, milliValue)).toThrow(new MetricsError("missing request for cpu in container c of Pod x"));
  // Deleted and failed pods are ignored.
  expect(calc([pod("a"), pod("b", { deleted: true }), pod("c", { phase: "Failed" })], { a: 200, b: 900, c: 900 }, 100, 3).replicas).toBe(2);
});

test("AverageValue: usage per pod against the target", () => {
  const pods = [pod("a"), pod("b")];
  const metrics = new Map([["a", m(300)], ["b", m(500)]]);
  expect(averageValueReplicas({ current: 2, target: 200, pods, metrics, resource: "memory", now: NOW })).toMatchObject({ replicas: 4, average: 400 });
  expect(averageValueReplicas({ current: 2, target: 390, pods, metrics, resource: "memory", now: NOW }).replicas).toBe(2);
});

const fresh = (): History => ({ recommendations: [], scaleUpEvents: [], scaleDownEvents: [] });

test("normalize: scale-down waits for the stabilization window (default 5 min)", () => {
  const h = fresh();
  expect(normalize({ desired: 8, current: 8, min: 1, max: 10, behavior: undefined, history: h, now: NOW }).replicas).toBe(8);
  const n = normalize({ desired: 2, current: 8, min: 1, max: 10, behavior: undefined, history: h, now: NOW + 60_000 });
  expect(n).toMatchObject({ replicas: 8, stabilization: { reason: "ScaleDownStabilized" } });
  // Once the window passed, the highest recommendation within it is applied.
  const later = normalize({ desired: 2, current: 8, min: 1, max: 10, behavior: undefined, history: h, now: NOW + 301_000 });
  expect(later.replicas).toBe(2);
  // A controller that just started counts the current size as recent: no immediate scale-down.
  const h0 = fresh();
  initHistory(h0, undefined, 8, NOW);
  expect(normalize({ desired: 2, current: 8, min: 1, max: 10, behavior: undefined, history: h0, now: NOW + 1000 }).replicas).toBe(8);
  const hz = fresh();
  initHistory(hz, { scaleDown: { stabilizationWindowSeconds: 0 } }, 8, NOW);
  expect(hz.recommendations).toEqual([]);
  // A shorter window from behavior.
  const h2 = fresh();
  normalize({ desired: 8, current: 8, min: 1, max: 10, behavior: { scaleDown: { stabilizationWindowSeconds: 5 } }, history: h2, now: NOW });
  expect(normalize({ desired: 2, current: 8, min: 1, max: 10, behavior: { scaleDown: { stabilizationWindowSeconds: 5 } }, history: h2, now: NOW + 6000 }).replicas).toBe(2);
});

test("normalize: scale-up rate limits of the default and given policies, and the bounds", () => {
  // Without spec.behavior (upstream's legacy path): at most twice the current count, at least 4.
  expect(normalize({ desired: 50, current: 1, min: 1, max: 100, behavior: undefined, history: fresh(), now: NOW })).toMatchObject({ replicas: 4, limited: { reason: "ScaleUpLimit" } });
  expect(normalize({ desired: 50, current: 10, min: 1, max: 100, behavior: undefined, history: fresh(), now: NOW }).replicas).toBe(20);
  // A behavior's default scale-up rules: max(+4 pods, +100 %) per 15 s.
  expect(normalize({ desired: 50, current: 2, min: 1, max: 100, behavior: {}, history: fresh(), now: NOW })).toMatchObject({ replicas: 6, limited: { reason: "ScaleUpLimit" } });
  expect(normalize({ desired: 50, current: 10, min: 1, max: 100, behavior: {}, history: fresh(), now: NOW }).replicas).toBe(20);
  // Scale-ups already made in the period count against it.
  const h = fresh();
  recordScaleEvent(h, { scaleUp: { policies: [{ type: "Pods", value: 2, periodSeconds: 60 }] } }, 4, 6, NOW - 10_000);
  expect(normalize({ desired: 20, current: 6, min: 1, max: 100, behavior: { scaleUp: { policies: [{ type: "Pods", value: 2, periodSeconds: 60 }] } }, history: h, now: NOW }).replicas).toBe(6);
  expect(normalize({ desired: 20, current: 5, min: 1, max: 8, behavior: undefined, history: fresh(), now: NOW })).toMatchObject({ replicas: 8, limited: { reason: "TooManyReplicas" } });
  expect(normalize({ desired: 1, current: 5, min: 3, max: 8, behavior: { scaleDown: { stabilizationWindowSeconds: 0 } }, history: fresh(), now: NOW })).toMatchObject({ replicas: 3, limited: { reason: "TooFewReplicas" } });
  // Scale-down policies: at most 1 pod per minute; selectPolicy Disabled blocks scaling down.
  const down = { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods" as const, value: 1, periodSeconds: 60 }] } };
  expect(normalize({ desired: 1, current: 5, min: 1, max: 8, behavior: down, history: fresh(), now: NOW })).toMatchObject({ replicas: 4, limited: { reason: "ScaleDownLimit" } });
  expect(normalize({ desired: 1, current: 5, min: 1, max: 8, behavior: { scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: "Disabled" } }, history: fresh(), now: NOW }).replicas).toBe(5);
});
