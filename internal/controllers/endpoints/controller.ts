// Endpoints and EndpointSlice controllers in one: for every Service with a selector, keep an Endpoints object
// (ready addresses vs notReadyAddresses) and EndpointSlices (discovery.k8s.io/v1, ≤100 endpoints each, labelled
// kubernetes.io/service-name and managed-by endpointslice-controller.k8s.io) in step with the matching pods.

import type { EndpointSlice, Endpoint as SliceEndpoint } from "kubernetes-types/discovery/v1";
import type { EndpointAddress, EndpointSubset, Endpoints, Node, Pod, Service } from "kubernetes-types/core/v1";
import { indexers, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";
import { keyOf, splitKey } from "../../client/informer.ts";
import { newControllerRef } from "../../api/meta.ts";
import { mapSelectorMatches } from "../util/selector.ts";
import { desiredGroups, isHeadless, type DesiredEndpoint } from "./desired.ts";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
export const MANAGED_BY = "endpointslice-controller.k8s.io";
export const MIRRORED_BY = "endpointslicemirroring-controller.k8s.io";
const SKIP_MIRROR = "endpointslice.kubernetes.io/skip-mirror";
const HEADLESS_LABEL = "service.kubernetes.io/headless";
const MAX_PER_SLICE = 100;

function address(e: DesiredEndpoint): EndpointAddress {
  const a: EndpointAddress = {
    ip: e.ip,
    nodeName: e.pod.spec?.nodeName,
    targetRef: { kind: "Pod", namespace: e.pod.metadata?.namespace, name: e.pod.metadata?.name, uid: e.pod.metadata?.uid },
  };
  if (e.hostname) a.hostname = e.hostname;
  return a;
}

export function desiredEndpoints(svc: Service, pods: Pod[]): EndpointSubset[] {
  const subsets: EndpointSubset[] = [];
  for (const g of desiredGroups(svc, pods, false)) {
    const ready = g.endpoints.filter((e) => e.ready).map(address);
    const notReady = g.endpoints.filter((e) => !e.ready).map(address);
    const s: EndpointSubset = {};
    if (ready.length) s.addresses = ready;
    if (notReady.length) s.notReadyAddresses = notReady;
    if (g.ports.length) s.ports = g.ports;
    if (ready.length || notReady.length) subsets.push(s);
  }
  return subsets;
}

function sliceEndpoint(e: DesiredEndpoint, zoneOf: (node?: string) => string | undefined): SliceEndpoint {
  const out: SliceEndpoint = {
    addresses: [e.ip],
    conditions: { ready: e.ready, serving: e.serving, terminating: e.terminating },
    nodeName: e.pod.spec?.nodeName,
    targetRef: { kind: "Pod", namespace: e.pod.metadata?.namespace, name: e.pod.metadata?.name, uid: e.pod.metadata?.uid },
  };
  if (e.hostname) out.hostname = e.hostname;
  const zone = zoneOf(e.pod.spec?.nodeName);
  if (zone) out.zone = zone;
  return out;
}

export function newEndpointsController(ctx: ControllerContext): Controller {
  const svcInf: Informer<Service> = ctx.informers.informerFor<Service>(refs.services);
  const podInf: Informer<Pod> = ctx.informers.informerFor<Pod>(refs.pods);
  const epInf: Informer<Endpoints> = ctx.informers.informerFor<Endpoints>(refs.endpoints);
  const sliceInf: Informer<EndpointSlice> = ctx.informers.informerFor<EndpointSlice>(refs.endpointslices);
  // Endpoints carry their node's zone (topology.kubernetes.io/zone) for topology-aware routing.
  const nodeInf: Informer<Node> = ctx.informers.informerFor<Node>(refs.nodes);
  const zoneOf = (node?: string) => (node ? nodeInf.get(node)?.metadata?.labels?.["topology.kubernetes.io/zone"] : undefined);
  podInf.addIndexer("namespace", indexers.byNamespace);
  svcInf.addIndexer("namespace", indexers.byNamespace);
  // "<managed-by>|<namespace>/<service>" for the slices this controller (or its mirroring half) manages.
  sliceInf.addIndexer("service", (s) => {
    const name = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    const by = s.metadata?.labels?.[MANAGED_BY_LABEL];
    return name && (by === MANAGED_BY || by === MIRRORED_BY) ? [`${by}|${s.metadata!.namespace}/${name}`] : [];
  });
  const { queue, run } = controllerQueue(ctx, "endpoints");
  const recent = new Map<string, EndpointSlice[]>();

  svcInf.addEventHandler({
    onAdd: (s) => queue.add(keyOf(s)),
    onUpdate: (_o, s) => queue.add(keyOf(s)),
    onDelete: (s) => queue.add(keyOf(s)),
  });
  const podChanged = (pod: Pod, labels = pod.metadata?.labels) => {
    for (const s of svcInf.byIndex("namespace", pod.metadata?.namespace ?? "")) {
      if (mapSelectorMatches(s.spec?.selector, labels)) queue.add(keyOf(s));
    }
  };
  podInf.addEventHandler({
    onAdd: (p) => podChanged(p),
    onUpdate: (o, p) => {
      podChanged(p);
      if (JSON.stringify(o.metadata?.labels) !== JSON.stringify(p.metadata?.labels)) podChanged(o, o.metadata?.labels);
    },
    onDelete: (p) => podChanged(p),
  });
  // Someone else changed or removed what we manage: put it back.
  // (and Endpoints of selector-less Services are mirrored into slices).
  epInf.addEventHandler({ onAdd: (e) => queue.add(keyOf(e)), onUpdate: (_o, e) => queue.add(keyOf(e)), onDelete: (e) => queue.add(keyOf(e)) });
  sliceInf.addEventHandler({
    onAdd: (s) => {
      const k = `${s.metadata?.labels?.[MANAGED_BY_LABEL]}|${s.metadata!.namespace}/${s.metadata?.labels?.[SERVICE_NAME_LABEL]}`;
      const r = recent.get(k)?.filter((x) => x.metadata?.name !== s.metadata?.name);
      if (r?.length) recent.set(k, r);
      else recent.delete(k);
    },
    onUpdate: (_o, s) => {
      const n = s.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (n) queue.add(`${s.metadata!.namespace}/${n}`);
    },
    onDelete: (s) => {
      const n = s.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (n) queue.add(`${s.metadata!.namespace}/${n}`);
    },
  });

  const ignore404 = (e: unknown) => {
    if (!(e instanceof ApiError && e.code === 404)) throw e;
  };

  async function syncEndpoints(svc: Service, pods: Pod[]): Promise<void> {
    const ns = svc.metadata!.namespace!;
    const name = svc.metadata!.name!;
    const c = ctx.client.resource<Endpoints>(refs.endpoints, ns);
    const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
    if (isHeadless(svc)) labels[HEADLESS_LABEL] = "";
    const subsets = desiredEndpoints(svc, pods);
    const cur = epInf.getByName(ns, name);
    if (!cur) {
      try {
        await c.create({ apiVersion: "v1", kind: "Endpoints", metadata: { name, namespace: ns, labels }, subsets });
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 409)) throw e;
      }
      return;
    }
    if (JSON.stringify(cur.subsets ?? []) === JSON.stringify(subsets) && JSON.stringify(cur.metadata?.labels ?? {}) === JSON.stringify(labels)) return;
    const next = structuredClone(cur);
    next.subsets = subsets;
    next.metadata!.labels = labels;
    await c.update(next);
  }

  type SliceWant = { ports: EndpointSlice["ports"]; endpoints: SliceEndpoint[] };

  /** Desired slices for a selector Service: pods grouped by resolved ports, ≤100 endpoints per slice. */
  function slicesFromPods(svc: Service, pods: Pod[]): SliceWant[] {
    const want: SliceWant[] = [];
    for (const g of desiredGroups(svc, pods, true)) {
      for (let i = 0; i < g.endpoints.length; i += MAX_PER_SLICE) {
        want.push({ ports: g.ports as EndpointSlice["ports"], endpoints: g.endpoints.slice(i, i + MAX_PER_SLICE).map((e) => sliceEndpoint(e, zoneOf)) });
      }
    }
    return want;
  }

  /** Desired slices mirroring a selector-less Service's hand-written Endpoints (upstream endpointslicemirroring). */
  function slicesFromEndpoints(ep: Endpoints): SliceWant[] {
    const want: SliceWant[] = [];
    for (const sub of ep.subsets ?? []) {
      const all: SliceEndpoint[] = [];
      const add = (a: EndpointAddress, ready: boolean) => {
        const e: SliceEndpoint = { addresses: [a.ip], conditions: { ready } };
        if (a.nodeName) e.nodeName = a.nodeName;
        if (a.hostname) e.hostname = a.hostname;
        if (a.targetRef) e.targetRef = a.targetRef;
        all.push(e);
      };
      for (const a of sub.addresses ?? []) add(a, true);
      for (const a of sub.notReadyAddresses ?? []) add(a, false);
      const ports = (sub.ports ?? []).map((p) => ({ ...p, protocol: p.protocol ?? "TCP" })) as EndpointSlice["ports"];
      for (let i = 0; i < all.length; i += MAX_PER_SLICE) want.push({ ports, endpoints: all.slice(i, i + MAX_PER_SLICE) });
    }
    return want;
  }

  async function syncSlices(
    svc: Service,
    want: SliceWant[],
    managedBy: string,
    owner: { obj: { metadata?: any }; apiVersion: string; kind: string },
    baseLabels: Record<string, string>,
  ): Promise<void> {
    const ns = svc.metadata!.namespace!;
    const name = svc.metadata!.name!;
    const c = ctx.client.resource<EndpointSlice>(refs.endpointslices, ns);
    const labels: Record<string, string> = { ...baseLabels, [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: managedBy };
    if (isHeadless(svc)) labels[HEADLESS_LABEL] = "";
    // A Service with no endpoints still gets one (empty) slice, as upstream.
    if (!want.length && managedBy === MANAGED_BY) want.push({ ports: [], endpoints: [] });
    // Slices created but not yet in the cache count as existing, so a slow watch never duplicates them.
    const k = `${managedBy}|${ns}/${name}`;
    const cached = sliceInf.byIndex("service", k);
    const pending = (recent.get(k) ?? []).filter((r) => !cached.some((c) => c.metadata?.name === r.metadata?.name));
    const existing = [...cached, ...pending]
      .filter((s) => s.metadata?.ownerReferences?.some((r) => r.uid === owner.obj.metadata?.uid) ?? true)
      .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
    for (let i = 0; i < want.length; i++) {
      const w = want[i]!;
      const cur = existing[i];
      if (!cur) {
        const made = await c.create({
          apiVersion: "discovery.k8s.io/v1",
          kind: "EndpointSlice",
          metadata: { generateName: `${name}-`, namespace: ns, labels, ownerReferences: [newControllerRef(owner.obj, owner.apiVersion, owner.kind)] },
          addressType: "IPv4",
          endpoints: w.endpoints,
          ports: w.ports,
        });
        recent.set(k, [...(recent.get(k) ?? []), made]);
        continue;
      }
      const same =
        JSON.stringify(cur.endpoints ?? []) === JSON.stringify(w.endpoints) &&
        JSON.stringify(cur.ports ?? []) === JSON.stringify(w.ports ?? []) &&
        JSON.stringify(cur.metadata?.labels ?? {}) === JSON.stringify(labels);
      if (same) continue;
      await c.update({ ...structuredClone(cur), endpoints: w.endpoints, ports: w.ports, metadata: { ...structuredClone(cur.metadata!), labels } });
    }
    for (const extra of existing.slice(want.length)) await c.delete(extra.metadata!.name!).catch(ignore404);
  }

  async function deleteSlices(ns: string, name: string, managedBy: string): Promise<void> {
    const c = ctx.client.resource<EndpointSlice>(refs.endpointslices, ns);
    for (const s of sliceInf.byIndex("service", `${managedBy}|${ns}/${name}`)) await c.delete(s.metadata!.name!).catch(ignore404);
  }

  async function sync(key: string): Promise<void> {
    const svc = svcInf.get(key);
    const { namespace, name } = splitKey(key);
    if (!svc) {
      recent.delete(`${MANAGED_BY}|${key}`);
      recent.delete(`${MIRRORED_BY}|${key}`);
      // Endpoints of a deleted Service go with it (slices are owned, the garbage collector removes them).
      if (epInf.getByName(namespace, name)) {
        await ctx.client.resource<Endpoints>(refs.endpoints, namespace).delete(name).catch(ignore404);
      }
      return;
    }
    if (svc.spec?.type === "ExternalName") return;
    // Services without a selector have user-managed Endpoints: mirror them into slices.
    if (!svc.spec?.selector || !Object.keys(svc.spec.selector).length) {
      const ep = epInf.getByName(namespace, name);
      if (!ep || ep.metadata?.labels?.[SKIP_MIRROR] === "true") return deleteSlices(namespace!, name, MIRRORED_BY);
      await syncSlices(svc, slicesFromEndpoints(ep), MIRRORED_BY, { obj: ep, apiVersion: "v1", kind: "Endpoints" }, ep.metadata?.labels ?? {});
      return deleteSlices(namespace!, name, MANAGED_BY);
    }
    const pods = podInf.byIndex("namespace", namespace!).filter((p) => mapSelectorMatches(svc.spec!.selector, p.metadata?.labels));
    await syncEndpoints(svc, pods);
    await syncSlices(svc, slicesFromPods(svc, pods), MANAGED_BY, { obj: svc, apiVersion: "v1", kind: "Service" }, svc.metadata?.labels ?? {});
    await deleteSlices(namespace!, name, MIRRORED_BY);
  }

  return { name: "endpoints", run: () => run(sync) };
}
