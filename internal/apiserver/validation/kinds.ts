// Per-kind validation on create and update (upstream's registry strategies: Validate / ValidateUpdate).
import type { ResourceInfo } from "../resources.ts";
import { Errors, child, goValue, idx } from "./errors.ts";
import { isEmptySelector, selectorMatches, selectorString, validateLabels, validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate, type NameCheck } from "./meta.ts";
import { isConfigMapKey, isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, isValidPathSegmentName, isValidPortName, isValidPortNum } from "./names.ts";
import { validatePodSpec, validatePodTemplate } from "./pod.ts";

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);
const deepEqual = (a: unknown, b: unknown) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));
function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon);
  if (isObj(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]));
  return v;
}

/** Which name syntax each kind uses (upstream's ValidateXName functions). */
export function nameCheckFor(kind: string): NameCheck {
  switch (kind) {
    case "Namespace":
      return isDNS1123Label;
    case "Service":
      return isDNS1035Label;
    case "Role":
    case "ClusterRole":
    case "RoleBinding":
    case "ClusterRoleBinding":
      return isValidPathSegmentName;
    case "CronJob":
      return (n) => [...isDNS1123Subdomain(n), ...(n.length > 52 ? ["must be no more than 52 characters"] : [])];
    default:
      return isDNS1123Subdomain;
  }
}

function nonNegative(e: Errors, v: unknown, path: string) {
  if (v !== undefined && v !== null && (typeof v !== "number" || v < 0)) e.invalid(path, v, "must be greater than or equal to 0");
}

function intOrPercent(e: Errors, v: unknown, path: string) {
  if (v === undefined) return;
  if (typeof v === "number") return nonNegative(e, v, path);
  const m = /^(\d+)%$/.exec(String(v));
  if (!m) return e.invalid(path, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
  if (Number(m[1]) > 100) e.invalid(path, v, "must not be greater than 100%");
}

const isZero = (v: unknown) => v === 0 || v === "0%";

/** Selector present, non-empty, valid, and matching the template labels. */
function validateSelectorAndTemplate(e: Errors, spec: Obj, kindLower: string, restartPolicies: string[], extraVolumes?: string[]) {
  const sel = spec.selector;
  if (!isObj(sel)) e.required("spec.selector");
  else {
    validateLabelSelector(e, sel, "spec.selector");
    if (isEmptySelector(sel)) e.invalid("spec.selector", selectorString(sel), `empty selector is invalid for ${kindLower}`);
  }
  if (!isObj(spec.template)) return e.required("spec.template");
  const labels = spec.template.metadata?.labels;
  if (isObj(sel) && !isEmptySelector(sel) && !selectorMatches(sel, labels)) {
    e.invalid("spec.template.metadata.labels", labels ?? {}, "`selector` does not match template `labels`");
  }
  validatePodTemplate(e, spec.template, "spec.template", { restartPolicies, extraVolumes });
}

function validateDeployment(e: Errors, d: Obj) {
  const spec = d.spec;
  if (!isObj(spec)) return e.required("spec");
  nonNegative(e, spec.replicas, "spec.replicas");
  validateSelectorAndTemplate(e, spec, "deployment", ["Always"]);
  const types = ["Recreate", "RollingUpdate"];
  const st = spec.strategy ?? {};
  if (st.type !== undefined && !types.includes(st.type)) e.notSupported("spec.strategy.type", st.type, types);
  if (st.type === "Recreate" && st.rollingUpdate) e.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'");
  const ru = st.rollingUpdate;
  if (st.type === "RollingUpdate" && isObj(ru)) {
    intOrPercent(e, ru.maxUnavailable, "spec.strategy.rollingUpdate.maxUnavailable");
    intOrPercent(e, ru.maxSurge, "spec.strategy.rollingUpdate.maxSurge");
    if (isZero(ru.maxSurge) && isZero(ru.maxUnavailable)) {
      e.invalid("spec.strategy.rollingUpdate.maxUnavailable", ru.maxUnavailable, "may not be 0 when `maxSurge` is 0");
    }
  }
  nonNegative(e, spec.revisionHistoryLimit, "spec.revisionHistoryLimit");
  nonNegative(e, spec.minReadySeconds, "spec.minReadySeconds");
  if (typeof spec.progressDeadlineSeconds === "number") {
    nonNegative(e, spec.progressDeadlineSeconds, "spec.progressDeadlineSeconds");
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      e.invalid("spec.progressDeadlineSeconds", spec.progressDeadlineSeconds, "must be greater than minReadySeconds");
    }
  }
}

