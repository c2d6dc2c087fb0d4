// Endpoints and EndpointSlice controllers in one: for every Service with a selector, keep an Endpoints object
// (ready addresses vs notReadyAddresses) and EndpointSlices (discovery.k8s.io/v1, ≤100 endpoints each, labelled
// kubernetes.io/service-name and managed-by endpointslice-controller.k8s.io) in step with the matching pods.

import type { EndpointSlice, Endpoint as SliceEndpoint } from "kubernetes-types/discovery/v1";
import type { EndpointAddress, EndpointSubset, Endpoints, Pod, Service } from "kubernetes-types/core/v1";
import { indexers, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";
import { keyOf, newControllerRef, splitKey } from "../util/owners.ts";
import { mapSelectorMatches } from "../util/selector.ts";
import { desiredGroups, isHeadless, type DesiredEndpoint } from "./desired.ts";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
export const MANAGED_BY = "endpointslice-controller.k8s.io";
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

function sliceEndpoint(e: DesiredEndpoint): SliceEndpoint {
  const out: SliceEndpoint = {
    addresses: [e.ip],
    conditions: { ready: e.ready, serving: e.serving, terminating: e.terminating },
    nodeName: e.pod.spec?.nodeName,
    targetRef: { kind: "Pod", namespace: e.pod.metadata?.namespace, name: e.pod.metadata?.name, uid: e.pod.metadata?.uid },
  };
  if (e.hostname) out.hostname = e.hostname;
  return out;
}

export function newEndpointsController(ctx: ControllerContext): Controller {
  const svcInf: Informer<Service> = ctx.informers.informerFor<Service>(refs.services);
  const podInf: Informer<Pod> = ctx.informers.informerFor<Pod>(refs.pods);
  const epInf: Informer<Endpoints> = ctx.informers.informerFor<Endpoints>(refs.endpoints);
  const sliceInf: Informer<EndpointSlice> = ctx.informers.informerFor<EndpointSlice>(refs.endpointslices);
  podInf.addIndexer("namespace", indexers.byNamespace);
  svcInf.addIndexer("namespace", indexers.byNamespace);
  sliceInf.addIndexer("service", (s) => {
    const name = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    return name && s.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY ? [`${s.metadata!.namespace}/${name}`] : [];
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
  epInf.addEventHandler({ onUpdate: (_o, e) => queue.add(keyOf(e)), onDelete: (e) => queue.add(keyOf(e)) });
  sliceInf.addEventHandler({
    onAdd: (s) => {
      const k = `${s.metadata!.namespace}/${s.metadata?.labels?.[SERVICE_NAME_LABEL]}`;
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

  async function syncSlices(svc: Service, pods: Pod[]): Promise<void> {
    const ns = svc.metadata!.namespace!;
    const name = svc.metadata!.name!;
    const c = ctx.client.resource<EndpointSlice>(refs.endpointslices, ns);
    const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}), [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY };
    if (isHeadless(svc)) labels[HEADLESS_LABEL] = "";
    const want: { ports: EndpointSlice["ports"]; endpoints: SliceEndpoint[] }[] = [];
    for (const g of desiredGroups(svc, pods, true)) {
      for (let i = 0; i < g.endpoints.length; i += MAX_PER_SLICE) {
        want.push({ ports: g.ports as EndpointSlice["ports"], endpoints: g.endpoints.slice(i, i + MAX_PER_SLICE).map(sliceEndpoint) });
      }
    }
    // A Service with no endpoints still gets one (empty) slice, as upstream.
    if (!want.length) want.push({ ports: [], endpoints: [] });
    // Slices created but not yet in the cache count as existing, so a slow watch never duplicates them.
    const cached = sliceInf.byIndex("service", `${ns}/${name}`);
    const pending = (recent.get(`${ns}/${name}`) ?? []).filter((r) => !cached.some((c) => c.metadata?.name === r.metadata?.name));
    const existing = [...cached, ...pending]
      .filter((s) => s.metadata?.ownerReferences?.some((r) => r.uid === svc.metadata?.uid) ?? true)
      .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
    for (let i = 0; i < want.length; i++) {
      const w = want[i]!;
      const cur = existing[i];
      if (!cur) {
        const made = await c.create({
          apiVersion: "discovery.k8s.io/v1",
          kind: "EndpointSlice",
          metadata: { generateName: `${name}-`, namespace: ns, labels, ownerReferences: [newControllerRef(svc, "v1", "Service")] },
          addressType: "IPv4",
          endpoints: w.endpoints,
          ports: w.ports,
        });
        const k = `${ns}/${name}`;
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

  async function sync(key: string): Promise<void> {
    const svc = svcInf.get(key);
    const { namespace, name } = splitKey(key);
    if (!svc) {
      recent.delete(key);
      // Endpoints of a deleted Service go with it (slices are owned, the garbage collector removes them).
      if (epInf.getByName(namespace, name)) {
        await ctx.client.resource<Endpoints>(refs.endpoints, namespace).delete(name).catch(ignore404);
      }
      return;
    }
    // Services without a selector have user-managed endpoints.
    if (!svc.spec?.selector || !Object.keys(svc.spec.selector).length || svc.spec.type === "ExternalName") return;
    const pods = podInf.byIndex("namespace", namespace!).filter((p) => mapSelectorMatches(svc.spec!.selector, p.metadata?.labels));
    await syncEndpoints(svc, pods);
    await syncSlices(svc, pods);
  }

  return { name: "endpoints", run: () => run(sync) };
}
