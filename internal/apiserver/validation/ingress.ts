// networking.k8s.io/v1 Ingress and IngressClass validation with upstream's messages
// (pkg/apis/networking/validation: ValidateIngressCreate, ValidateIngressClass and their update forms).
import { isIP } from "node:net";
import { Errors, idx } from "./errors.ts";
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isValidPathSegmentName, isValidPortName, isValidPortNum } from "./names.ts";
import { isObj, type Obj } from "./util.ts";

const ANNOTATION_INGRESS_CLASS = "kubernetes.io/ingress.class";
const PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"];
const INVALID_PATH_SEQUENCES = ["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES = ["/..", "/."];
const WILDCARD_DNS1123 = "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const HTTP_PATH = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";

/** k8s.io/apimachinery IsWildcardDNS1123Subdomain. */
export function isWildcardDNS1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push("must be no more than 253 characters");
  if (!new RegExp(`^${WILDCARD_DNS1123}$`).test(v)) {
    errs.push(
      "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '" +
        WILDCARD_DNS1123 +
        "')",
    );
  }
  return errs;
}

/** Hosts of rules and TLS entries: a DNS subdomain, or a wildcard one when it holds a '*'. */
function hostErrors(host: string): string[] {
  return host.includes("*") ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
}

function validateTypedRef(e: Errors, ref: Obj, path: string) {
  if (ref.apiGroup != null) e.invalidEach(`${path}.apiGroup`, ref.apiGroup, isDNS1123Subdomain(String(ref.apiGroup)));
  if (!ref.kind) e.required(`${path}.kind`, "kind is required");
  else e.invalidEach(`${path}.kind`, ref.kind, isValidPathSegmentName(String(ref.kind)));
  if (!ref.name) e.required(`${path}.name`, "name is required");
  else e.invalidEach(`${path}.name`, ref.name, isValidPathSegmentName(String(ref.name)));
}

function validateBackend(e: Errors, b: unknown, path: string) {
  if (!isObj(b)) {
    e.invalid(path, "", "resource or service backend is required");
    return;
  }
  const hasResource = b.resource != null;
  const hasService = b.service != null;
  if (hasResource && hasService) {
    e.invalid(path, "", "cannot set both resource and service backends");
    return;
  }
  if (hasResource) {
    validateTypedRef(e, isObj(b.resource) ? b.resource : {}, `${path}.resource`);
    return;
  }
  if (!hasService) {
    e.invalid(path, "", "resource or service backend is required");
    return;
  }
  const svc: Obj = isObj(b.service) ? b.service : {};
  if (!svc.name) e.required(`${path}.service.name`);
  else e.invalidEach(`${path}.service.name`, svc.name, isDNS1035Label(String(svc.name)));
  const port: Obj = isObj(svc.port) ? svc.port : {};
  const hasName = typeof port.name === "string" && port.name.length > 0;
  const hasNumber = port.number != null && port.number !== 0;
  if (hasName && hasNumber) e.invalid(path, "", "cannot set both port name & port number");
  else if (hasName) e.invalidEach(`${path}.service.port.name`, port.name, isValidPortName(port.name));
  else if (hasNumber) e.invalidEach(`${path}.service.port.number`, port.number, isValidPortNum(Number(port.number)));
  else e.required(path, "port name or number is required");
}

function validatePath(e: Errors, p: Obj, path: string) {
  if (p.pathType == null) {
    e.required(`${path}.pathType`, "pathType must be specified");
    return;
  }
  const value = typeof p.path === "string" ? p.path : "";
  switch (p.pathType) {
    case "Exact":
    case "Prefix":
      if (!value.startsWith("/")) e.invalid(`${path}.path`, value, "must be an absolute path");
      for (const seq of INVALID_PATH_SEQUENCES) if (value.includes(seq)) e.invalid(`${path}.path`, value, `must not contain '${seq}'`);
      for (const suf of INVALID_PATH_SUFFIXES) if (value.endsWith(suf)) e.invalid(`${path}.path`, value, `cannot end with '${suf}'`);
      break;
    case "ImplementationSpecific":
      if (value && !value.startsWith("/")) e.invalid(`${path}.path`, value, "must be an absolute path");
      break;
    default:
      e.notSupported(`${path}.pathType`, p.pathType, PATH_TYPES);
  }
  validateBackend(e, p.backend, `${path}.backend`);
}

function validateRules(e: Errors, rules: unknown[], path: string) {
  rules.forEach((raw, i) => {
    const rule: Obj = isObj(raw) ? raw : {};
    const rp = idx(path, i);
    if (typeof rule.host === "string" && rule.host) {
      if (isIP(rule.host)) e.invalid(`${rp}.host`, rule.host, "must be a DNS name, not an IP address");
      e.invalidEach(`${rp}.host`, rule.host, hostErrors(rule.host));
    }
    if (isObj(rule.http)) {
      const paths = Array.isArray(rule.http.paths) ? rule.http.paths : [];
      if (!paths.length) e.required(`${rp}.http.paths`);
      paths.forEach((p: unknown, j: number) => validatePath(e, isObj(p) ? p : {}, idx(`${rp}.http.paths`, j)));
    }
  });
}