function validateReplicaSet(e: Errors, rs: Obj) {
  if (!isObj(rs.spec)) return e.required("spec");
  nonNegative(e, rs.spec.replicas, "spec.replicas");
  nonNegative(e, rs.spec.minReadySeconds, "spec.minReadySeconds");
  validateSelectorAndTemplate(e, rs.spec, "replicaset", ["Always"]);
}

function validateDaemonSet(e: Errors, ds: Obj) {
  if (!isObj(ds.spec)) return e.required("spec");
  validateSelectorAndTemplate(e, ds.spec, "daemonset", ["Always"]);
  const types = ["OnDelete", "RollingUpdate"];
  const t = ds.spec.updateStrategy?.type;
  if (t !== undefined && !types.includes(t)) e.notSupported("spec.updateStrategy.type", t, types);
  const ru = ds.spec.updateStrategy?.rollingUpdate;
  if (t === "RollingUpdate" && isObj(ru)) {
    intOrPercent(e, ru.maxUnavailable, "spec.updateStrategy.rollingUpdate.maxUnavailable");
    intOrPercent(e, ru.maxSurge, "spec.updateStrategy.rollingUpdate.maxSurge");
    if (isZero(ru.maxSurge) && isZero(ru.maxUnavailable)) {
      e.invalid("spec.updateStrategy.rollingUpdate.maxUnavailable", ru.maxUnavailable, "may not be 0 when `maxSurge` is 0");
    }
  }
}

