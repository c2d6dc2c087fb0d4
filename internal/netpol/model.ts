// What this node must enforce, derived from NetworkPolicies, Pods and Namespaces: for each pod on this node, the
// traffic its ingress and egress policies allow (upstream's semantics: a pod is isolated in a direction when any
// policy of its namespace selects it with that policyType; then only what some rule of those policies allows
// passes). Pure functions, so rules can be tested without a cluster.
import type { Namespace, Pod } from "kubernetes-types/core/v1";
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from "kubernetes-types/networking/v1";
import { fromLabelSelectorObject, matchLabels } from "../api/selectors/labels.ts";

export type Protocol = "tcp" | "udp" | "sctp";

export interface PodInfo {
  namespace: string;
  name: string;
  ip: string;
  labels: Record<string, string>;
  nodeName?: string;
  /** Named container ports, for policies that name a port. */
  namedPorts: { name: string; port: number; protocol: Protocol }[];
}

/** One allowed port (range); no port = every port of the protocol. */
export interface PortMatch {
  protocol: Protocol;
  port?: number;
  endPort?: number;
}

/** Allowed peers of a rule: exact pod addresses and/or CIDRs minus exceptions. */
export interface PeerMatch {
  ips?: string[];
  cidr?: string;
  except?: string[];
}

/** A rule: any of `peers` (undefined = every address) on any of `ports` (undefined = every port). */
export interface AllowRule {
  peers?: PeerMatch[];
  ports?: PortMatch[];
}

export interface PodPolicy {
  /** "namespace/name" */
  id: string;
  ip: string;
  /** undefined: not isolated for ingress. [] : isolated, nothing allowed. */
  ingress?: AllowRule[];
  egress?: AllowRule[];
}

const PROTOCOLS: Record<string, Protocol> = { TCP: "tcp", UDP: "udp", SCTP: "sctp" };
const isIPv4 = (s: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(s);
const isIPv4CIDR = (s: string) => /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(s);

/** Pods that take part in policies: running or pending with a pod IP, not on the host network. */
export function podInfo(p: Pod): PodInfo | undefined {
  const ip = p.status?.podIP;
  if (!ip || !isIPv4(ip) || p.spec?.hostNetwork) return undefined;
  if (p.status?.phase === "Succeeded" || p.status?.phase === "Failed") return undefined;
  const namedPorts: PodInfo["namedPorts"] = [];
  for (const c of [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])])
    for (const port of c.ports ?? []) if (port.name) namedPorts.push({ name: port.name, port: port.containerPort, protocol: PROTOCOLS[port.protocol ?? "TCP"] ?? "tcp" });
  return { namespace: p.metadata?.namespace ?? "default", name: p.metadata?.name ?? "", ip, labels: bare(p.metadata?.labels), nodeName: p.spec?.nodeName, namedPorts };
}

export interface ClusterState {
  policies: NetworkPolicy[];
  pods: PodInfo[];
  namespaces: Namespace[];
}

// Label maps are copied into prototype-free objects: a selector on "constructor" must not match Object's.
const bare = (labels: Record<string, string> | undefined): Record<string, string> => Object.assign(Object.create(null), labels ?? {});
const selects = (sel: any, labels: Record<string, string>) => matchLabels(fromLabelSelectorObject(sel ?? {}), labels);

/** The pods a peer names (podSelector and/or namespaceSelector), relative to the policy's namespace. */
function peerPods(peer: NetworkPolicyPeer, policyNs: string, st: ClusterState, nsLabels: Map<string, Record<string, string>>): PodInfo[] {
  return st.pods.filter((p) => {
    if (peer.namespaceSelector) {
      if (!selects(peer.namespaceSelector, nsLabels.get(p.namespace) ?? bare(undefined))) return false;
    } else if (p.namespace !== policyNs) return false;
    return !peer.podSelector || selects(peer.podSelector, p.labels);
  });
}

/** A policy port as seen on one pod: named ports resolve against that pod's container ports (none → no match). */
function resolvePort(pp: NetworkPolicyPort, pod: PodInfo | undefined): PortMatch | undefined {
  const protocol = PROTOCOLS[pp.protocol ?? "TCP"] ?? "tcp";
  if (pp.port === undefined || pp.port === null) return { protocol };
  if (typeof pp.port === "number") return pp.endPort !== undefined ? { protocol, port: pp.port, endPort: pp.endPort } : { protocol, port: pp.port };
  const named = pod?.namedPorts.find((n) => n.name === pp.port && n.protocol === protocol);
  return named ? { protocol, port: named.port } : undefined;
}

const hasNamedPort = (ports: NetworkPolicyPort[] | undefined) => (ports ?? []).some((p) => typeof p.port === "string");

