// ResourceQuota controller: keeps status.hard (copied from spec) and status.used (current usage in the
// namespace: pod counts and cpu/memory/ephemeral-storage requests and limits, object counts, storage
// requests, node ports) so `kubectl describe quota` is right. Enforcement at admission is not done here.

import type { PersistentVolumeClaim, Pod, ResourceQuota, Service } from "kubernetes-types/core/v1";
import { findResource, RESOURCES } from "../../api/resources.ts";
import { formatQuantity, parseQuantity } from "../../api/quantity.ts";
import { indexers, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import type { ResourceRef } from "../../client/types.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";
import { keyOf } from "../../client/informer.ts";

const RQ = findResource("", "v1", "resourcequotas")!;
const rqRef: ResourceRef = { group: RQ.group, version: RQ.version, resource: RQ.resource, namespaced: RQ.namespaced };
/** Upstream's legacy names for object counts. */
const LEGACY_COUNTS: Record<string, string> = {
  pods: "pods",
  services: "services",
  configmaps: "configmaps",
  secrets: "secrets",
  persistentvolumeclaims: "persistentvolumeclaims",
  resourcequotas: "resourcequotas",
  replicationcontrollers: "replicationcontrollers",
};
const RESYNC_MS = 5 * 60_000;

const active = (p: Pod) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";

/** Sum of a resource over a pod's containers, as upstream's PodUsageFunc (max with init containers). */
function podAmount(p: Pod, kind: "requests" | "limits", resource: string): number {
  const sum = (p.spec?.containers ?? []).reduce((n, c) => n + (c.resources?.[kind]?.[resource] ? parseQuantity(c.resources[kind]![resource]!, resource) : 0), 0);
  const init = Math.max(0, ...(p.spec?.initContainers ?? []).map((c) => (c.resources?.[kind]?.[resource] ? parseQuantity(c.resources[kind]![resource]!, resource) : 0)));
  return Math.max(sum, init);
}

export function newResourceQuotaController(ctx: ControllerContext): Controller {
  const log = ctx.log.child("resourcequota");
  const rqInf: Informer<ResourceQuota> = ctx.informers.informerFor<ResourceQuota>(rqRef);
  const podInf: Informer<Pod> = ctx.informers.informerFor<Pod>(refs.pods);
  podInf.addIndexer("namespace", indexers.byNamespace);
  rqInf.addIndexer("namespace", indexers.byNamespace);
  const { queue, run } = controllerQueue(ctx, "resourcequota");

  rqInf.addEventHandler({ onAdd: (q) => queue.add(keyOf(q)), onUpdate: (_o, q) => queue.add(keyOf(q)) });
  const podEvent = (p: Pod) => {
    for (const q of rqInf.byIndex("namespace", p.metadata?.namespace ?? "")) queue.add(keyOf(q));
  };
  podInf.addEventHandler({
    onAdd: podEvent,
    onUpdate: (o, p) => {
      if (o.status?.phase !== p.status?.phase || !!o.metadata?.deletionTimestamp !== !!p.metadata?.deletionTimestamp) podEvent(p);
    },
    onDelete: podEvent,
  });

  async function count(resource: string, group: string, ns: string): Promise<number | undefined> {
    const ri = RESOURCES.find((r) => r.resource === resource && r.group === group && r.namespaced && !r.virtual);
    if (!ri) return undefined;
    const list = await ctx.client.resource<any>({ group: ri.group, version: ri.version, resource: ri.resource, namespaced: true }, ns).list();
    return list.items.length;
  }

  async function usage(name: string, ns: string, pods: Pod[]): Promise<string | undefined> {
    const m = /^(requests|limits)\.(.+)$/.exec(name);
    const compute = m ? { kind: m[1] as "requests" | "limits", res: m[2]! } : ["cpu", "memory", "ephemeral-storage"].includes(name) ? { kind: "requests" as const, res: name } : undefined;
    if (compute && compute.res !== "storage") {
      const total = pods.reduce((n, p) => n + podAmount(p, compute.kind, compute.res), 0);
      return compute.res === "cpu" ? formatQuantity(total, { milli: true }) : formatQuantity(total, { binary: true });
    }
    if (name === "requests.storage") {
      const pvcs = (await ctx.client.resource<PersistentVolumeClaim>(refs.persistentvolumeclaims, ns).list()).items;
      return formatQuantity(pvcs.reduce((n, c) => n + (c.spec?.resources?.requests?.storage ? parseQuantity(c.spec.resources.requests.storage, "storage") : 0), 0), { binary: true });
    }
    if (name === "pods" || name === "count/pods") return String(pods.length);
    if (name === "services.nodeports" || name === "services.loadbalancers") {
      const svcs = (await ctx.client.resource<Service>(refs.services, ns).list()).items;
      if (name === "services.loadbalancers") return String(svcs.filter((s) => s.spec?.type === "LoadBalancer").length);
      return String(svcs.reduce((n, s) => n + (s.spec?.ports ?? []).filter((p) => p.nodePort).length, 0));
    }
    if (LEGACY_COUNTS[name]) return (await count(LEGACY_COUNTS[name]!, "", ns))?.toString();
    const c = /^count\/([^.]+)(?:\.(.+))?$/.exec(name);
    if (c) return (await count(c[1]!, c[2] ?? "", ns))?.toString();
    return undefined;
  }

  async function sync(key: string): Promise<void> {
    const q = rqInf.get(key);
    if (!q) return;
    const ns = q.metadata!.namespace!;
    const pods = podInf.byIndex("namespace", ns).filter(active);
    const hard = q.spec?.hard ?? {};
    const used: Record<string, string> = {};
    for (const name of Object.keys(hard)) {
      try {
        const u = await usage(name, ns, pods);
        if (u !== undefined) used[name] = u;
      } catch (e) {
        log.debug("quota usage failed", { quota: key, resource: name, error: e as Error });
      }
    }
    const status = { hard: { ...hard }, used };
    if (JSON.stringify(status) === JSON.stringify({ hard: q.status?.hard ?? {}, used: q.status?.used ?? {} })) return;
    await ctx.client.resource<ResourceQuota>(rqRef, ns).updateStatus({ ...structuredClone(q), status });
  }

  return {
    name: "resourcequota",
    async run() {
      // Object counts of kinds not watched here are refreshed periodically, as upstream's resync.
      const timer = setInterval(() => rqInf.keys().forEach((k) => queue.add(k)), RESYNC_MS);
      ctx.signal.addEventListener("abort", () => clearInterval(timer), { once: true });
      await run(sync);
    },
  };
}
