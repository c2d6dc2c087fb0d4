// Defaulting and validation of FlowSchemas and PriorityLevelConfigurations with upstream's rules and messages
// (pkg/apis/flowcontrol/v1 defaults.go, pkg/apis/flowcontrol/validation/validation.go).
import { Errors, child, idx } from "../validation/errors.ts";
import { isDNS1123Label, isDNS1123Subdomain } from "../validation/names.ts";
import { deepEqual, isObj, type Obj } from "../validation/util.ts";
import { MANDATORY_FLOW_SCHEMAS, MANDATORY_PRIORITY_LEVELS } from "./bootstrap.ts";

const setDefault = (o: Obj, k: string, v: unknown) => {
  if (o[k] === undefined) o[k] = v;
};

export function defaultFlowSchema(fs: Obj): void {
  if (!isObj(fs.spec)) return;
  if (!fs.spec.matchingPrecedence) fs.spec.matchingPrecedence = 1000;
}

export function defaultPriorityLevelConfiguration(pl: Obj): void {
  const spec = pl.spec;
  if (!isObj(spec)) return;
  if (isObj(spec.exempt)) {
    setDefault(spec.exempt, "nominalConcurrencyShares", 0);
    setDefault(spec.exempt, "lendablePercent", 0);
  }
  const limited = spec.limited;
  if (isObj(limited)) {
    setDefault(limited, "nominalConcurrencyShares", 30);
    setDefault(limited, "lendablePercent", 0);
    const q = isObj(limited.limitResponse) ? limited.limitResponse.queuing : undefined;
    if (isObj(q)) {
      if (!q.queues) q.queues = 64;
      if (!q.handSize) q.handSize = 8;
      if (!q.queueLengthLimit) q.queueLengthLimit = 50;
    }
  }
}

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const SUPPORTED_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "proxy", "update", "watch"];
const NS_ERR_INTRO = "each member of this list must be '*' or a DNS-1123 label; ";

/** Verbs: not empty; "*" alone; otherwise only the verbs requests have. */
function validateVerbs(e: Errors, v: unknown, path: string): void {
  const verbs = arr(v);
  if (!verbs.length) e.required(path, "verbs must contain at least one value");
  else if (verbs.includes("*")) {
    if (verbs.length > 1) e.invalid(path, verbs, "if '*' is present, must not specify other verbs");
  } else if (verbs.some((x) => typeof x !== "string" || !SUPPORTED_VERBS.includes(x))) e.notSupported(path, verbs, SUPPORTED_VERBS);
}

/** A list that must not be empty and, when it holds "*", nothing else. */
function wildcardList(e: Errors, v: unknown, path: string, required: string, what: string): void {
  const list = arr(v);
  if (!list.length) e.required(path, required);
  else if (list.includes("*") && list.length > 1) e.invalid(path, list, `if '*' is present, must not specify other ${what}`);
}

function validateSubject(e: Errors, s: unknown, path: string): void {
  if (!isObj(s)) return e.required(path, "");
  const member = (field: string, kindName: string) => {
    const m = s[field];
    const at = child(path, field);
    if (!isObj(m)) return e.required(at, `${field} is required when subject kind is '${kindName}'`);
    if (!m.name) e.required(child(at, "name"), "");
    else if (field === "serviceAccount" && m.name !== "*" && typeof m.name === "string") e.invalidEach(child(at, "name"), m.name, isDNS1123Subdomain(m.name));
    if (field !== "serviceAccount") return;
    if (!m.namespace) e.required(child(at, "namespace"), "must specify namespace for service account");
    else if (typeof m.namespace === "string") e.invalidEach(child(at, "namespace"), m.namespace, isDNS1123Label(m.namespace));
  };
  switch (s.kind) {
    case "ServiceAccount":
      member("serviceAccount", "ServiceAccount");
      break;
    case "User":
      member("user", "User");
      break;
    case "Group":
      member("group", "Group");
      break;
    default:
      e.notSupported(child(path, "kind"), s.kind ?? "", ["Group", "ServiceAccount", "User"]);
      return;
  }
  for (const [field, kindName] of [["user", "User"], ["group", "Group"], ["serviceAccount", "ServiceAccount"]] as const) {
    if (s.kind !== kindName && s[field] != null) e.forbidden(child(path, field), `${field} is forbidden when subject kind is not '${kindName}'`);
  }
}

