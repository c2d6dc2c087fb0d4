// Service, EndpointSlice and Node validation.
import { Errors, child, idx } from "./errors.ts";
import { validateLabels } from "./meta.ts";
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, isValidPortName, isValidPortNum } from "./names.ts";
import { isObj, type Obj } from "./util.ts";

const SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const PROTOCOLS = ["SCTP", "TCP", "UDP"];

export function validateService(e: Errors, svc: Obj) {
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
  if (spec.externalTrafficPolicy !== undefined && spec.externalTrafficPolicy !== "" && !policies.includes(spec.externalTrafficPolicy)) e.notSupported("spec.externalTrafficPolicy", spec.externalTrafficPolicy, policies);
}

export function validateEndpointSlice(e: Errors, es: Obj) {
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

export function validateNode(e: Errors, node: Obj) {
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

