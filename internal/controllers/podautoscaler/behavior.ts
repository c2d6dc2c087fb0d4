// Upstream's normalization of a desired replica count (horizontal.go): stabilization over the recent
// recommendations (scale-down window 5 min by default, scale-up 0), then the scaling policies' rate limits
// over the recent scale events, then minReplicas/maxReplicas — with the condition reasons upstream reports.
import type { HorizontalPodAutoscalerBehavior, HPAScalingRules } from "kubernetes-types/autoscaling/v2";

export interface Recommendation {
  replicas: number;
  time: number;
}

export interface ScaleEvent {
  change: number;
  time: number;
  outdated?: boolean;
}

export interface History {
  recommendations: Recommendation[];
  scaleUpEvents: ScaleEvent[];
  scaleDownEvents: ScaleEvent[];
}

export const DEFAULT_SCALE_DOWN_STABILIZATION_S = 300;

/** v2 API defaults for a behavior that was given (upstream SetDefaults_HorizontalPodAutoscalerBehavior). */
export function defaultBehavior(b: HorizontalPodAutoscalerBehavior | undefined): { scaleUp: Required<Pick<HPAScalingRules, "stabilizationWindowSeconds" | "selectPolicy" | "policies">>; scaleDown: Required<Pick<HPAScalingRules, "stabilizationWindowSeconds" | "selectPolicy" | "policies">> } {
  const up = b?.scaleUp;
  const down = b?.scaleDown;
  return {
    scaleUp: {
      stabilizationWindowSeconds: up?.stabilizationWindowSeconds ?? 0,
      selectPolicy: up?.selectPolicy ?? "Max",
      policies: up?.policies ?? [
        { type: "Pods", value: 4, periodSeconds: 15 },
        { type: "Percent", value: 100, periodSeconds: 15 },
      ],
    },
    scaleDown: {
      stabilizationWindowSeconds: down?.stabilizationWindowSeconds ?? DEFAULT_SCALE_DOWN_STABILIZATION_S,
      selectPolicy: down?.selectPolicy ?? "Max",
      policies: down?.policies ?? [{ type: "Percent", value: 100, periodSeconds: 15 }],
    },
  };
}

export interface Normalized {
  replicas: number;
  /** AbleToScale reason/message of the stabilization step. */
  stabilization: { reason: string; message: string };
  /** ScalingLimited: status True with the reason when a limit applied. */
  limited?: { reason: string; message: string };
}

function changeInPeriod(periodSeconds: number, events: ScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  let sum = 0;
  for (const e of events) if (e.time > cutoff) sum += e.change;
  return sum;
}

