// Ingress status: every Ingress of a class served by kubun's ingress proxy (controller kubun.dev/ingress) gets the
// addresses of the nodes it can be reached on in status.loadBalancer.ingress — every Ready node whose agent runs the
// proxy (all but those labelled kubun.dev/ingress=false; ExternalIP when a node has one, else InternalIP), sorted
// so that all servers agree. One writer
// (the controller manager's leader) keeps it converged when nodes come, go or change readiness.
import type { Node } from "kubernetes-types/core/v1";
import type { Ingress, IngressClass } from "kubernetes-types/networking/v1";
import { keyOf, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { INGRESS_CONTROLLER, INGRESS_NODE_LABEL, INGRESS_REFS } from "../../api/ingress.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";

/** The address a node is reached on from outside: ExternalIP, else InternalIP. */
export function nodeAddress(n: Node): string | undefined {
  const addrs = n.status?.addresses ?? [];
  return addrs.find((a) => a.type === "ExternalIP")?.address ?? addrs.find((a) => a.type === "InternalIP")?.address;
}

const ready = (n: Node) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** The status.loadBalancer.ingress list for the current nodes. */
export function ingressAddresses(nodes: Node[]): { ip: string }[] {
  const ips = new Set<string>();
  for (const n of nodes) {
    const serves = n.metadata?.labels?.[INGRESS_NODE_LABEL] !== "false";
    const ip = serves && ready(n) && !n.metadata?.deletionTimestamp ? nodeAddress(n) : undefined;
    if (ip) ips.add(ip);
  }
  return [...ips].sort().map((ip) => ({ ip }));
}

export function newIngressStatusController(ctx: ControllerContext): Controller {
  const ingresses: Informer<Ingress> = ctx.informers.informerFor(INGRESS_REFS.ingresses);
  const classes: Informer<IngressClass> = ctx.informers.informerFor(INGRESS_REFS.ingressclasses);
  const nodes: Informer<Node> = ctx.informers.informerFor(refs.nodes);
  const { queue, run } = controllerQueue(ctx, "ingress-status");
  const all = () => {
    for (const i of ingresses.list()) queue.add(keyOf(i));
  };
  ingresses.addEventHandler({ onAdd: (i) => queue.add(keyOf(i)), onUpdate: (_o, i) => queue.add(keyOf(i)) });
  classes.addEventHandler({ onAdd: all, onUpdate: all, onDelete: all });
  // Only a change of the address list matters; heartbeats update nodes every few seconds.
  let last = "";
  const nodesChanged = () => {
    const now = JSON.stringify(ingressAddresses(nodes.list()));
    if (now !== last) {
      last = now;
      all();
    }
  };
  nodes.addEventHandler({ onAdd: nodesChanged, onUpdate: nodesChanged, onDelete: nodesChanged });

  async function sync(key: string): Promise<void> {
    const ing = ingresses.get(key);
    if (!ing || ing.metadata?.deletionTimestamp) return;
    const cls = ing.spec?.ingressClassName ? classes.get(ing.spec.ingressClassName) : undefined;
    if (cls?.spec?.controller !== INGRESS_CONTROLLER) return; // another controller's (or no class): not ours
    const want = ingressAddresses(nodes.list());
    const have = (ing.status?.loadBalancer?.ingress ?? []).map((i) => ({ ip: i.ip }));
    if (JSON.stringify(want) === JSON.stringify(have)) return;
    await ctx.client.resource<Ingress>(INGRESS_REFS.ingresses, ing.metadata!.namespace).updateStatus({ ...ing, status: { ...ing.status, loadBalancer: { ingress: want } } });
  }
  return { name: "ingress-status", run: () => run(sync) };
}
