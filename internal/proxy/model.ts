// What the proxy must program, derived from Services and EndpointSlices: one ServicePort per (service, port), each
// with the endpoints it may send traffic to. Pure functions, so the rules can be tested without a cluster.
import type { Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";

export type Protocol = "tcp" | "udp" | "sctp";

export interface EndpointTarget {
  ip: string;
  port: number;
  /** The node the endpoint runs on, for externalTrafficPolicy/internalTrafficPolicy Local. */
  nodeName?: string;
}

export interface ServicePort {
  /** "namespace/name/protocol/port-name" (or the port number when unnamed): stable across syncs. */
  id: string;
  namespace: string;
  name: string;
  protocol: Protocol;
  clusterIPs: string[];
  port: number;
  nodePort?: number;
  externalIPs: string[];
  /** status.loadBalancer.ingress IPs (ServiceLB: the nodes serving it): programmed as externalIPs are. */
  loadBalancerIPs: string[];
  /** Endpoints for traffic from anywhere (cluster traffic policy), after the ready → serving+terminating fallback. */
  endpoints: EndpointTarget[];
  externalLocal: boolean;
  internalLocal: boolean;
  /** ClientIP session affinity timeout in seconds; undefined = no affinity. */
  affinitySeconds?: number;
}

/** The label linking an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

const PROTOCOLS: Record<string, Protocol> = { TCP: "tcp", UDP: "udp", SCTP: "sctp" };

function isIPv4(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s);
}

/** Whether kube-proxy programs anything for this Service (headless and ExternalName get no rules). */
export function isProxied(svc: Service): boolean {
  if (svc.spec?.type === "ExternalName") return false;
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== "None" && isIPv4(ip);
}

interface Candidate extends EndpointTarget {
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/**
 * Endpoints of one service port as upstream's CategorizeEndpoints: ready ones; when there are none, the serving
 * terminating ones (so a rolling update with all pods terminating still answers).
 */
function usable(cands: Candidate[]): EndpointTarget[] {
  const ready = cands.filter((c) => c.ready);
  const chosen = ready.length ? ready : cands.filter((c) => c.serving && c.terminating);
  return chosen.map(({ ip, port, nodeName }) => (nodeName ? { ip, port, nodeName } : { ip, port }));
}

/** ServicePorts of one Service given the EndpointSlices labelled with its name. */
export function servicePorts(svc: Service, slices: EndpointSlice[]): ServicePort[] {
  if (!isProxied(svc)) return [];
  const spec = svc.spec!;
  const namespace = svc.metadata?.namespace ?? "default";
  const name = svc.metadata?.name ?? "";
  const clusterIPs = (spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP!]).filter(isIPv4);
  const affinitySeconds = spec.sessionAffinity === "ClientIP" ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800) : undefined;
  const out: ServicePort[] = [];
  for (const p of spec.ports ?? []) {
    const protocol = PROTOCOLS[p.protocol ?? "TCP"];
    if (!protocol) continue;
    const portName = p.name ?? "";
    const byIP = new Map<string, Candidate>();
    for (const sl of slices) {
      if (sl.addressType !== "IPv4") continue;
      const sp = (sl.ports ?? []).find((x) => (x.name ?? "") === portName && PROTOCOLS[x.protocol ?? "TCP"] === protocol);
      if (!sp?.port) continue;
      for (const ep of sl.endpoints ?? []) {
        const ip = ep.addresses?.[0];
        if (!ip || !isIPv4(ip) || byIP.has(ip)) continue;
        const c = ep.conditions ?? {};
        // nil ready means ready; nil serving defers to ready (discovery/v1 docs).
        const ready = c.ready ?? true;
        byIP.set(ip, { ip, port: sp.port, nodeName: ep.nodeName, ready, serving: c.serving ?? ready, terminating: c.terminating ?? false });
      }
    }
    const endpoints = usable([...byIP.values()].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.port - b.port)));
    out.push({
      id: `${namespace}/${name}/${protocol}/${portName || p.port}`,
      namespace,
      name,
      protocol,
      clusterIPs,
      port: p.port,
      nodePort: spec.type === "NodePort" || spec.type === "LoadBalancer" ? p.nodePort || undefined : undefined,
      externalIPs: (spec.externalIPs ?? []).filter(isIPv4),
      // ipMode Proxy: the load balancer itself forwards to the node, so (as upstream) the address is not ours to take.
      loadBalancerIPs: spec.type === "LoadBalancer" ? (svc.status?.loadBalancer?.ingress ?? []).filter((i: { ipMode?: string }) => i.ipMode !== "Proxy").map((i) => i.ip ?? "").filter(isIPv4) : [],
      endpoints,
      externalLocal: spec.externalTrafficPolicy === "Local",
      internalLocal: spec.internalTrafficPolicy === "Local",
      affinitySeconds,
    });
  }
  return out;
}
