// ServiceLB (k3s's built-in service load balancer): every Service of type LoadBalancer without a
// loadBalancerClass (or with kubun's) gets the addresses of the nodes it is served on in
// status.loadBalancer.ingress. The agents' service proxy opens its ports on exactly those addresses (they are
// programmed like externalIPs), forwarded to the Service's endpoints. The nodes are every Ready node, or — when any
// node carries the label svccontroller.k3s.cattle.io/enablelb=true — only the nodes labelled so (k3s's label);
// with externalTrafficPolicy Local only those that run a ready endpoint (the client address is kept, so other
// nodes have nothing to forward to). A Service asking for a port/protocol an older LoadBalancer Service already
// holds gets a Warning event and no ingress status (each node has one such port), as klipper-lb's pending pods.
// Nodes running kubun's ingress proxy (label kubun.dev/ingress=true) hold 80/TCP and 443/TCP for it, as Traefik's
// own LoadBalancer Service does in k3s: a Service wanting those is served only on the other nodes.
import type { Node, Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import { keyOf, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { INGRESS_NODE_LABEL } from "../../api/ingress.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";

/** k3s's node label: when any node has it "true", only those nodes serve LoadBalancer Services. */
export const ENABLE_LB_LABEL = "svccontroller.k3s.cattle.io/enablelb";
/** The loadBalancerClass this controller answers for (besides none). */
export const SERVICELB_CLASS = "kubun.dev/servicelb";

const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export function isOurs(svc: Service): boolean {
  if (svc.spec?.type !== "LoadBalancer" || svc.metadata?.deletionTimestamp) return false;
  const cls = svc.spec.loadBalancerClass;
  return !cls || cls === SERVICELB_CLASS;
}

function nodeAddress(n: Node): string | undefined {
  const addrs = n.status?.addresses ?? [];
  return addrs.find((a) => a.type === "ExternalIP")?.address ?? addrs.find((a) => a.type === "InternalIP")?.address;
}

const isReady = (n: Node) => !n.metadata?.deletionTimestamp && (n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false);

/** The nodes LoadBalancer Services are served on (name → address). */
export function poolNodes(nodes: Node[]): Map<string, string> {
  const labelled = nodes.some((n) => n.metadata?.labels?.[ENABLE_LB_LABEL] === "true");
  const out = new Map<string, string>();
  for (const n of nodes) {
    if (labelled && n.metadata?.labels?.[ENABLE_LB_LABEL] !== "true") continue;
    const ip = isReady(n) ? nodeAddress(n) : undefined;
    if (ip) out.set(n.metadata!.name!, ip);
  }
  return out;
}

/** The ports the agents' ingress proxy listens on (its defaults; `--ingress-http(s)-port` elsewhere is not seen). */
export const INGRESS_PORTS = ["80/TCP", "443/TCP"];

/** Pool nodes that may serve this Service: those running the ingress proxy not when it wants the proxy's ports. */
export function servingNodes(svc: Service, nodes: Node[]): Map<string, string> {
  const pool = poolNodes(nodes);
  if (!portKeys(svc).some((p) => INGRESS_PORTS.includes(p))) return pool;
  for (const n of nodes) if (n.metadata?.labels?.[INGRESS_NODE_LABEL] === "true") pool.delete(n.metadata!.name!);
  return pool;
}

const portKeys = (svc: Service) => [...new Set((svc.spec?.ports ?? []).map((p) => `${p.port}/${p.protocol ?? "TCP"}`))];
const age = (s: Service) => `${s.metadata?.creationTimestamp ?? ""} ${s.metadata?.namespace}/${s.metadata?.name}`;

/**
 * Which of our Services lose a port to an older one: key → the first conflicting "port/protocol" and its holder.
 * Older Services (creation time, then namespace/name) keep their ports.
 */
export function portConflicts(services: Service[], reserved: Map<string, string> = new Map()): Map<string, { port: string; holder: string }> {
  const holders = new Map<string, string>(reserved);
  const out = new Map<string, { port: string; holder: string }>();
  for (const s of services.filter(isOurs).sort((a, b) => (age(a) < age(b) ? -1 : age(a) > age(b) ? 1 : 0))) {
    const key = keyOf(s);
    const clash = portKeys(s).find((p) => holders.has(p));
    if (clash) {
      out.set(key, { port: clash, holder: holders.get(clash)! });
      continue; // a Service that gets no status holds none of its ports
    }
    for (const p of portKeys(s)) holders.set(p, key);
  }
  return out;
}

/**
 * Node ports kubun itself listens on, which a LoadBalancer must not take over (its DNAT would cut nodes off the API
 * server or the API server off the kubelets): the API servers' ports and the kubelet's default 10250.
 */
export function reservedPorts(apiServerPorts: number[]): Map<string, string> {
  const out = new Map<string, string>([["10250/TCP", "the kubelet"]]);
  for (const p of apiServerPorts) out.set(`${p}/TCP`, "the API server");
  return out;
}

export function newServiceLBController(ctx: ControllerContext): Controller {
  const reserved = reservedPorts([...new Set((ctx.options.apiServerEndpoints ?? []).map((e) => e.port).concat(6443))]);
  const services: Informer<Service> = ctx.informers.informerFor(refs.services);
  const nodes: Informer<Node> = ctx.informers.informerFor(refs.nodes);
  const slices: Informer<EndpointSlice> = ctx.informers.informerFor(refs.endpointslices);
  const recorder = ctx.recorder("service-lb-controller");
  const { queue, run } = controllerQueue(ctx, "servicelb");
  const all = () => {
    for (const s of services.list()) if (s.spec?.type === "LoadBalancer" || s.status?.loadBalancer?.ingress?.length) queue.add(keyOf(s));
  };
  // Any Service change can free or take a port another one wants: look at all of them (few LoadBalancers).
  services.addEventHandler({ onAdd: all, onUpdate: (o, n) => o !== n && all(), onDelete: all });
  slices.addEventHandler({
    onAdd: (s) => enqueueFor(s),
    onUpdate: (_o, s) => enqueueFor(s),
    onDelete: (s) => enqueueFor(s),
  });
  function enqueueFor(s: EndpointSlice) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (svc && services.get(`${s.metadata?.namespace}/${svc}`)?.spec?.externalTrafficPolicy === "Local") queue.add(`${s.metadata?.namespace}/${svc}`);
  }
  // Only a change of the pool matters; heartbeats update nodes every few seconds.
  let lastPool = "";
  const nodesChanged = () => {
    const list = nodes.list();
    const now = JSON.stringify([[...poolNodes(list)], list.filter((n) => n.metadata?.labels?.[INGRESS_NODE_LABEL] === "true").map((n) => n.metadata?.name)]);
    if (now !== lastPool) {
      lastPool = now;
      all();
    }
  };
  nodes.addEventHandler({ onAdd: nodesChanged, onUpdate: nodesChanged, onDelete: nodesChanged });
  /** Conflicts already reported (key → message), so an unchanged conflict is not reported on every sync. */
  const reported = new Map<string, string>();

  /** Nodes with a ready endpoint of the Service (externalTrafficPolicy Local). */
  function endpointNodes(svc: Service): Set<string> {
    const out = new Set<string>();
    for (const sl of slices.list()) {
      if (sl.metadata?.namespace !== svc.metadata?.namespace || sl.metadata?.labels?.[SERVICE_NAME_LABEL] !== svc.metadata?.name) continue;
      for (const ep of sl.endpoints ?? []) if ((ep.conditions?.ready ?? true) && ep.nodeName) out.add(ep.nodeName);
    }
    return out;
  }

  async function sync(key: string): Promise<void> {
    const svc = services.get(key);
    if (!svc) return void reported.delete(key);
    const have = (svc.status?.loadBalancer?.ingress ?? []).map((i) => ({ ip: i.ip }));
    let want: { ip: string }[] = [];
    if (!isOurs(svc)) {
      // Another class's Service is left alone; one that stopped being a LoadBalancer loses the status we gave it.
      if (svc.spec?.type === "LoadBalancer" || !have.length) return;
    } else {
      const conflict = portConflicts(services.list(), reserved).get(key);
      if (conflict) {
        const by = conflict.holder.includes("/") ? `LoadBalancer Service ${conflict.holder}` : conflict.holder;
        const msg = `port ${conflict.port} is already used by ${by} on the nodes; this Service gets no load balancer until it is free`;
        if (reported.get(key) !== msg) {
          reported.set(key, msg);
          await recorder.event(svc, "Warning", "PortConflict", msg);
        }
      } else {
        const pool = servingNodes(svc, nodes.list());
        const local = svc.spec?.externalTrafficPolicy === "Local" ? endpointNodes(svc) : undefined;
        want = [...new Set([...pool].filter(([name]) => !local || local.has(name)).map(([, ip]) => ip))].sort().map((ip) => ({ ip }));
        const msg = pool.size === 0 && poolNodes(nodes.list()).size > 0 ? `ports ${INGRESS_PORTS.join(", ")} are used by the ingress proxy on every node that serves LoadBalancers` : "";
        if (!msg) reported.delete(key);
        else if (reported.get(key) !== msg) {
          reported.set(key, msg);
          await recorder.event(svc, "Warning", "PortConflict", msg);
        }
      }
    }
    if (JSON.stringify(want) === JSON.stringify(have)) return;
    await ctx.client.resource<Service>(refs.services, svc.metadata!.namespace).updateStatus({ ...svc, status: { ...svc.status, loadBalancer: want.length ? { ingress: want } : {} } });
  }
  return { name: "servicelb", run: () => run(sync) };
}