/** ValidateIngressCreate (also run on update: an existing valid object stays valid). */
export function validateIngress(e: Errors, ing: Obj) {
  const spec: Obj = isObj(ing.spec) ? ing.spec : {};
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  if (!rules.length && spec.defaultBackend == null) e.invalid("spec", spec.rules ?? null, "either `defaultBackend` or `rules` must be specified");
  if (spec.defaultBackend != null) validateBackend(e, spec.defaultBackend, "spec.defaultBackend");
  if (rules.length) validateRules(e, rules, "spec.rules");
  (Array.isArray(spec.tls) ? spec.tls : []).forEach((raw: unknown, i: number) => {
    const tls: Obj = isObj(raw) ? raw : {};
    (Array.isArray(tls.hosts) ? tls.hosts : []).forEach((h: unknown, j: number) => {
      e.invalidEach(idx(`spec.tls[${i}].hosts`, j), h, hostErrors(String(h)));
    });
    if (typeof tls.secretName === "string" && tls.secretName) {
      e.invalidEach(`spec.tls[${i}].secretName`, tls.secretName, isDNS1123Subdomain(tls.secretName));
    }
  });
  if (typeof spec.ingressClassName === "string") {
    e.invalidEach("spec.ingressClassName", spec.ingressClassName, isDNS1123Subdomain(spec.ingressClassName));
  }
  const annotation = ing.metadata?.annotations?.[ANNOTATION_INGRESS_CLASS];
  if (typeof annotation === "string" && typeof spec.ingressClassName === "string" && annotation !== spec.ingressClassName) {
    e.invalid(`annotations.${ANNOTATION_INGRESS_CLASS}`, annotation, "must match `ingressClassName` when both are specified");
  }
  (Array.isArray(ing.status?.loadBalancer?.ingress) ? ing.status.loadBalancer.ingress : []).forEach((raw: unknown, i: number) => {
    const lb: Obj = isObj(raw) ? raw : {};
    const p = `status.loadBalancer.ingress[${i}]`;
    if (typeof lb.ip === "string" && lb.ip && !isIP(lb.ip)) e.invalid(`${p}.ip`, lb.ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
    if (typeof lb.hostname === "string" && lb.hostname) {
      e.invalidEach(`${p}.hostname`, lb.hostname, isDNS1123Subdomain(lb.hostname));
      if (isIP(lb.hostname)) e.invalid(`${p}.hostname`, lb.hostname, "must be a DNS name, not an IP address");
    }
  });
}

/** k8s.io/apimachinery IsDomainPrefixedPath. */
function validateDomainPrefixedPath(e: Errors, path: string, v: string) {
  const slash = v.indexOf("/");
  if (slash < 0) {
    e.invalid(path, v, 'must be a domain-prefixed path (such as "acme.io/foo")');
    return;
  }
  const host = v.slice(0, slash);
  e.invalidEach(path, host, isDNS1123Subdomain(host));
  const rest = v.slice(slash + 1);
  if (!new RegExp(`^${HTTP_PATH}$`).test(rest)) e.invalid(path, rest, `Invalid path (regex used for validation is '${HTTP_PATH}')`);
}

export function validateIngressClass(e: Errors, ic: Obj) {
  const spec: Obj = isObj(ic.spec) ? ic.spec : {};
  const controller = typeof spec.controller === "string" ? spec.controller : "";
  if (controller.length > 250) e.tooLong("spec.controller", 250);
  validateDomainPrefixedPath(e, "spec.controller", controller);
  if (spec.parameters == null) return;
  const params: Obj = isObj(spec.parameters) ? spec.parameters : {};
  validateTypedRef(e, params, "spec.parameters");
  if (params.scope == null) {
    e.required("spec.parameters.scope");
    return;
  }
  if (params.scope !== "Cluster" && params.scope !== "Namespace") {
    e.notSupported("spec.parameters.scope", params.scope, ["Cluster", "Namespace"]);
  } else if (params.scope === "Namespace") {
    if (params.namespace == null) e.required("spec.parameters.namespace", "`parameters.scope` is set to 'Namespace'");
    else e.invalidEach("spec.parameters.namespace", params.namespace, isDNS1123Label(String(params.namespace)));
  } else if (params.namespace != null) {
    e.forbidden("spec.parameters.namespace", "`parameters.scope` is set to 'Cluster'");
  }
}

export function validateIngressClassUpdate(e: Errors, ic: Obj, old: Obj) {
  if (old.spec?.controller !== undefined && ic.spec?.controller !== old.spec.controller) {
    e.invalid("spec.controller", ic.spec?.controller ?? "", "field is immutable");
  }
}

/** Upstream SetDefaults_IngressClass: a parameters reference without a scope is cluster-scoped. */
export function defaultIngressClass(ic: Obj) {
  if (isObj(ic.spec?.parameters) && ic.spec.parameters.scope == null) ic.spec.parameters.scope = "Cluster";
}

/** Upstream serializes Ingress.status.loadBalancer (a struct, not a pointer) even when empty. */
export function defaultIngress(ing: Obj) {
  if (ing.status == null) ing.status = {};
  if (isObj(ing.status) && ing.status.loadBalancer == null) ing.status.loadBalancer = {};
}