function scaleUpLimit(current: number, h: History, rules: ReturnType<typeof defaultBehavior>["scaleUp"], now: number): number {
  if (rules.selectPolicy === "Disabled") return current;
  const pick = rules.selectPolicy === "Min" ? Math.min : Math.max;
  let result = rules.selectPolicy === "Min" ? Infinity : -Infinity;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(p.periodSeconds, h.scaleUpEvents, now) + changeInPeriod(p.periodSeconds, h.scaleDownEvents, now);
    const proposed = p.type === "Pods" ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

function scaleDownLimit(current: number, h: History, rules: ReturnType<typeof defaultBehavior>["scaleDown"], now: number): number {
  if (rules.selectPolicy === "Disabled") return current;
  // "Min" picks the policy that allows the smallest change: the highest floor.
  const pick = rules.selectPolicy === "Min" ? Math.max : Math.min;
  let result = rules.selectPolicy === "Min" ? -Infinity : Infinity;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(p.periodSeconds, h.scaleUpEvents, now) + changeInPeriod(p.periodSeconds, h.scaleDownEvents, now);
    const proposed = p.type === "Pods" ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

const TOO_MANY = { reason: "TooManyReplicas", message: "the desired replica count is more than the maximum replica count" };
const TOO_FEW = { reason: "TooFewReplicas", message: "the desired replica count is less than the minimum replica count" };
const UP_LIMIT = { reason: "ScaleUpLimit", message: "the desired replica count is increasing faster than the maximum scale rate" };
const DOWN_STABILIZED = { reason: "ScaleDownStabilized", message: "recent recommendations were higher than current one, applying the highest recent recommendation" };
const READY = { reason: "ReadyForNewScale", message: "recommended size matches current size" };

/**
 * Upstream's path for HPAs without spec.behavior (normalizeDesiredReplicas): the highest recommendation of the
 * scale-down window (5 min), then at most twice the current replicas (at least 4), then min/max.
 */
function normalizeLegacy(args: { desired: number; current: number; min: number; max: number; history: History; now: number }): Normalized {
  const h = args.history;
  const cutoff = args.now - DEFAULT_SCALE_DOWN_STABILIZATION_S * 1000;
  let rec = args.desired;
  let oldIndex = -1;
  h.recommendations.forEach((r, i) => {
    if (r.time < cutoff) oldIndex = i;
    else if (r.replicas > rec) rec = r.replicas;
  });
  if (oldIndex >= 0) h.recommendations[oldIndex] = { replicas: args.desired, time: args.now };
  else h.recommendations.push({ replicas: args.desired, time: args.now });
  const stabilization = rec !== args.desired ? DOWN_STABILIZED : READY;
  const upLimit = Math.max(2 * args.current, 4);
  const [maxAllowed, maxWhy] = args.max > upLimit ? [upLimit, UP_LIMIT] : [args.max, TOO_MANY];
  if (rec < args.min) return { replicas: args.min, stabilization, limited: TOO_FEW };
  if (rec > maxAllowed) return { replicas: maxAllowed, stabilization, limited: maxWhy };
  return { replicas: rec, stabilization };
}

/**
 * A first look at an HPA (or one after a controller restart) counts the current size as a recent recommendation,
 * so that a scale-down still waits for the window (upstream maybeInitScaleDownStabilizationWindow).
 */
export function initHistory(h: History, behavior: HorizontalPodAutoscalerBehavior | undefined, current: number, now = Date.now()): void {
  if (h.recommendations.length) return;
  if (defaultBehavior(behavior).scaleDown.stabilizationWindowSeconds > 0) h.recommendations.push({ replicas: current, time: now });
}

/** The stabilized, rate-limited and bounded replica count; records `desired` in the history. */
export function normalize(args: {
  desired: number;
  current: number;
  min: number;
  max: number;
  behavior: HorizontalPodAutoscalerBehavior | undefined;
  history: History;
  now?: number;
}): Normalized {
  const now = args.now ?? Date.now();
  if (!args.behavior) return normalizeLegacy({ ...args, now });
  const b = defaultBehavior(args.behavior);
  const h = args.history;
  // Stabilization: the highest recommendation within the scale-down window, the lowest within the scale-up one.
  const upCutoff = now - b.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = now - b.scaleDown.stabilizationWindowSeconds * 1000;
  let up = args.desired;
  let down = args.desired;
  let oldIndex = -1;
  h.recommendations.forEach((r, i) => {
    if (r.time > upCutoff) up = Math.min(up, r.replicas);
    if (r.time > downCutoff) down = Math.max(down, r.replicas);
    if (r.time < upCutoff && r.time < downCutoff) oldIndex = i;
  });
  let replicas = args.current;
  if (replicas < up) replicas = up;
  if (replicas > down) replicas = down;
  if (oldIndex >= 0) h.recommendations[oldIndex] = { replicas: args.desired, time: now };
  else h.recommendations.push({ replicas: args.desired, time: now });
  let stabilization = { reason: "ReadyForNewScale", message: "recommended size matches current size" };
  if (replicas !== args.desired) {
    stabilization =
      replicas > args.desired
        ? { reason: "ScaleDownStabilized", message: "recent recommendations were higher than current one, applying the highest recent recommendation" }
        : { reason: "ScaleUpStabilized", message: "recent recommendations were lower than current one, applying the lowest recent recommendation" };
  }

  // Rate limits of the policies, then the bounds.
  let limited: Normalized["limited"];
  if (replicas > args.current) {
    const limit = Math.max(scaleUpLimit(args.current, h, b.scaleUp, now), args.current);
    let maxAllowed = args.max;
    let why = { reason: "TooManyReplicas", message: "the desired replica count is more than the maximum replica count" };
    if (maxAllowed > limit) {
      maxAllowed = limit;
      why = { reason: "ScaleUpLimit", message: "the desired replica count is increasing faster than the maximum scale rate" };
    }
    if (replicas > maxAllowed) {
      replicas = maxAllowed;
      limited = why;
    }
  } else if (replicas < args.current) {
    const limit = Math.min(scaleDownLimit(args.current, h, b.scaleDown, now), args.current);
    let minAllowed = args.min;
    let why = { reason: "TooFewReplicas", message: "the desired replica count is less than the minimum replica count" };
    if (minAllowed < limit) {
      minAllowed = limit;
      why = { reason: "ScaleDownLimit", message: "the desired replica count is decreasing faster than the maximum scale rate" };
    }
    if (replicas < minAllowed) {
      replicas = minAllowed;
      limited = why;
    }
  }
  if (replicas > args.max) {
    replicas = args.max;
    limited = { reason: "TooManyReplicas", message: "the desired replica count is more than the maximum replica count" };
  } else if (replicas < args.min) {
    replicas = args.min;
    limited = { reason: "TooFewReplicas", message: "the desired replica count is less than the minimum replica count" };
  }
  return { replicas, stabilization, limited };
}

/** Remembers a rescale for the policies' periods; drops events older than the longest period. */
export function recordScaleEvent(h: History, behavior: HorizontalPodAutoscalerBehavior | undefined, from: number, to: number, now = Date.now()): void {
  const b = defaultBehavior(behavior);
  const longest = (rules: { policies: { periodSeconds: number }[] }) => Math.max(0, ...rules.policies.map((p) => p.periodSeconds)) * 1000;
  h.scaleUpEvents = h.scaleUpEvents.filter((e) => e.time > now - longest(b.scaleUp));
  h.scaleDownEvents = h.scaleDownEvents.filter((e) => e.time > now - longest(b.scaleDown));
  if (to > from) h.scaleUpEvents.push({ change: to - from, time: now });
  else if (to < from) h.scaleDownEvents.push({ change: from - to, time: now });
}
