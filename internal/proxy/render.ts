// Renders the whole `ip kubun` nftables table from the ServicePorts, laid out as kube-proxy's nftables mode:
//   nat prerouting/output → services: ip daddr . l4proto . dport vmap @service-ips, NodePorts by fib daddr type local
//   → svc-<id> (one per service port): numgen random over ep-<id>__<ip>/<port> chains → dnat to the endpoint;
//   postrouting masquerades packets marked 0x4000 (from outside the cluster CIDR, NodePorts, hairpin);
//   filter hooks before dstnat reject services without endpoints, and traffic to ClusterIPs on unknown ports.
// Pure: returns the table text plus the names of the chains and sets it defines (the applier diffs those).
import type { EndpointTarget, ServicePort } from "./model.ts";

export const TABLE = "kubun";
export const MASQ_MARK = "0x4000";

export interface RenderOptions {
  nodeName: string;
  clusterCIDR: string;
  serviceCIDR?: string;
}

export interface Ruleset {
  /** `table ip kubun { ... }` (add semantics: existing sets keep their elements). */
  text: string;
  chains: Set<string>;
  /** Session-affinity sets → timeout in seconds (recreated when the timeout changes). */
  affinitySets: Map<string, number>;
}

/** Maps and sets flushed and refilled on every sync. */
export const BASE_MAPS = ["service-ips", "service-nodeports", "no-endpoint-services", "no-endpoint-nodeports"];
export const BASE_SETS = ["cluster-ips"];

// nft identifiers may hold letters, digits and / - _ . (not quotes), which covers namespace/name/port and IPs.
const svcChain = (sp: ServicePort) => `svc-${sp.id}`;
const localChain = (sp: ServicePort) => `svl-${sp.id}`;
const extChain = (sp: ServicePort) => `ext-${sp.id}`;
const epChain = (sp: ServicePort, ep: EndpointTarget) => `ep-${sp.id}__${ep.ip}/${ep.port}`;
const affSet = (sp: ServicePort, ep: EndpointTarget) => `aff-${sp.id}__${ep.ip}/${ep.port}`;

/**
 * externalIPs and LoadBalancer ingress IPs, each address . protocol . port once in the whole table: a second
 * Service claiming the same one is skipped (nft refuses duplicate map keys; the ServiceLB controller gives a
 * conflicting Service no ingress status anyway).
 */
function externalAddrsOf(claimed: Set<string>) {
  return (sp: ServicePort): string[] => {
    const out: string[] = [];
    for (const ip of new Set([...sp.externalIPs, ...sp.loadBalancerIPs])) {
      const k = `${ip} . ${sp.protocol} . ${sp.port}`;
      // Asked again for the same ServicePort (its ext chain, then its map entries): same answer.
      if (claimed.has(k) && !claimed.has(`${k}#${sp.id}`)) continue;
      claimed.add(k);
      claimed.add(`${k}#${sp.id}`);
      out.push(ip);
    }
    return out;
  };
}

function elements(items: string[]): string {
  return items.length ? ` elements = { ${items.join(", ")} };` : "";
}