function validateResourceRule(e: Errors, r: unknown, path: string): void {
  if (!isObj(r)) return e.required(path, "");
  validateVerbs(e, r.verbs, child(path, "verbs"));
  wildcardList(e, r.apiGroups, child(path, "apiGroups"), "resource rules must supply at least one api group", "api groups");
  wildcardList(e, r.resources, child(path, "resources"), "resource rules must supply at least one resource", "resources");
  const ns = arr(r.namespaces);
  if (!ns.length) {
    if (r.clusterScope !== true) e.required(child(path, "namespaces"), "resource rules that are not cluster scoped must supply at least one namespace");
  } else if (ns.includes("*")) {
    if (ns.length > 1) e.invalid(child(path, "namespaces"), ns, "if '*' is present, must not specify other namespaces");
  } else {
    ns.forEach((n, i) => {
      const msgs = typeof n === "string" ? isDNS1123Label(n) : ["must be a string"];
      for (const m of msgs) e.invalid(idx(child(path, "namespaces"), i), n, NS_ERR_INTRO + m);
    });
  }
}

/** Upstream's ValidateNonResourceURLPath. */
function nonResourceURLError(u: unknown): string | undefined {
  if (typeof u !== "string" || !u) return "must not be empty";
  if (u === "/") return undefined;
  if (!u.startsWith("/")) return "must start with slash";
  if (u.includes(" ")) return "must not contain white-space";
  if (u.includes("//")) return "must not contain double slash";
  const stars = u.split("*").length - 1;
  if (stars > 1 || (stars === 1 && !u.endsWith("/*"))) return "wildcard can only do suffix matching";
  return undefined;
}

function validateNonResourceRule(e: Errors, r: unknown, path: string): void {
  if (!isObj(r)) return e.required(path, "");
  validateVerbs(e, r.verbs, child(path, "verbs"));
  const urls = arr(r.nonResourceURLs);
  const at = child(path, "nonResourceURLs");
  if (!urls.length) e.required(at, "nonResourceURLs must contain at least one value");
  else if (urls.includes("*")) {
    if (urls.length > 1) e.invalid(at, urls, "if '*' is present, must not specify other non-resource URLs");
  } else {
    urls.forEach((u, i) => {
      const msg = nonResourceURLError(u);
      if (msg) e.invalid(idx(at, i), u, msg);
    });
  }
}

function validateConditions(e: Errors, status: unknown): void {
  const seen = new Set<unknown>();
  arr(isObj(status) ? status.conditions : undefined).forEach((c, i) => {
    const at = idx("status.conditions", i);
    const type = isObj(c) ? c.type : undefined;
    if (seen.has(type)) e.duplicate(child(at, "type"), type);
    seen.add(type);
    if (!type) e.required(child(at, "type"), "must not be empty");
  });
}

/** Mandatory objects keep upstream's spec (the exempt level's `exempt` settings excepted). */
function mandatorySpec(e: Errors, spec: Obj, name: unknown, mandatory: { metadata?: { name?: string }; spec?: unknown }[], ignore?: string): void {
  const want = mandatory.find((o) => o.metadata?.name === name);
  if (!want) return;
  const strip = (v: unknown) => (isObj(v) && ignore ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== ignore)) : v);
  if (!deepEqual(strip(spec), strip(want.spec))) e.invalid("spec", spec, `spec of '${String(name)}' must equal the fixed value`);
}

export function validateFlowSchema(e: Errors, fs: Obj): void {
  const spec = fs.spec;
  if (!isObj(spec)) return e.required("spec", "");
  const mp = spec.matchingPrecedence;
  if (typeof mp === "number") {
    if (mp <= 0) e.invalid("spec.matchingPrecedence", mp, "must be a positive value");
    else if (mp > 10000) e.invalid("spec.matchingPrecedence", mp, "must not be greater than 10000");
    if (mp === 1 && fs.metadata?.name !== "exempt") e.invalid("spec.matchingPrecedence", mp, "only the schema named 'exempt' may have matchingPrecedence 1");
  }
  if (spec.distinguisherMethod != null) {
    const t = isObj(spec.distinguisherMethod) ? spec.distinguisherMethod.type : undefined;
    if (t !== "ByUser" && t !== "ByNamespace") e.notSupported("spec.distinguisherMethod.type", t ?? "", ["ByNamespace", "ByUser"]);
  }
  const plName = isObj(spec.priorityLevelConfiguration) ? spec.priorityLevelConfiguration.name : undefined;
  if (!plName) e.required("spec.priorityLevelConfiguration.name", "must reference a priority level");
  else if (typeof plName === "string") e.invalidEach("spec.priorityLevelConfiguration.name", plName, isDNS1123Subdomain(plName));
  arr(spec.rules).forEach((rule, i) => {
    const path = idx("spec.rules", i);
    if (!isObj(rule)) return e.required(path, "");
    const subjects = arr(rule.subjects);
    if (!subjects.length) e.required(child(path, "subjects"), "subjects must contain at least one value");
    subjects.forEach((s, j) => validateSubject(e, s, idx(child(path, "subjects"), j)));
    const rr = arr(rule.resourceRules);
    const nr = arr(rule.nonResourceRules);
    if (!rr.length && !nr.length) e.required(path, "at least one of resourceRules and nonResourceRules has to be non-empty");
    rr.forEach((r, j) => validateResourceRule(e, r, idx(child(path, "resourceRules"), j)));
    nr.forEach((r, j) => validateNonResourceRule(e, r, idx(child(path, "nonResourceRules"), j)));
  });
  mandatorySpec(e, spec, fs.metadata?.name, MANDATORY_FLOW_SCHEMAS);
  validateConditions(e, fs.status);
}