function validateStatefulSet(e: Errors, ss: Obj) {
  const spec = ss.spec;
  if (!isObj(spec)) return e.required("spec");
  nonNegative(e, spec.replicas, "spec.replicas");
  const pmp = ["OrderedReady", "Parallel"];
  if (spec.podManagementPolicy !== undefined && !pmp.includes(spec.podManagementPolicy)) e.notSupported("spec.podManagementPolicy", spec.podManagementPolicy, pmp);
  const types = ["OnDelete", "RollingUpdate"];
  const t = spec.updateStrategy?.type;
  if (t !== undefined && !types.includes(t)) e.notSupported("spec.updateStrategy.type", t, types);
  if (t === "OnDelete" && spec.updateStrategy?.rollingUpdate) e.invalid("spec.updateStrategy.rollingUpdate", spec.updateStrategy.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'");
  nonNegative(e, spec.updateStrategy?.rollingUpdate?.partition, "spec.updateStrategy.rollingUpdate.partition");
  const claims: string[] = Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates.map((t: Obj) => t?.metadata?.name).filter(Boolean) : [];
  validateSelectorAndTemplate(e, spec, "statefulset", ["Always"], claims);
}

function validateJobSpec(e: Errors, spec: Obj, path: string, isTemplate: boolean) {
  for (const f of ["parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"]) nonNegative(e, spec[f], child(path, f));
  if (spec.activeDeadlineSeconds === 0) e.invalid(child(path, "activeDeadlineSeconds"), 0, "must be greater than 0");
  const modes = ["NonIndexed", "Indexed"];
  if (spec.completionMode !== undefined && !modes.includes(spec.completionMode)) e.notSupported(child(path, "completionMode"), spec.completionMode, modes);
  if (spec.completionMode === "Indexed" && spec.completions === undefined) e.required(child(path, "completions"), "when completion mode is Indexed");
  if (!isTemplate && spec.manualSelector === true && !isObj(spec.selector)) e.required(child(path, "selector"));
  if (isObj(spec.selector)) {
    validateLabelSelector(e, spec.selector, child(path, "selector"));
    const labels = spec.template?.metadata?.labels;
    if (!isEmptySelector(spec.selector) && !selectorMatches(spec.selector, labels)) {
      e.invalid(child(path, "template.metadata.labels"), labels ?? {}, "`selector` does not match template `labels`");
    }
  }
  if (!isObj(spec.template)) return e.required(child(path, "template"));
  validatePodTemplate(e, spec.template, child(path, "template"), { restartPolicies: ["OnFailure", "Never"] });
}

/** Job selector and labels generated from the uid, as upstream's Job strategy does before validation. */
export function generateJobSelector(job: Obj) {
  const spec = job.spec;
  const uid = job.metadata?.uid;
  if (!isObj(spec) || spec.manualSelector === true || !uid) return;
  const labels: Obj = {
    "batch.kubernetes.io/controller-uid": uid,
    "batch.kubernetes.io/job-name": job.metadata.name,
    "controller-uid": uid,
    "job-name": job.metadata.name,
  };
  spec.template ??= {};
  spec.template.metadata ??= {};
  spec.template.metadata.labels = { ...(spec.template.metadata.labels ?? {}), ...labels };
  spec.selector ??= { matchLabels: { "batch.kubernetes.io/controller-uid": uid } };
}

// Five-field cron expressions (plus @hourly etc. and an optional TZ= prefix), as robfig/cron accepts them.
function cronErrors(schedule: string): string | undefined {
  const s = schedule.replace(/^(CRON_)?TZ=\S+\s+/, "").trim();
  if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/.test(s) || /^@every\s+\S+$/.test(s)) return undefined;
  const fields = s.split(/\s+/);
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: ${s}`;
  const ranges: [number, number][] = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];
  const names = [undefined, undefined, undefined, /^(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)$/i, /^(sun|mon|tue|wed|thu|fri|sat)$/i];
  for (let i = 0; i < 5; i++) {
    for (const part of fields[i]!.split(",")) {
      const [range, step] = part.split("/");
      if (step !== undefined && !/^\d+$/.test(step)) return `failed to parse int from ${step}`;
      if (range === "*" || range === "?") continue;
      for (const bound of range!.split("-")) {
        if (names[i]?.test(bound)) continue;
        if (!/^\d+$/.test(bound)) return `failed to parse int from ${bound}`;
        const n = Number(bound);
        const [lo, hi] = ranges[i]!;
        if (n < lo || n > hi) return `end of range (${n}) above maximum (${hi}): ${part}`;
      }
    }
  }
  return undefined;
}

function validateCronJob(e: Errors, cj: Obj) {
  const spec = cj.spec;
  if (!isObj(spec)) return e.required("spec");
  if (!spec.schedule) e.required("spec.schedule");
  else {
    const err = cronErrors(String(spec.schedule));
    if (err) e.invalid("spec.schedule", spec.schedule, err);
  }
  const policies = ["Allow", "Forbid", "Replace"];
  if (spec.concurrencyPolicy !== undefined && !policies.includes(spec.concurrencyPolicy)) e.notSupported("spec.concurrencyPolicy", spec.concurrencyPolicy, policies);
  nonNegative(e, spec.startingDeadlineSeconds, "spec.startingDeadlineSeconds");
  nonNegative(e, spec.successfulJobsHistoryLimit, "spec.successfulJobsHistoryLimit");
  nonNegative(e, spec.failedJobsHistoryLimit, "spec.failedJobsHistoryLimit");
  if (!isObj(spec.jobTemplate?.spec)) return e.required("spec.jobTemplate.spec");
  validateJobSpec(e, spec.jobTemplate.spec, "spec.jobTemplate.spec", true);
}

const SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const PROTOCOLS = ["SCTP", "TCP", "UDP"];

function validateService(e: Errors, svc: Obj) {
  const spec = svc.spec;
  if (!isObj(spec)) return e.required("spec");
  const type = spec.type ?? "ClusterIP";
  if (!SERVICE_TYPES.includes(type)) e.notSupported("spec.type", type, SERVICE_TYPES);
  const headless = spec.clusterIP === "None";
  const ports: Obj[] = Array.isArray(spec.ports) ? spec.ports : [];
  if (type === "ExternalName") {
    if (!spec.externalName) e.required("spec.externalName");
    else e.invalidEach("spec.externalName", spec.externalName, isDNS1123Subdomain(String(spec.externalName).replace(/\.$/, "")));
  } else if (ports.length === 0 && !headless) {
    e.required("spec.ports");
  }
  const names = new Set<string>();
  const keys = new Set<string>();
  ports.forEach((p, i) => {
    const pp = idx("spec.ports", i);
    if (!isObj(p)) return;
    if (ports.length > 1 && !p.name) e.required(child(pp, "name"));
    else if (p.name) {
      e.invalidEach(child(pp, "name"), p.name, isDNS1123Label(String(p.name)));
      if (names.has(p.name)) e.duplicate(child(pp, "name"), p.name);
      names.add(p.name);
    }
    e.invalidEach(child(pp, "port"), p.port ?? 0, isValidPortNum(p.port));
    if (p.protocol === undefined) e.required(child(pp, "protocol"));
    else if (!PROTOCOLS.includes(p.protocol)) e.notSupported(child(pp, "protocol"), p.protocol, PROTOCOLS);
    const key = `${p.port}/${p.protocol}`;
    if (keys.has(key)) e.duplicate(pp, `${p.port}/${p.protocol}`);
    keys.add(key);
    if (typeof p.targetPort === "number") e.invalidEach(child(pp, "targetPort"), p.targetPort, isValidPortNum(p.targetPort));
    else if (typeof p.targetPort === "string") e.invalidEach(child(pp, "targetPort"), p.targetPort, isValidPortName(p.targetPort));
    if (p.nodePort !== undefined && p.nodePort !== 0) {
      if (type !== "NodePort" && type !== "LoadBalancer") e.forbidden(child(pp, "nodePort"), "may not be used when `type` is 'ClusterIP'");
      else e.invalidEach(child(pp, "nodePort"), p.nodePort, isValidPortNum(p.nodePort));
    }
  });
  if (isObj(spec.selector)) validateLabels(e, spec.selector, "spec.selector");
  const affinities = ["ClientIP", "None"];
  if (spec.sessionAffinity !== undefined && !affinities.includes(spec.sessionAffinity)) e.notSupported("spec.sessionAffinity", spec.sessionAffinity, affinities);
  if (spec.clusterIP && spec.clusterIP !== "None" && !/^\d{1,3}(\.\d{1,3}){3}$|:/.test(spec.clusterIP)) {
    e.invalid("spec.clusterIPs[0]", spec.clusterIP, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
  }
  const policies = ["Cluster", "Local"];
  if (spec.internalTrafficPolicy !== undefined && !policies.includes(spec.internalTrafficPolicy)) e.notSupported("spec.internalTrafficPolicy", spec.internalTrafficPolicy, policies);
  if (spec.externalTrafficPolicy !== undefined && !policies.includes(spec.externalTrafficPolicy)) e.notSupported("spec.externalTrafficPolicy", spec.externalTrafficPolicy, policies);
}

const MAX_DATA_SIZE = 1024 * 1024;

function validateConfigMap(e: Errors, cm: Obj) {
  let size = 0;
  const data = isObj(cm.data) ? cm.data : {};
  const bin = isObj(cm.binaryData) ? cm.binaryData : {};
  for (const [k, v] of Object.entries(data)) {
    e.invalidEach(idx("data", k), k, isConfigMapKey(k));
    size += k.length + String(v ?? "").length;
  }
  for (const [k, v] of Object.entries(bin)) {
    e.invalidEach(idx("binaryData", k), k, isConfigMapKey(k));
    if (k in data) e.invalid(idx("binaryData", k), k, "duplicate of key present in data");
    size += k.length + base64Size(String(v ?? ""));
  }
  if (size > MAX_DATA_SIZE) e.tooLong("", MAX_DATA_SIZE);
}

/** Decoded size of a base64 string. */
function base64Size(b64: string): number {
  const pad = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - pad;
}

function validateSecret(e: Errors, s: Obj) {
  let size = 0;
  for (const [k, v] of Object.entries(isObj(s.data) ? s.data : {})) {
    e.invalidEach(idx("data", k), k, isConfigMapKey(k));
    size += base64Size(String(v ?? ""));
  }
  // stringData is merged into data (overriding it) on write.
  for (const [k, v] of Object.entries(isObj(s.stringData) ? s.stringData : {})) {
    e.invalidEach(idx("stringData", k), k, isConfigMapKey(k));
    size += String(v ?? "").length;
  }
  if (size > MAX_DATA_SIZE) e.tooLong("data", MAX_DATA_SIZE);
  const data = { ...(s.data ?? {}), ...(s.stringData ?? {}) };
  switch (s.type) {
    case "kubernetes.io/tls":
      for (const k of ["tls.crt", "tls.key"]) if (!(k in data)) e.required(idx("data", k));
      break;
    case "kubernetes.io/dockerconfigjson":
      if (!(".dockerconfigjson" in data)) e.required(idx("data", ".dockerconfigjson"));
      break;
    case "kubernetes.io/dockercfg":
      if (!(".dockercfg" in data)) e.required(idx("data", ".dockercfg"));
      break;
    case "kubernetes.io/service-account-token":
      if (!s.metadata?.annotations?.["kubernetes.io/service-account.name"]) e.required("metadata.annotations[kubernetes.io/service-account.name]");
      break;
    case "kubernetes.io/basic-auth":
      if (!("username" in data) && !("password" in data)) e.required(idx("data", "username"));
      break;
    case "kubernetes.io/ssh-auth":
      if (!("ssh-privatekey" in data)) e.required(idx("data", "ssh-privatekey"));
      break;
  }
}

function validateRoleRules(e: Errors, rules: unknown, path: string) {
  if (!Array.isArray(rules)) return;
  rules.forEach((r: Obj, i: number) => {
    const p = idx(path, i);
    if (!isObj(r)) return;
    if (!Array.isArray(r.verbs) || r.verbs.length === 0) e.required(child(p, "verbs"), "verbs must contain at least one value");
    const hasNonResource = Array.isArray(r.nonResourceURLs) && r.nonResourceURLs.length > 0;
    if (hasNonResource) {
      if (r.apiGroups?.length || r.resources?.length) e.invalid(child(p, "nonResourceURLs"), r.nonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs");
      return;
    }
    if (!Array.isArray(r.apiGroups) || r.apiGroups.length === 0) e.required(child(p, "apiGroups"), "resource rules must supply at least one api group");
    if (!Array.isArray(r.resources) || r.resources.length === 0) e.required(child(p, "resources"), "resource rules must supply at least one resource");
  });
}

function validateBinding(e: Errors, b: Obj, namespaced: boolean) {
  const ref = b.roleRef;
  if (!isObj(ref)) e.required("roleRef");
  else {
    const kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"];
    if (!kinds.includes(ref.kind)) e.notSupported("roleRef.kind", ref.kind ?? "", kinds);
    if (ref.apiGroup !== "rbac.authorization.k8s.io") e.notSupported("roleRef.apiGroup", ref.apiGroup ?? "", ["rbac.authorization.k8s.io"]);
    if (!ref.name) e.required("roleRef.name");
    else e.invalidEach("roleRef.name", ref.name, isValidPathSegmentName(String(ref.name)));
  }
  if (Array.isArray(b.subjects)) {
    b.subjects.forEach((s: Obj, i: number) => {
      const p = idx("subjects", i);
      const kinds = ["Group", "ServiceAccount", "User"];
      if (!isObj(s)) return;
      if (!kinds.includes(s.kind)) e.notSupported(child(p, "kind"), s.kind ?? "", kinds);
      if (!s.name) e.required(child(p, "name"));
      if (s.kind === "ServiceAccount" && !namespaced && !s.namespace) e.required(child(p, "namespace"));
    });
  }
}

function validateEndpointSlice(e: Errors, es: Obj) {
  const types = ["FQDN", "IPv4", "IPv6"];
  if (!es.addressType) e.required("addressType");
  else if (!types.includes(es.addressType)) e.notSupported("addressType", es.addressType, types);
  if (Array.isArray(es.endpoints)) {
    es.endpoints.forEach((ep: Obj, i: number) => {
      if (!Array.isArray(ep?.addresses) || ep.addresses.length === 0) e.required(child(idx("endpoints", i), "addresses"), "must contain at least 1 address");
    });
  }
}

const TAINT_EFFECTS = ["NoExecute", "NoSchedule", "PreferNoSchedule"];

function validateNode(e: Errors, node: Obj) {
  const taints = node.spec?.taints;
  if (!Array.isArray(taints)) return;
  const seen = new Set<string>();
  taints.forEach((t: Obj, i: number) => {
    const p = idx("spec.taints", i);
    if (!isObj(t)) return;
    if (!t.key) e.required(child(p, "key"));
    else e.invalidEach(child(p, "key"), t.key, isQualifiedName(String(t.key)));
    if (t.value) e.invalidEach(child(p, "value"), t.value, isValidLabelValue(String(t.value)));
    if (!t.effect) e.required(child(p, "effect"));
    else if (!TAINT_EFFECTS.includes(t.effect)) e.notSupported(child(p, "effect"), t.effect, TAINT_EFFECTS);
    const k = `${t.key}:${t.effect}`;
    if (seen.has(k)) e.duplicate(p, `${t.key}:${t.effect}`);
    seen.add(k);
  });
}

/** Create-time validation of one object. */
export function validateCreate(ri: ResourceInfo, obj: Obj): Errors {
  const e = new Errors();
  if (!isObj(obj)) {
    e.invalid("", obj, "must be an object");
    return e;
  }
  // Reviews and bindings are never stored and carry no name of their own.
  if (ri.virtual) return e;
  validateObjectMeta(e, obj.metadata, ri.namespaced, nameCheckFor(ri.kind));
  switch (ri.kind) {
    case "Pod":
      validatePodSpec(e, obj.spec, "spec");
      break;
    case "Deployment":
      validateDeployment(e, obj);
      break;
    case "ReplicaSet":
      validateReplicaSet(e, obj);
      break;
    case "DaemonSet":
      validateDaemonSet(e, obj);
      break;
    case "StatefulSet":
      validateStatefulSet(e, obj);
      break;
    case "Job":
      if (!isObj(obj.spec)) e.required("spec");
      else validateJobSpec(e, obj.spec, "spec", false);
      break;
    case "CronJob":
      validateCronJob(e, obj);
      break;
    case "Service":
      validateService(e, obj);
      break;
    case "ConfigMap":
      validateConfigMap(e, obj);
      break;
    case "Secret":
      validateSecret(e, obj);
      break;
    case "Role":
    case "ClusterRole":
      validateRoleRules(e, obj.rules, "rules");
      break;
    case "RoleBinding":
    case "ClusterRoleBinding":
      validateBinding(e, obj, ri.kind === "RoleBinding");
      break;
    case "EndpointSlice":
      validateEndpointSlice(e, obj);
      break;
    case "Node":
      validateNode(e, obj);
      break;
    case "PriorityClass":
      if (typeof obj.value !== "number") e.required("value");
      else if (obj.value > 1000000000 && !String(obj.metadata?.name ?? "").startsWith("system-")) {
        e.forbidden("value", "maximum allowed value of a user defined priority is 1000000000");
      }
      if (String(obj.metadata?.name ?? "").startsWith("system-") && !["system-node-critical", "system-cluster-critical"].includes(obj.metadata.name)) {
        e.forbidden("metadata.name", "priority class names with 'system-' prefix are reserved for system use only");
      }
      break;
    case "Lease":
      nonNegative(e, obj.spec?.leaseDurationSeconds, "spec.leaseDurationSeconds");
      nonNegative(e, obj.spec?.leaseTransitions, "spec.leaseTransitions");
      break;
  }
  return e;
}

const POD_UPDATE_FORBIDDEN =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/** The pod spec with every mutable field replaced by the old one, to compare the rest. */
function podSpecMutableMasked(spec: Obj, old: Obj, allowBinding: boolean): Obj {
  const s = structuredClone(spec);
  if (allowBinding && !old.nodeName && s.nodeName) s.nodeName = old.nodeName;
  for (const list of ["containers", "initContainers"] as const) {
    (s[list] ?? []).forEach((c: Obj, i: number) => {
      if (old[list]?.[i]) c.image = old[list][i].image;
    });
  }
  s.activeDeadlineSeconds = old.activeDeadlineSeconds;
  // Tolerations may only be added to.
  const oldTol: Obj[] = old.tolerations ?? [];
  const newTol: Obj[] = s.tolerations ?? [];
  if (oldTol.every((t) => newTol.some((n) => deepEqual({ ...n, tolerationSeconds: undefined }, { ...t, tolerationSeconds: undefined })))) s.tolerations = old.tolerations;
  if ((old.terminationGracePeriodSeconds ?? 0) < 0 && s.terminationGracePeriodSeconds === 1) s.terminationGracePeriodSeconds = old.terminationGracePeriodSeconds;
  // Scheduling gates may be removed; ephemeral containers change through their own subresource.
  if ((s.schedulingGates ?? []).every((g: Obj) => (old.schedulingGates ?? []).some((o: Obj) => o.name === g.name))) s.schedulingGates = old.schedulingGates;
  s.ephemeralContainers = old.ephemeralContainers;
  return s;
}

/**
 * Update-time validation: the object must be valid and immutable fields unchanged. `subresource` is the
 * subresource written through ("status", "binding", ...): those only change what their strategy allows,
 * so the spec immutability rules of the main resource don't apply. When it is unknown (undefined), a
 * pod's first assignment to a node is accepted, as the binding subresource does it.
 */
export function validateUpdate(ri: ResourceInfo, obj: Obj, old: Obj, subresource?: string): Errors {
  const e = validateCreate(ri, obj);
  if (!isObj(obj) || !isObj(old)) return e;
  validateObjectMetaUpdate(e, obj.metadata, old.metadata);
  if (subresource) {
    if (ri.kind === "Pod" && old.spec?.nodeName && obj.spec?.nodeName !== old.spec.nodeName) {
      e.invalid("spec.nodeName", obj.spec?.nodeName ?? "", "field is immutable");
    }
    return e;
  }
  const spec = obj.spec ?? {};
  const oldSpec = old.spec ?? {};
  const immutable = (path: string, a: unknown, b: unknown, shown: unknown = a) => {
    if (b !== undefined && !deepEqual(a, b)) e.invalid(path, shown, "field is immutable");
  };
  switch (ri.kind) {
    case "Pod":
      if (isObj(obj.spec) && isObj(old.spec) && !deepEqual(podSpecMutableMasked(obj.spec, old.spec, subresource === undefined), old.spec)) {
        e.forbidden("spec", POD_UPDATE_FORBIDDEN);
      }
      break;
    case "Deployment":
    case "ReplicaSet":
    case "DaemonSet":
      if (spec.selector && oldSpec.selector && !deepEqual(spec.selector, oldSpec.selector)) {
        e.list.push({ reason: "FieldValueInvalid", field: "spec.selector", message: `Invalid value: ${selectorString(spec.selector)}: field is immutable` });
      }
      break;
    case "StatefulSet": {
      const mutable = ["replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];
      const strip = (s: Obj) => Object.fromEntries(Object.entries(s).filter(([k]) => !mutable.includes(k)));
      if (!deepEqual(strip(spec), strip(oldSpec))) {
        e.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
      }
      break;
    }
    case "Job":
      if (oldSpec.selector) immutable("spec.selector", spec.selector, oldSpec.selector, selectorString(spec.selector ?? {}));
      if (oldSpec.completionMode) immutable("spec.completionMode", spec.completionMode, oldSpec.completionMode);
      if (oldSpec.template && !deepEqual(spec.template, oldSpec.template)) {
        // Upstream permits template changes only while the job is suspended (scheduling directives).
        if (!(oldSpec.suspend === true && spec.suspend === true)) e.invalid("spec.template", "core.PodTemplateSpec{...}", "field is immutable");
      }
      if (oldSpec.completions !== undefined && spec.completions !== oldSpec.completions && spec.completionMode !== "Indexed") {
        e.invalid("spec.completions", spec.completions, "field is immutable");
      }
      break;
    case "Service":
      // An update that leaves clusterIP empty keeps the allocated one (upstream's patchAllocatedValues).
      if (spec.clusterIP && oldSpec.clusterIP && oldSpec.clusterIP !== "None" && spec.clusterIP !== oldSpec.clusterIP && spec.type !== "ExternalName" && oldSpec.type !== "ExternalName") {
        e.invalid("spec.clusterIPs[0]", spec.clusterIPs ?? [spec.clusterIP ?? ""], "may not change once set");
      }
      break;
    case "ConfigMap":
    case "Secret":
      if (old.immutable === true) {
        if (obj.immutable !== true) e.forbidden("immutable", "field is immutable when `immutable` is set");
        if (!deepEqual(obj.data ?? {}, old.data ?? {})) e.forbidden("data", "field is immutable when `immutable` is set");
        if (ri.kind === "ConfigMap" && !deepEqual(obj.binaryData ?? {}, old.binaryData ?? {})) e.forbidden("binaryData", "field is immutable when `immutable` is set");
      }
      if (ri.kind === "Secret" && old.type && obj.type !== old.type) e.invalid("type", obj.type, "field is immutable");
      break;
    case "RoleBinding":
    case "ClusterRoleBinding":
      if (old.roleRef && !deepEqual(obj.roleRef, old.roleRef)) e.invalid("roleRef", goValue(obj.roleRef), "cannot change roleRef");
      break;
    case "PriorityClass":
      if (old.value !== undefined && obj.value !== old.value) e.forbidden("value", "may not be changed in an update.");
      break;
    case "EndpointSlice":
      if (old.addressType && obj.addressType !== old.addressType) e.invalid("addressType", obj.addressType, "field is immutable");
      break;
    case "Node": {
      const oldCIDRs = oldSpec.podCIDRs ?? [];
      if (oldCIDRs.length && !deepEqual(spec.podCIDRs ?? [], oldCIDRs)) e.forbidden("spec.podCIDRs", "node updates may not change podCIDR except from \"\" to valid");
      break;
    }
  }
  return e;
}
