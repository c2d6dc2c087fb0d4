// What a Service's endpoints should be, from the pods its selector matches: addresses grouped by the ports
// they resolve to (named targetPorts are looked up per pod), ready vs not ready, terminating.

import type { EndpointPort, Pod, Service, ServicePort } from "kubernetes-types/core/v1";
import { isPodReady } from "../util/pods.ts";

export interface DesiredEndpoint {
  ip: string;
  pod: Pod;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  hostname?: string;
}

export interface PortGroup {
  ports: EndpointPort[];
  endpoints: DesiredEndpoint[];
}

/** The port a service port reaches on one pod, or undefined when a named port is not defined there. */
export function resolveTargetPort(sp: ServicePort, pod: Pod): number | undefined {
  const tp = sp.targetPort;
  if (tp === undefined || tp === null || tp === "") return sp.port;
  if (typeof tp === "number") return tp;
  if (/^\d+$/.test(tp)) return Number(tp);
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === tp && (p.protocol ?? "TCP") === (sp.protocol ?? "TCP")) return p.containerPort;
    }
  }
  return undefined;
}

export function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === "None";
}

/** Endpoints grouped by resolved port set. `includeTerminating` is true for EndpointSlices. */
export function desiredGroups(svc: Service, pods: Pod[], includeTerminating: boolean): PortGroup[] {
  const publishNotReady = !!svc.spec?.publishNotReadyAddresses;
  const groups = new Map<string, PortGroup>();
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    if (!ip || !pod.spec?.nodeName) continue;
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") continue;
    const terminating = !!pod.metadata?.deletionTimestamp;
    if (terminating && !includeTerminating && !publishNotReady) continue;
    const ports: EndpointPort[] = [];
    let missing = false;
    for (const sp of svc.spec?.ports ?? []) {
      const port = resolveTargetPort(sp, pod);
      if (port === undefined) {
        missing = true;
        continue;
      }
      const ep: EndpointPort = { port, protocol: sp.protocol ?? "TCP" };
      if (sp.name) ep.name = sp.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      ports.push(ep);
    }
    // A pod that defines none of the named ports serves nothing for this Service.
    if (missing && !ports.length) continue;
    const podReady = isPodReady(pod);
    const ready = publishNotReady || (podReady && !terminating);
    const e: DesiredEndpoint = { ip, pod, ready, serving: publishNotReady || podReady, terminating };
    if (pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name) e.hostname = pod.spec.hostname;
    const key = JSON.stringify(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, endpoints: [] }));
    g.endpoints.push(e);
  }
  const out = [...groups.values()];
  for (const g of out) g.endpoints.sort((a, b) => a.ip.localeCompare(b.ip, undefined, { numeric: true }));
  return out.sort((a, b) => JSON.stringify(a.ports).localeCompare(JSON.stringify(b.ports)));
}