const MAX_QUEUES = 10_000_000;
const MAX_ENTROPY_BITS = 60;

function validateQueuing(e: Errors, q: Obj, path: string): void {
  const positive = (field: string) => {
    const v = q[field];
    if (typeof v === "number" && v <= 0) e.invalid(child(path, field), v, "must be positive");
  };
  positive("queueLengthLimit");
  positive("queues");
  positive("handSize");
  const queues = q.queues;
  const hand = q.handSize;
  if (typeof queues === "number" && queues > MAX_QUEUES) e.invalid(child(path, "queues"), queues, `must not be greater than ${MAX_QUEUES}`);
  if (typeof queues === "number" && typeof hand === "number" && hand > 0) {
    if (hand > queues) e.invalid(child(path, "handSize"), hand, `should not be greater than queues (${queues})`);
    else if (Math.ceil(hand * Math.log2(queues)) > MAX_ENTROPY_BITS) {
      e.invalid(child(path, "handSize"), hand, `required entropy bits of deckSize ${queues} and handSize ${hand} should not be greater than ${MAX_ENTROPY_BITS}`);
    }
  }
}

export function validatePriorityLevelConfiguration(e: Errors, pl: Obj): void {
  const spec = pl.spec;
  if (!isObj(spec)) return e.required("spec", "");
  validateLevelSpec(e, spec, pl.metadata?.name);
  mandatorySpec(e, spec, pl.metadata?.name, MANDATORY_PRIORITY_LEVELS, pl.metadata?.name === "exempt" ? "exempt" : undefined);
  validateConditions(e, pl.status);
}

function validateLevelSpec(e: Errors, spec: Obj, name: unknown): void {
  const type = spec.type;
  if (type !== "Exempt" && type !== "Limited") {
    e.notSupported("spec.type", type ?? "", ["Exempt", "Limited"]);
    return;
  }
  if ((name === "exempt") !== (type === "Exempt")) e.invalid("spec.type", type, "type must be 'Exempt' if and only if name is 'exempt'");
  if (type === "Exempt") {
    if (spec.limited != null) e.forbidden("spec.limited", "must be nil if the type is not Limited");
    if (isObj(spec.exempt)) {
      const ex = spec.exempt;
      if (typeof ex.nominalConcurrencyShares === "number" && ex.nominalConcurrencyShares < 0) e.invalid("spec.exempt.nominalConcurrencyShares", ex.nominalConcurrencyShares, "must be a non-negative integer");
      if (typeof ex.lendablePercent === "number" && (ex.lendablePercent < 0 || ex.lendablePercent > 100)) e.invalid("spec.exempt.lendablePercent", ex.lendablePercent, "must be between 0 and 100, inclusive");
    }
    return;
  }
  if (spec.exempt != null) e.forbidden("spec.exempt", "must be nil if the type is Limited");
  const l = spec.limited;
  if (!isObj(l)) return e.required("spec.limited", "must not be empty when type is Limited");
  if (typeof l.nominalConcurrencyShares === "number" && l.nominalConcurrencyShares < 0) e.invalid("spec.limited.nominalConcurrencyShares", l.nominalConcurrencyShares, "must be a non-negative integer");
  if (typeof l.lendablePercent === "number" && (l.lendablePercent < 0 || l.lendablePercent > 100)) e.invalid("spec.limited.lendablePercent", l.lendablePercent, "must be between 0 and 100, inclusive");
  if (typeof l.borrowingLimitPercent === "number" && l.borrowingLimitPercent < 0) e.invalid("spec.limited.borrowingLimitPercent", l.borrowingLimitPercent, "if specified, must be a non-negative integer");
  const lr = l.limitResponse;
  if (!isObj(lr)) return e.required("spec.limited.limitResponse.type", "");
  if (lr.type === "Queue") {
    if (!isObj(lr.queuing)) e.required("spec.limited.limitResponse.queuing", "must not be empty if limited.limitResponse.type is Limited");
    else validateQueuing(e, lr.queuing, "spec.limited.limitResponse.queuing");
  } else if (lr.type === "Reject") {
    if (lr.queuing != null) e.forbidden("spec.limited.limitResponse.queuing", "must be nil if limited.limitResponse.type is not Limited");
  } else e.notSupported("spec.limited.limitResponse.type", lr.type ?? "", ["Queue", "Reject"]);
}
