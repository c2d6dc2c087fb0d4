// PodPolicies → the text of table `inet kubun-netpol` (pure). Layout:
//   forward (filter hook, priority filter): established/related pass; `ip saddr vmap @egress-pods` (local pods'
//     egress chains `return` when allowed, else drop); `ip daddr vmap @ingress-pods` (same for ingress).
//   input: established/related pass; `ip saddr vmap @egress-pods` — a pod's traffic to this node (node-local cluster
//     DNS, host ports) is egress too.
// Nothing hooks output: the node's own traffic to its pods (kubelet probes) is never filtered, as upstream expects.
// Run with br_netfilter (bridge-nf-call-iptables=1) so pod-to-pod traffic on the node's bridge passes forward.
import type { AllowRule, PeerMatch, PodPolicy, PortMatch } from "./model.ts";

export const TABLE = "kubun-netpol";

export interface NetpolRuleset {
  text: string;
  pods: number;
}

function portExpr(p: PortMatch): string {
  const proto = `meta l4proto ${p.protocol}`;
  if (p.port === undefined) return proto;
  return p.endPort !== undefined && p.endPort !== p.port ? `${proto} th dport ${p.port}-${p.endPort}` : `${proto} th dport ${p.port}`;
}

function peerExprs(m: PeerMatch, field: "saddr" | "daddr"): string[] {
  if (m.ips) return m.ips.length ? [`ip ${field} { ${m.ips.join(", ")} }`] : [];
  // One `!=` per exception: overlapping exceptions in one anonymous interval set would be refused.
  return [[`ip ${field} ${m.cidr}`, ...(m.except ?? []).map((x) => `ip ${field} != ${x}`)].join(" ")];
}

/** Allow lines (each ends with `return`) of one direction, then the drop. */
function chainRules(rules: AllowRule[], field: "saddr" | "daddr"): string[] {
  const lines = new Set<string>();
  for (const r of rules) {
    const peers = r.peers ? r.peers.flatMap((m) => peerExprs(m, field)) : [""];
    const ports = r.ports ? r.ports.map(portExpr) : [""];
    for (const pe of peers) for (const po of ports) lines.add([pe, po, "return"].filter(Boolean).join(" "));
  }
  return [...lines, "drop"];
}

/** Chain names must stay under nft's 256 characters: long pod ids are shortened with a hash. */
function chainName(prefix: string, id: string): string {
  const name = `${prefix}-${id}`;
  return name.length <= 200 ? name : `${prefix}-${id.slice(0, 150)}~${new Bun.CryptoHasher("sha256").update(id).digest("hex").slice(0, 16)}`;
}

export function renderNetpol(pods: PodPolicy[]): NetpolRuleset {
  const chains: [string, string[]][] = [];
  const ingressMap: string[] = [];
  const egressMap: string[] = [];
  for (const p of pods) {
    if (p.ingress) {
      const c = chainName("ing", p.id);
      chains.push([c, chainRules(p.ingress, "saddr")]);
      ingressMap.push(`${p.ip} : jump ${c}`);
    }
    if (p.egress) {
      const c = chainName("egr", p.id);
      chains.push([c, chainRules(p.egress, "daddr")]);
      egressMap.push(`${p.ip} : jump ${c}`);
    }
  }
  const elements = (xs: string[]) => (xs.length ? ` elements = { ${xs.join(", ")} };` : "");
  const lines = [`table inet ${TABLE} {`];
  lines.push(`  map ingress-pods { type ipv4_addr : verdict;${elements(ingressMap)} }`);
  lines.push(`  map egress-pods { type ipv4_addr : verdict;${elements(egressMap)} }`);
  const base: [string, string[]][] = [
    ["forward", ["type filter hook forward priority filter; policy accept", "ct state established,related accept", "meta nfproto ipv4 ip saddr vmap @egress-pods", "meta nfproto ipv4 ip daddr vmap @ingress-pods"]],
    ["input", ["type filter hook input priority filter; policy accept", "ct state established,related accept", "meta nfproto ipv4 ip saddr vmap @egress-pods"]],
  ];
  for (const [name, rules] of [...base, ...chains]) lines.push(`  chain ${name} {`, ...rules.map((r) => `    ${r};`), "  }");
  lines.push("}");
  return { text: lines.join("\n") + "\n", pods: pods.length };
}

/** One nft transaction replacing the whole table (created first so the delete cannot fail). */
export function netpolTransaction(r: NetpolRuleset): string {
  return `add table inet ${TABLE}\ndelete table inet ${TABLE}\n${r.text}`;
}
