// admissionregistration.k8s.io/v1 MutatingWebhookConfiguration and ValidatingWebhookConfiguration: upstream's v1
// defaults (SetDefaults_*Webhook) and validation (pkg/apis/admissionregistration/validation), with its messages.
import { Errors, child, idx } from "./errors.ts";
import { isDNS1035Label, isDNS1123Subdomain, isQualifiedName } from "./names.ts";
import { isObj, type Obj } from "./util.ts";
import { conditionCompileError } from "../webhooks/conditions.ts";

export const WEBHOOK_KINDS = new Set(["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]);

const OPERATIONS = ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"];
const SCOPES = ["*", "Cluster", "Namespaced"];
const FAILURE_POLICIES = ["Fail", "Ignore"];
const MATCH_POLICIES = ["Equivalent", "Exact"];
/** v1 accepts only webhooks without side effects (Some/Unknown came from v1beta1 and are kept on update). */
const NO_SIDE_EFFECTS = ["None", "NoneOnDryRun"];
const ALL_SIDE_EFFECTS = ["None", "NoneOnDryRun", "Some", "Unknown"];
const REINVOCATION = ["IfNeeded", "Never"];
const REVIEW_VERSIONS = ["v1", "v1beta1"];

const setIfAbsent = (o: Obj, k: string, v: unknown) => {
  if (o[k] === undefined || o[k] === null) o[k] = v;
};

/** Upstream's v1 defaults for every webhook of a configuration. */
export function defaultWebhookConfiguration(obj: Obj, mutating: boolean): void {
  if (!Array.isArray(obj.webhooks)) return;
  for (const h of obj.webhooks) {
    if (!isObj(h)) continue;
    setIfAbsent(h, "failurePolicy", "Fail");
    setIfAbsent(h, "matchPolicy", "Equivalent");
    setIfAbsent(h, "namespaceSelector", {});
    setIfAbsent(h, "objectSelector", {});
    setIfAbsent(h, "timeoutSeconds", 10);
    if (mutating) setIfAbsent(h, "reinvocationPolicy", "Never");
    for (const r of Array.isArray(h.rules) ? h.rules : []) if (isObj(r)) setIfAbsent(r, "scope", "*");
    const svc = isObj(h.clientConfig) ? h.clientConfig.service : undefined;
    if (isObj(svc)) setIfAbsent(svc, "port", 443);
  }
}

/** `old`: the stored configuration on update, whose webhooks may keep side-effect classes v1 no longer accepts. */
export function validateWebhookConfiguration(e: Errors, obj: Obj, mutating: boolean, old?: Obj): void {
  const hooks = obj.webhooks;
  if (hooks === undefined || hooks === null) return;
  if (!Array.isArray(hooks)) return e.invalid("webhooks", hooks, "must be a list");
  const oldHooks: Obj[] = Array.isArray(old?.webhooks) ? old!.webhooks : [];
  const keepsSideEffects = oldHooks.some((h) => isObj(h) && !NO_SIDE_EFFECTS.includes(h.sideEffects));
  const keepsVersions = oldHooks.some((h) => isObj(h) && !hasAcceptedVersion(h.admissionReviewVersions));
  const seen = new Set<string>();
  hooks.forEach((h: unknown, i: number) => {
    const p = idx("webhooks", i);
    if (!isObj(h)) return e.invalid(p, h, "must be an object");
    if (typeof h.name === "string" && h.name) {
      if (seen.has(h.name)) e.duplicate(child(p, "name"), h.name);
      seen.add(h.name);
    }
    validateWebhook(e, h, p, { mutating, sideEffects: keepsSideEffects ? ALL_SIDE_EFFECTS : NO_SIDE_EFFECTS, recognizedVersion: !keepsVersions });
  });
}

function hasAcceptedVersion(v: unknown): boolean {
  return Array.isArray(v) && v.some((x) => REVIEW_VERSIONS.includes(x));
}

function validateWebhook(e: Errors, h: Obj, p: string, o: { mutating: boolean; sideEffects: string[]; recognizedVersion: boolean }): void {
  fullyQualifiedName(e, child(p, "name"), h.name);
  const rules = Array.isArray(h.rules) ? h.rules : [];
  rules.forEach((r: unknown, i: number) => validateRule(e, isObj(r) ? r : {}, idx(child(p, "rules"), i)));
  if (h.failurePolicy !== undefined && !FAILURE_POLICIES.includes(h.failurePolicy)) e.notSupported(child(p, "failurePolicy"), h.failurePolicy, FAILURE_POLICIES);
  if (h.matchPolicy !== undefined && !MATCH_POLICIES.includes(h.matchPolicy)) e.notSupported(child(p, "matchPolicy"), h.matchPolicy, MATCH_POLICIES);
  if (h.sideEffects === undefined || h.sideEffects === null) e.required(child(p, "sideEffects"), `must specify one of ${o.sideEffects.join(", ")}`);
  else if (!o.sideEffects.includes(h.sideEffects)) e.notSupported(child(p, "sideEffects"), h.sideEffects, o.sideEffects);
  if (typeof h.timeoutSeconds === "number" && (h.timeoutSeconds > 30 || h.timeoutSeconds < 1)) {
    e.invalid(child(p, "timeoutSeconds"), h.timeoutSeconds, "the timeout value must be between 1 and 30 seconds");
  }
  if (o.mutating && h.reinvocationPolicy !== undefined && !REINVOCATION.includes(h.reinvocationPolicy)) {
    e.notSupported(child(p, "reinvocationPolicy"), h.reinvocationPolicy, REINVOCATION);
  }
  for (const s of ["namespaceSelector", "objectSelector"]) validateSelector(e, h[s], child(p, s));
  matchConditions(e, h.matchConditions, child(p, "matchConditions"));
  reviewVersions(e, h.admissionReviewVersions, child(p, "admissionReviewVersions"), o.recognizedVersion);
  clientConfig(e, isObj(h.clientConfig) ? h.clientConfig : {}, child(p, "clientConfig"));
}

function fullyQualifiedName(e: Errors, path: string, name: unknown): void {
  if (typeof name !== "string" || name === "") return e.required(path, "");
  const errs = isDNS1123Subdomain(name);
  if (errs.length) return e.invalidEach(path, name, errs);
  if (name.split(".").length < 3) e.invalid(path, name, "should be a domain with at least three segments separated by dots");
}

const hasWildcard = (l: unknown[]) => l.includes("*");

function validateRule(e: Errors, r: Obj, p: string): void {
  const ops: unknown[] = Array.isArray(r.operations) ? r.operations : [];
  if (!ops.length) e.required(child(p, "operations"), "");
  if (ops.length > 1 && hasWildcard(ops)) e.invalid(child(p, "operations"), ops, "if '*' is present, must not specify other operations");
  ops.forEach((op, i) => {
    if (!OPERATIONS.includes(op as string)) e.notSupported(idx(child(p, "operations"), i), op, OPERATIONS);
  });
  const groups: unknown[] = Array.isArray(r.apiGroups) ? r.apiGroups : [];
  if (!groups.length) e.required(child(p, "apiGroups"), "");
  if (groups.length > 1 && hasWildcard(groups)) e.invalid(child(p, "apiGroups"), groups, "if '*' is present, must not specify other API groups");
  const versions: unknown[] = Array.isArray(r.apiVersions) ? r.apiVersions : [];
  if (!versions.length) e.required(child(p, "apiVersions"), "");
  if (versions.length > 1 && hasWildcard(versions)) e.invalid(child(p, "apiVersions"), versions, "if '*' is present, must not specify other API versions");
  versions.forEach((v, i) => {
    if (v === "") e.required(idx(child(p, "apiVersions"), i), "");
  });
  validateResources(e, Array.isArray(r.resources) ? r.resources : [], child(p, "resources"));
  if (r.scope !== undefined && !SCOPES.includes(r.scope)) e.notSupported(child(p, "scope"), r.scope, SCOPES);
}

function validateResources(e: Errors, resources: string[], p: string): void {
  if (!resources.length) e.required(p, "");
  const wildcardSubs = new Set<string>(); // "x/*"
  const wildcardRes = new Set<string>(); // "*/x"
  let double = false;
  let single = false;
  let plain = false;
  resources.forEach((rs, i) => {
    if (rs === "") return e.required(idx(p, i), "");
    if (rs === "*/*") double = true;
    if (rs === "*") single = true;
    const slash = rs.indexOf("/");
    if (slash < 0) {
      plain = rs !== "*";
      return;
    }
    const res = rs.slice(0, slash);
    const sub = rs.slice(slash + 1);
    if (wildcardSubs.has(res)) e.invalid(idx(p, i), rs, `if '${res}/*' is present, must not specify ${rs}`);
    if (wildcardRes.has(sub)) e.invalid(idx(p, i), rs, `if '*/${sub}' is present, must not specify ${rs}`);
    if (sub === "*") wildcardSubs.add(res);
    if (res === "*") wildcardRes.add(sub);
  });
  if (resources.length > 1 && double) e.invalid(p, resources, "if '*/*' is present, must not specify other resources");
  if (single && plain) e.invalid(p, resources, "if '*' is present, must not specify other resources without subresources");
}

function validateSelector(e: Errors, sel: unknown, p: string): void {
  if (sel === undefined || sel === null || !isObj(sel)) return;
  const exprs: unknown[] = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
  exprs.forEach((x, i) => {
    const ep = idx(child(p, "matchExpressions"), i);
    if (!isObj(x)) return;
    const op = x.operator;
    const values: unknown[] = Array.isArray(x.values) ? x.values : [];
    if (op === "In" || op === "NotIn") {
      if (!values.length) e.required(child(ep, "values"), "must be specified when `operator` is 'In' or 'NotIn'");
    } else if (op === "Exists" || op === "DoesNotExist") {
      if (values.length) e.forbidden(child(ep, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    } else e.invalid(child(ep, "operator"), op, "not a valid selector operator");
  });
}

/** Upstream's validateMatchConditions: at most 64, names qualified and unique, expressions that compile. */
function matchConditions(e: Errors, list: unknown, p: string): void {
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) return e.invalid(p, list, "must be a list");
  if (list.length > 64) e.list.push({ reason: "FieldValueTooMany", field: p, message: `Too many: ${list.length}: must have at most 64 items` });
  const names = new Set<string>();
  list.forEach((c: unknown, i: number) => {
    const cp = idx(p, i);
    const m: Obj = isObj(c) ? c : {};
    if (typeof m.name !== "string" || !m.name) e.required(child(cp, "name"), "");
    else {
      e.invalidEach(child(cp, "name"), m.name, isQualifiedName(m.name));
      if (names.has(m.name)) e.duplicate(child(cp, "name"), m.name);
      names.add(m.name);
    }
    if (typeof m.expression !== "string" || !m.expression.trim()) return e.required(child(cp, "expression"), "");
    const err = conditionCompileError(m.expression);
    if (err) e.invalid(child(cp, "expression"), m.expression, `compilation failed: ${err}`);
  });
}

function reviewVersions(e: Errors, versions: unknown, p: string, requireRecognized: boolean): void {
  const list: unknown[] = Array.isArray(versions) ? versions : [];
  if (!list.length) return e.required(p, `must specify one of ${REVIEW_VERSIONS.join(", ")}`);
  const seen = new Set<unknown>();
  list.forEach((v, i) => {
    if (seen.has(v)) return e.invalid(idx(p, i), v, "duplicate version");
    seen.add(v);
    e.invalidEach(idx(p, i), v, isDNS1035Label(String(v)));
  });
  if (requireRecognized && !hasAcceptedVersion(list)) e.invalid(p, list, `must include at least one of ${REVIEW_VERSIONS.join(", ")}`);
}

const FORM = "; desired format: https://host[/path]";

function clientConfig(e: Errors, cc: Obj, p: string): void {
  const hasURL = cc.url !== undefined && cc.url !== null;
  const hasService = cc.service !== undefined && cc.service !== null;
  if (hasURL === hasService) return e.required(p, "exactly one of url or service is required");
  if (hasURL) return webhookURL(e, String(cc.url), child(p, "url"));
  const s: Obj = isObj(cc.service) ? cc.service : {};
  const sp = child(p, "service");
  if (!s.name) e.required(child(sp, "name"), "service name is required");
  if (!s.namespace) e.required(child(sp, "namespace"), "service namespace is required");
  const port = s.port ?? 443;
  if (!Number.isInteger(port) || port < 1 || port > 65535) e.invalid(child(sp, "port"), port, "port is not valid: must be between 1 and 65535, inclusive");
  const path = s.path;
  if (typeof path !== "string" || path === "" || path === "/") return;
  if (path === "//") return e.invalid(child(sp, "path"), path, "segment[0] may not be empty");
  if (!path.startsWith("/")) e.invalid(child(sp, "path"), path, "must start with a '/'");
}

function webhookURL(e: Errors, raw: string, p: string): void {
  let u: URL;
  try {
    u = new URL(raw);
  } catch (err) {
    return e.required(p, `url must be a valid URL: parse ${JSON.stringify(raw)}: invalid URL${FORM}`);
  }
  if (u.protocol !== "https:") e.invalid(p, u.protocol.replace(/:$/, ""), `'https' is the only allowed URL scheme${FORM}`);
  if (!u.host) e.invalid(p, u.host, `host must be specified${FORM}`);
  if (u.username || u.password) e.invalid(p, u.password ? `${u.username}:***` : u.username, "user information is not permitted in the URL");
  if (u.hash) e.invalid(p, u.hash.slice(1), "fragments are not permitted in the URL");
  if (u.search) e.invalid(p, u.search.slice(1), "query parameters are not permitted in the URL");
}