/**
 * One direction's rules for `pod`. Ingress named ports resolve on the pod itself; egress named ports on each
 * destination pod (so such a rule becomes one rule per destination pod).
 */
function rulesFor(pod: PodInfo, policies: NetworkPolicy[], dir: "ingress" | "egress", st: ClusterState, nsLabels: Map<string, Record<string, string>>): AllowRule[] {
  const out: AllowRule[] = [];
  for (const np of policies) {
    const ns = np.metadata?.namespace ?? "default";
    for (const r of (dir === "ingress" ? np.spec?.ingress : np.spec?.egress) ?? []) {
      const peers = dir === "ingress" ? (r as any).from : (r as any).to;
      const policyPorts: NetworkPolicyPort[] | undefined = r.ports?.length ? r.ports : undefined;
      if (dir === "egress" && hasNamedPort(policyPorts)) {
        // Per destination pod; an ipBlock cannot resolve a port name, so it only gets the numeric ports.
        const dests = peers?.length ? peers.flatMap((p: NetworkPolicyPeer) => (p.ipBlock ? [] : peerPods(p, ns, st, nsLabels))) : st.pods;
        for (const d of dests) {
          const ports = policyPorts!.map((pp) => resolvePort(pp, d)).filter((x): x is PortMatch => !!x);
          if (ports.length) out.push({ peers: [{ ips: [d.ip] }], ports });
        }
        const blocks = (peers ?? []).filter((p: NetworkPolicyPeer) => p.ipBlock);
        const numeric = policyPorts!.filter((pp) => typeof pp.port !== "string").map((pp) => resolvePort(pp, undefined)!);
        if (blocks.length && numeric.length) out.push({ peers: blocks.map(ipBlockPeer).filter(Boolean) as PeerMatch[], ports: numeric });
        continue;
      }
      let ports: PortMatch[] | undefined;
      if (policyPorts) {
        ports = policyPorts.map((pp) => resolvePort(pp, pod)).filter((x): x is PortMatch => !!x);
        if (!ports.length) continue; // only named ports this pod does not have: the rule allows nothing here
      }
      if (!peers?.length) {
        out.push(ports ? { ports } : {});
        continue;
      }
      const matches: PeerMatch[] = [];
      const ips = new Set<string>();
      for (const peer of peers as NetworkPolicyPeer[]) {
        if (peer.ipBlock) {
          const m = ipBlockPeer(peer);
          if (m) matches.push(m);
        } else for (const p of peerPods(peer, ns, st, nsLabels)) ips.add(p.ip);
      }
      if (ips.size) matches.unshift({ ips: [...ips].sort() });
      if (matches.length) out.push(ports ? { peers: matches, ports } : { peers: matches });
    }
  }
  return out;
}

function ipBlockPeer(peer: NetworkPolicyPeer): PeerMatch | undefined {
  const b = peer.ipBlock!;
  if (!isIPv4CIDR(b.cidr)) return undefined; // IPv6 blocks: this cluster's pods are IPv4-only
  const except = (b.except ?? []).filter(isIPv4CIDR);
  return except.length ? { cidr: b.cidr, except } : { cidr: b.cidr };
}

/** What to enforce for every pod on `nodeName`, sorted by pod id. */
export function podPolicies(st: ClusterState, nodeName: string): PodPolicy[] {
  const nsLabels = new Map<string, Record<string, string>>();
  for (const n of st.namespaces) {
    const name = n.metadata?.name ?? "";
    // Upstream's apiserver sets this label on every namespace; fill it for namespaces from before it did.
    nsLabels.set(name, bare({ "kubernetes.io/metadata.name": name, ...bare(n.metadata?.labels) }));
  }
  const byNs = new Map<string, NetworkPolicy[]>();
  for (const np of st.policies) {
    const ns = np.metadata?.namespace ?? "default";
    byNs.set(ns, [...(byNs.get(ns) ?? []), np]);
  }
  const out: PodPolicy[] = [];
  for (const pod of st.pods) {
    if (pod.nodeName !== nodeName) continue;
    const selecting = (byNs.get(pod.namespace) ?? []).filter((np) => selects(np.spec?.podSelector, pod.labels));
    const types = (np: NetworkPolicy) => np.spec?.policyTypes ?? (np.spec?.egress?.length ? ["Ingress", "Egress"] : ["Ingress"]);
    const ing = selecting.filter((np) => types(np).includes("Ingress"));
    const egr = selecting.filter((np) => types(np).includes("Egress"));
    if (!ing.length && !egr.length) continue;
    const pp: PodPolicy = { id: `${pod.namespace}/${pod.name}`, ip: pod.ip };
    if (ing.length) pp.ingress = rulesFor(pod, ing, "ingress", st, nsLabels);
    if (egr.length) pp.egress = rulesFor(pod, egr, "egress", st, nsLabels);
    out.push(pp);
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
