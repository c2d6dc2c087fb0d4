// NetworkPolicy (networking.k8s.io/v1) defaults and validation, as upstream's SetDefaults_NetworkPolicy* and
// ValidateNetworkPolicySpec (pkg/apis/networking/validation).
import { Errors, child, idx } from "./errors.ts";
import { validateLabelSelector } from "./meta.ts";
import { isValidPortName, isValidPortNum } from "./names.ts";
import { isObj, type Obj } from "./util.ts";

const PROTOCOLS = ["TCP", "UDP", "SCTP"];
const POLICY_TYPES = ["Ingress", "Egress"];
const CIDR_MSG = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

/** policyTypes: Ingress always, Egress when egress rules exist; port protocols default to TCP. */
export function defaultNetworkPolicy(obj: Obj): void {
  const spec = obj.spec;
  if (!isObj(spec)) return;
  const rules = [...(Array.isArray(spec.ingress) ? spec.ingress : []), ...(Array.isArray(spec.egress) ? spec.egress : [])];
  for (const r of rules) for (const p of isObj(r) && Array.isArray(r.ports) ? r.ports : []) if (isObj(p) && p.protocol === undefined) p.protocol = "TCP";
  if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) {
    spec.policyTypes = ["Ingress"];
    if (Array.isArray(spec.egress) && spec.egress.length > 0) spec.policyTypes.push("Egress");
  }
}

export function validateNetworkPolicy(e: Errors, obj: Obj): void {
  const spec = obj.spec;
  if (!isObj(spec)) return e.required("spec");
  validateLabelSelector(e, spec.podSelector, "spec.podSelector");
  for (const [dir, peersField] of [["ingress", "from"], ["egress", "to"]] as const) {
    const rules: unknown[] = Array.isArray(spec[dir]) ? spec[dir] : [];
    rules.forEach((r, i) => {
      if (!isObj(r)) return;
      const rp = idx(`spec.${dir}`, i);
      (Array.isArray(r.ports) ? r.ports : []).forEach((p: unknown, j: number) => isObj(p) && validatePort(e, p, idx(child(rp, "ports"), j)));
      (Array.isArray(r[peersField]) ? r[peersField] : []).forEach((p: unknown, j: number) => isObj(p) && validatePeer(e, p, idx(child(rp, peersField), j)));
    });
  }
  const types: unknown[] = Array.isArray(spec.policyTypes) ? spec.policyTypes : [];
  if (types.length > POLICY_TYPES.length) return e.invalid("spec.policyTypes", types, "may not specify more than two policyTypes");
  types.forEach((t, i) => {
    if (!POLICY_TYPES.includes(t as string)) e.notSupported(idx("spec.policyTypes", i), t, POLICY_TYPES);
  });
}

function validatePort(e: Errors, p: Obj, path: string): void {
  if (p.protocol !== undefined && !PROTOCOLS.includes(p.protocol)) e.notSupported(child(path, "protocol"), p.protocol, PROTOCOLS);
  const end = p.endPort;
  if (p.port === undefined || p.port === null) {
    if (end !== undefined) e.invalid(child(path, "endPort"), end, "may not be specified when `port` is not specified");
  } else if (typeof p.port === "number") {
    e.invalidEach(child(path, "port"), p.port, isValidPortNum(p.port));
    if (end !== undefined) {
      if (end < p.port) e.invalid(child(path, "endPort"), p.port, "must be greater than or equal to `port`");
      e.invalidEach(child(path, "endPort"), end, isValidPortNum(end));
    }
  } else {
    if (end !== undefined) e.invalid(child(path, "endPort"), end, "may not be specified when `port` is non-numeric");
    e.invalidEach(child(path, "port"), p.port, isValidPortName(String(p.port)));
  }
}

function validatePeer(e: Errors, peer: Obj, path: string): void {
  let n = 0;
  if (peer.podSelector != null) {
    n++;
    validateLabelSelector(e, peer.podSelector, child(path, "podSelector"));
  }
  if (peer.namespaceSelector != null) {
    n++;
    validateLabelSelector(e, peer.namespaceSelector, child(path, "namespaceSelector"));
  }
  if (peer.ipBlock != null) {
    n++;
    if (isObj(peer.ipBlock)) validateIPBlock(e, peer.ipBlock, child(path, "ipBlock"));
  }
  if (n === 0) e.required(path, "must specify a peer");
  else if (n > 1 && peer.ipBlock != null) e.forbidden(path, "may not specify both ipBlock and another peer");
}

/** [network, prefix length] of an IPv4 or IPv6 CIDR, or undefined when it is not one. */
export function parseCIDR(s: string): { bits: bigint; len: number; width: number } | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const len = Number(m[2]);
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(m[1]!);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((x) => x > 255) || len > 32) return undefined;
    const bits = parts.reduce((a, x) => (a << 8n) | BigInt(x), 0n);
    return { bits: (bits >> BigInt(32 - len)) << BigInt(32 - len), len, width: 32 };
  }
  if (!m[1]!.includes(":") || len > 128) return undefined;
  const [head, tail, extra] = m[1]!.split("::");
  if (extra !== undefined) return undefined;
  const hs = head ? head.split(":") : [];
  const ts = tail !== undefined && tail ? tail.split(":") : [];
  const groups = tail === undefined ? hs : [...hs, ...Array(8 - hs.length - ts.length).fill("0"), ...ts];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const bits = groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
  return { bits: (bits >> BigInt(128 - len)) << BigInt(128 - len), len, width: 128 };
}

function validateIPBlock(e: Errors, b: Obj, path: string): void {
  if (!b.cidr) return e.required(child(path, "cidr"));
  const net = parseCIDR(String(b.cidr));
  if (!net) return e.invalid(child(path, "cidr"), b.cidr, CIDR_MSG);
  (Array.isArray(b.except) ? b.except : []).forEach((x: unknown, i: number) => {
    const p = idx(child(path, "except"), i);
    const ex = parseCIDR(String(x));
    if (!ex) return e.invalid(p, x, CIDR_MSG);
    const inside = ex.width === net.width && ex.len > net.len && (ex.bits >> BigInt(net.width - net.len)) === (net.bits >> BigInt(net.width - net.len));
    if (!inside) e.invalid(p, x, "must be a strict subset of `cidr`");
  });
}
