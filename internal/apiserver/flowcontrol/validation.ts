// Defaulting and validation of FlowSchemas and PriorityLevelConfigurations with upstream's rules and messages
// (pkg/apis/flowcontrol/v1 defaults.go, pkg/apis/flowcontrol/validation/validation.go).
import { Errors, child, idx } from "../validation/errors.ts";
import { isDNS1123Label, isValidPathSegmentName } from "../validation/names.ts";
import { isObj, type Obj } from "../validation/util.ts";

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
    if (!isObj(m)) return e.required(child(path, field), `${field} is required when subject kind is '${kindName}'`);
    if (!m.name) e.required(child(child(path, field), "name"), "");
    if (field === "serviceAccount" && !m.namespace) e.required(child(child(path, field), "namespace"), "");
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
  for (const [field, kindName] of [["serviceAccount", "ServiceAccount"], ["user", "User"], ["group", "Group"]] as const) {
    if (s.kind !== kindName && s[field] != null) e.forbidden(child(path, field), `${field} is forbidden when subject kind is not '${kindName}'`);
  }
}

function validateResourceRule(e: Errors, r: unknown, path: string): void {
  if (!isObj(r)) return e.required(path, "");
  wildcardList(e, r.verbs, child(path, "verbs"), "verbs must contain at least one value", "verbs");
  wildcardList(e, r.apiGroups, child(path, "apiGroups"), "resource rules must supply at least one api group", "api groups");
  wildcardList(e, r.resources, child(path, "resources"), "resource rules must supply at least one resource", "resources");
  const ns = arr(r.namespaces);
  if (!ns.length) {
    if (r.clusterScope !== true) e.required(child(path, "namespaces"), "resource rules that are not cluster scoped must supply at least one namespace");
  } else if (ns.includes("*")) {
    if (ns.length > 1) e.invalid(child(path, "namespaces"), ns, "if '*' is present, must not specify other namespaces");
  } else {
    ns.forEach((n, i) => e.invalidEach(idx(child(path, "namespaces"), i), n, typeof n === "string" ? isDNS1123Label(n) : ["must be a string"]));
  }
}

function validateNonResourceRule(e: Errors, r: unknown, path: string): void {
  if (!isObj(r)) return e.required(path, "");
  wildcardList(e, r.verbs, child(path, "verbs"), "verbs must contain at least one value", "verbs");
  const urls = arr(r.nonResourceURLs);
  wildcardList(e, urls, child(path, "nonResourceURLs"), "nonResourceURLs must contain at least one value", "non-resource urls");
  urls.forEach((u, i) => {
    if (u === "*") return;
    const p = idx(child(path, "nonResourceURLs"), i);
    if (typeof u !== "string" || !u.startsWith("/")) e.invalid(p, u, "must start with slash");
    else if (u.slice(0, -1).includes("*")) e.invalid(p, u, "'*' can only be the suffix of the url");
  });
}

export function validateFlowSchema(e: Errors, fs: Obj): void {
  const spec = fs.spec;
  if (!isObj(spec)) return e.required("spec", "");
  const mp = spec.matchingPrecedence;
  if (typeof mp === "number") {
    if (mp <= 0) e.invalid("spec.matchingPrecedence", mp, "must be a positive value");
    else if (mp > 10000) e.invalid("spec.matchingPrecedence", mp, "must not be greater than 10000");
  }
  if (spec.distinguisherMethod != null) {
    const t = isObj(spec.distinguisherMethod) ? spec.distinguisherMethod.type : undefined;
    if (t !== "ByUser" && t !== "ByNamespace") e.notSupported("spec.distinguisherMethod.type", t ?? "", ["ByNamespace", "ByUser"]);
  }
  const plName = isObj(spec.priorityLevelConfiguration) ? spec.priorityLevelConfiguration.name : undefined;
  if (!plName) e.required("spec.priorityLevelConfiguration.name", "must reference a priority level");
  else if (typeof plName === "string") e.invalidEach("spec.priorityLevelConfiguration.name", plName, isValidPathSegmentName(plName));
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
}

const MAX_QUEUES = 512;
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
  if (typeof queues === "number" && typeof hand === "number" && queues > 0 && hand > 0) {
    if (hand > queues) e.invalid(child(path, "handSize"), hand, `should not be greater than queues (${queues})`);
    else if (Math.ceil(hand * Math.log2(queues)) > MAX_ENTROPY_BITS) {
      e.invalid(child(path, "handSize"), hand, `required entropy bits of deckSize ${queues} and handSize ${hand} should not be greater than ${MAX_ENTROPY_BITS}`);
    }
  }
}

export function validatePriorityLevelConfiguration(e: Errors, pl: Obj): void {
  const spec = pl.spec;
  if (!isObj(spec)) return e.required("spec", "");
  const type = spec.type;
  if (type !== "Exempt" && type !== "Limited") {
    e.notSupported("spec.type", type ?? "", ["Exempt", "Limited"]);
    return;
  }
  if ((pl.metadata?.name === "exempt") !== (type === "Exempt")) e.invalid("spec.type", type, "type must be 'Exempt' if and only if name is 'exempt'");
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
