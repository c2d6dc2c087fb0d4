// autoscaling/v2 HorizontalPodAutoscaler validation with upstream's fields and messages
// (pkg/apis/autoscaling/validation): replica bounds, scale target, resource metric targets, behavior rules.
import { Errors, child, idx } from "./errors.ts";

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);
const MAX_PERIOD_S = 1800;
const MAX_WINDOW_S = 3600;

function validateTarget(e: Errors, t: unknown, path: string, resource: boolean): void {
  if (!isObj(t)) return e.required(path, "must specify a metric target");
  const type = t.type;
  if (!type) e.required(child(path, "type"), "must specify a metric target type");
  else if (!["Utilization", "Value", "AverageValue"].includes(type)) e.invalid(child(path, "type"), type, "must be either Utilization, Value, or AverageValue");
  if (t.averageUtilization !== undefined && !(t.averageUtilization > 0)) e.invalid(child(path, "averageUtilization"), t.averageUtilization, "must be greater than 0");
  if (resource) {
    if (type === "Utilization" && t.averageUtilization === undefined) e.required(child(path, "averageUtilization"), "must set either a target raw value or a target utilization");
    if (type === "AverageValue" && t.averageValue === undefined) e.required(child(path, "averageValue"), "must set either a target raw value or a target utilization");
    if (type === "Value") e.invalid(child(path, "type"), type, "must be either Utilization or AverageValue");
  }
}

function validateMetric(e: Errors, m: unknown, path: string): void {
  if (!isObj(m)) return e.required(path, "");
  const types: Record<string, string> = { Object: "object", Pods: "pods", Resource: "resource", ContainerResource: "containerResource", External: "external" };
  if (!m.type) return e.required(child(path, "type"), "must specify a metric source type");
  const field = types[m.type];
  if (!field) return e.notSupported(child(path, "type"), m.type, Object.keys(types));
  for (const [t, f] of Object.entries(types)) if (t !== m.type && m[f] !== undefined) e.forbidden(child(path, f), "must populate the given metric source only");
  const src = m[field];
  const sp = child(path, field);
  if (!isObj(src)) return e.required(sp, `must populate information for the given metric source`);
  if (field === "resource" || field === "containerResource") {
    if (!src.name) e.required(child(sp, "name"), "must specify a resource name");
    if (field === "containerResource" && !src.container) e.required(child(sp, "container"), "must specify a container");
    validateTarget(e, src.target, child(sp, "target"), true);
  } else {
    if (!isObj(src.metric) || !src.metric.name) e.required(child(child(sp, "metric"), "name"), "must specify a metric name");
    validateTarget(e, src.target, child(sp, "target"), false);
  }
}

function validateRules(e: Errors, r: unknown, path: string): void {
  if (r === undefined || r === null) return;
  if (!isObj(r)) return e.invalid(path, r, "must be an object");
  const w = r.stabilizationWindowSeconds;
  if (w !== undefined) {
    if (w < 0) e.invalid(child(path, "stabilizationWindowSeconds"), w, "must be greater than or equal to zero");
    else if (w > MAX_WINDOW_S) e.invalid(child(path, "stabilizationWindowSeconds"), w, `must be less than or equal to ${MAX_WINDOW_S}`);
  }
  if (r.selectPolicy !== undefined && !["Max", "Min", "Disabled"].includes(r.selectPolicy)) e.notSupported(child(path, "selectPolicy"), r.selectPolicy, ["Disabled", "Max", "Min"]);
  const policies = r.policies;
  if (!Array.isArray(policies) || policies.length === 0) return e.required(child(path, "policies"), "must specify at least one Policy");
  policies.forEach((p: any, i: number) => {
    const pp = idx(child(path, "policies"), i);
    if (!isObj(p)) return e.required(pp, "");
    if (!["Pods", "Percent"].includes(p.type)) e.notSupported(child(pp, "type"), p.type ?? "", ["Percent", "Pods"]);
    if (!(p.value > 0)) e.invalid(child(pp, "value"), p.value ?? 0, "must be greater than zero");
    if (!(p.periodSeconds > 0)) e.invalid(child(pp, "periodSeconds"), p.periodSeconds ?? 0, "must be greater than zero");
    else if (p.periodSeconds > MAX_PERIOD_S) e.invalid(child(pp, "periodSeconds"), p.periodSeconds, `must be less than or equal to ${MAX_PERIOD_S}`);
  });
}

export function validateHorizontalPodAutoscaler(e: Errors, obj: Obj): void {
  const spec = obj.spec;
  if (!isObj(spec)) return e.required("spec", "");
  const ref = spec.scaleTargetRef;
  if (!isObj(ref)) e.required("spec.scaleTargetRef", "");
  else {
    if (!ref.kind) e.required("spec.scaleTargetRef.kind", "");
    else if (/[/%]/.test(ref.kind)) e.invalid("spec.scaleTargetRef.kind", ref.kind, `may not contain '${ref.kind.includes("/") ? "/" : "%"}'`);
    if (!ref.name) e.required("spec.scaleTargetRef.name", "");
    else if (/[/%]/.test(ref.name) || ref.name === "." || ref.name === "..") e.invalid("spec.scaleTargetRef.name", ref.name, `may not contain '${ref.name.includes("/") ? "/" : "%"}'`);
  }
  const min = spec.minReplicas;
  if (min !== undefined && min < 1) e.invalid("spec.minReplicas", min, "must be greater than or equal to 1");
  const max = spec.maxReplicas;
  if (typeof max !== "number" || max < 1) e.invalid("spec.maxReplicas", max ?? 0, "must be greater than 0");
  else if (min !== undefined && max < min) e.invalid("spec.maxReplicas", max, "must be greater than or equal to `minReplicas`");
  if (Array.isArray(spec.metrics)) spec.metrics.forEach((m: unknown, i: number) => validateMetric(e, m, idx("spec.metrics", i)));
  if (isObj(spec.behavior)) {
    validateRules(e, spec.behavior.scaleUp, "spec.behavior.scaleUp");
    validateRules(e, spec.behavior.scaleDown, "spec.behavior.scaleDown");
  }
}