export function renderRuleset(ports: ServicePort[], opts: RenderOptions): Ruleset {
  const chains = new Map<string, string[]>();
  const affinitySets = new Map<string, number>();
  const serviceIPs: string[] = [];
  const nodePorts: string[] = [];
  const noEndpointIPs: string[] = [];
  const noEndpointNodePorts: string[] = [];
  const clusterIPs = new Set<string>();
  const masq = "jump mark-for-masquerade";
  const externalAddrs = externalAddrsOf(new Set());

  /** A load-balancing chain body: affinity lookups, then a random pick; empty endpoints → drop. */
  const balance = (sp: ServicePort, eps: EndpointTarget[]): string[] => {
    if (!eps.length) return ["drop"];
    const rules: string[] = [];
    if (sp.affinitySeconds !== undefined) for (const ep of eps) rules.push(`ip saddr @${affSet(sp, ep)} goto ${epChain(sp, ep)}`);
    rules.push(`numgen random mod ${eps.length} vmap { ${eps.map((ep, i) => `${i} : goto ${epChain(sp, ep)}`).join(", ")} }`);
    return rules;
  };

  for (const sp of ports) {
    for (const ip of sp.clusterIPs) clusterIPs.add(ip);
    const key = (ip: string) => `${ip} . ${sp.protocol} . ${sp.port}`;
    if (!sp.endpoints.length) {
      // No endpoints: reject at once (filter hooks) rather than let connections hang.
      for (const ip of sp.clusterIPs) noEndpointIPs.push(`${key(ip)} : goto reject-chain`);
      for (const ip of externalAddrs(sp)) noEndpointIPs.push(`${key(ip)} : goto reject-chain`);
      if (sp.nodePort) noEndpointNodePorts.push(`${sp.protocol} . ${sp.nodePort} : goto reject-chain`);
      continue;
    }
    const local = sp.endpoints.filter((ep) => ep.nodeName === opts.nodeName);

    // Cluster traffic: masquerade what comes from outside the pod network so replies come back through us.
    chains.set(svcChain(sp), [`ip saddr != ${opts.clusterCIDR} ${masq}`, ...balance(sp, sp.endpoints)]);
    let internalTarget = svcChain(sp);
    if (sp.internalLocal) {
      chains.set(localChain(sp), balance(sp, local));
      internalTarget = localChain(sp);
    }
    for (const ip of sp.clusterIPs) serviceIPs.push(`${key(ip)} : goto ${internalTarget}`);

    if (sp.nodePort || externalAddrs(sp).length) {
      // External traffic. Policy Cluster: always masquerade (the endpoint may be on another node). Policy Local:
      // keep the client's address and use only this node's endpoints, except for pods and the node itself.
      const rules = sp.externalLocal
        ? [`ip saddr ${opts.clusterCIDR} goto ${svcChain(sp)}`, `fib saddr type local ${masq}`, `fib saddr type local goto ${svcChain(sp)}`, `goto ${local.length ? localChain(sp) : "drop-chain"}`]
        : [masq, `goto ${svcChain(sp)}`];
      if (sp.externalLocal && local.length && !chains.has(localChain(sp))) chains.set(localChain(sp), balance(sp, local));
      chains.set(extChain(sp), rules);
      if (sp.nodePort) nodePorts.push(`${sp.protocol} . ${sp.nodePort} : goto ${extChain(sp)}`);
      for (const ip of externalAddrs(sp)) serviceIPs.push(`${key(ip)} : goto ${extChain(sp)}`);
    }

    for (const ep of sp.endpoints) {
      const rules = [`ip saddr ${ep.ip} ${masq}`]; // hairpin: a pod reaching itself through the service
      if (sp.affinitySeconds !== undefined) {
        affinitySets.set(affSet(sp, ep), sp.affinitySeconds);
        rules.push(`update @${affSet(sp, ep)} { ip saddr }`);
      }
      rules.push(`meta l4proto ${sp.protocol} dnat to ${ep.ip}:${ep.port}`);
      chains.set(epChain(sp, ep), rules);
    }
  }

  // Local addresses first: the node serves cluster DNS on 10.43.0.10 itself (a local address inside the service CIDR).
  const clusterIPCheck = ["fib daddr type local return", "ip daddr @cluster-ips reject"];
  if (opts.serviceCIDR) clusterIPCheck.push(`ip daddr ${opts.serviceCIDR} drop`);
  const nodeLocal = "fib daddr type local ip daddr != 127.0.0.0/8";
  const base: [string, string[]][] = [
    ["nat-prerouting", ["type nat hook prerouting priority -100; policy accept", "jump services"]],
    ["nat-output", ["type nat hook output priority -100; policy accept", "jump services"]],
    ["nat-postrouting", ["type nat hook postrouting priority 100; policy accept", "jump masquerading"]],
    // Priority -110: before dstnat, while the destination is still the service address.
    ["filter-input", ["type filter hook input priority -110; policy accept", "ct state new jump nodeport-endpoints-check", "ct state new jump service-endpoints-check"]],
    ["filter-forward", ["type filter hook forward priority -110; policy accept", "ct state new jump service-endpoints-check", "ct state new jump cluster-ips-check"]],
    ["filter-output", ["type filter hook output priority -110; policy accept", "ct state new jump service-endpoints-check"]],
    // After dstnat: what still goes to a ClusterIP matched no service port.
    ["filter-output-post-dnat", ["type filter hook output priority -90; policy accept", "ct state new jump cluster-ips-check"]],
    ["mark-for-masquerade", [`meta mark set meta mark or ${MASQ_MARK}`]],
    ["masquerading", [`meta mark & ${MASQ_MARK} == 0 return`, `meta mark set meta mark xor ${MASQ_MARK}`, "masquerade fully-random"]],
    ["services", ["ip daddr . meta l4proto . th dport vmap @service-ips", `${nodeLocal} meta l4proto . th dport vmap @service-nodeports`]],
    ["service-endpoints-check", ["ip daddr . meta l4proto . th dport vmap @no-endpoint-services"]],
    ["nodeport-endpoints-check", [`${nodeLocal} meta l4proto . th dport vmap @no-endpoint-nodeports`]],
    ["cluster-ips-check", clusterIPCheck],
    ["reject-chain", ["meta l4proto tcp reject with tcp reset", "reject"]],
    ["drop-chain", ["drop"]],
  ];

  const lines = [`table ip ${TABLE} {`];
  lines.push(`  set cluster-ips { type ipv4_addr;${elements([...clusterIPs].sort())} }`);
  lines.push(`  map service-ips { type ipv4_addr . inet_proto . inet_service : verdict;${elements(serviceIPs)} }`);
  lines.push(`  map service-nodeports { type inet_proto . inet_service : verdict;${elements(nodePorts)} }`);
  lines.push(`  map no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict;${elements(noEndpointIPs)} }`);
  lines.push(`  map no-endpoint-nodeports { type inet_proto . inet_service : verdict;${elements(noEndpointNodePorts)} }`);
  for (const [name, timeout] of affinitySets) lines.push(`  set ${name} { type ipv4_addr; flags dynamic,timeout; timeout ${timeout}s; }`);
  const all = [...base, ...chains];
  for (const [name, rules] of all) lines.push(`  chain ${name} {`, ...rules.map((r) => `    ${r};`), "  }");
  lines.push("}");
  return { text: lines.join("\n") + "\n", chains: new Set(all.map(([n]) => n)), affinitySets };
}
