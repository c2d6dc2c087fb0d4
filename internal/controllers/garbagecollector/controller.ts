// Garbage collector: deletes objects whose owners are gone (background), deletes blocking dependents before
// their owner when it carries the `foregroundDeletion` finalizer, and strips owner references from dependents
// when the owner carries `orphan` — over every listable resource in the registry, as upstream.

import type { OwnerReference } from "kubernetes-types/meta/v1";
import { RESOURCES, groupVersion, findKind, isBuiltin, onResourcesChanged, type ResourceInfo } from "../../api/resources.ts";
import { Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError, type ResourceRef } from "../../client/types.ts";
import { WorkQueue } from "../../client/workqueue.ts";
import { logger } from "../../log/log.ts";
import type { Controller, ControllerContext } from "../context.ts";
import { metadataOnly } from "./metaonly.ts";

const FOREGROUND = "foregroundDeletion";
const ORPHAN = "orphan";

/** Resources other controllers already watch in full (cluster-wide, unfiltered): the GC shares those informers. */
const SHARED = new Set(
  [refs.pods, refs.replicasets, refs.replicationcontrollers, refs.deployments, refs.daemonsets, refs.statefulsets, refs.controllerrevisions, refs.jobs, refs.cronjobs, refs.nodes, refs.namespaces, refs.services, refs.endpoints, refs.endpointslices, refs.serviceaccounts, refs.poddisruptionbudgets].map(
    (r) => `${r.group}/${r.resource}`,
  ),
);
/** Upstream's default ignored resources. */
const IGNORED = new Set(["/events", "events.k8s.io/events"]);

interface GCNode {
  ri: ResourceInfo;
  uid: string;
  name: string;
  namespace?: string;
  owners: OwnerReference[];
  finalizers: string[];
  deleting: boolean;
}

export function gcResources(): ResourceInfo[] {
  return RESOURCES.filter(
    (ri) => !ri.virtual && !ri.computed && ri.verbs.includes("list") && ri.verbs.includes("watch") && !IGNORED.has(`${ri.group}/${ri.resource}`),
  );
}

const toRef = (ri: ResourceInfo): ResourceRef => ({ group: ri.group, version: ri.version, resource: ri.resource, namespaced: ri.namespaced });

function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf("/");
  return i < 0 ? "" : apiVersion.slice(0, i);
}

export function newGarbageCollector(ctx: ControllerContext): Controller {
  const log = logger("controller.garbagecollector");
  const nodes = new Map<string, GCNode>();
  const dependents = new Map<string, Set<string>>();
  const deleteQueue = new WorkQueue<string>({ name: "garbagecollector-delete", log });
  const orphanQueue = new WorkQueue<string>({ name: "garbagecollector-orphan", log });
  const own: Informer<any>[] = [];
  const shared: Informer<any>[] = [];

  const client = (ri: ResourceInfo, ns?: string) => ctx.client.resource<any>(toRef(ri), ri.namespaced ? ns : undefined);

  function link(owner: string, dep: string, add: boolean) {
    let s = dependents.get(owner);
    if (add) {
      if (!s) dependents.set(owner, (s = new Set()));
      s.add(dep);
    } else if (s) {
      s.delete(dep);
      if (!s.size) dependents.delete(owner);
    }
  }

  function observe(ri: ResourceInfo, obj: any) {
    const m = obj.metadata ?? {};
    if (!m.uid) return;
    const n: GCNode = {
      ri,
      uid: m.uid,
      name: m.name,
      namespace: m.namespace,
      owners: m.ownerReferences ?? [],
      finalizers: m.finalizers ?? [],
      deleting: !!m.deletionTimestamp,
    };
    const prev = nodes.get(n.uid);
    for (const r of prev?.owners ?? []) link(r.uid, n.uid, false);
    for (const r of n.owners) link(r.uid, n.uid, true);
    nodes.set(n.uid, n);
    // Owners we have not seen (yet) are verified against the API.
    if (n.owners.some((r) => !nodes.has(r.uid) || nodes.get(r.uid)!.deleting)) deleteQueue.add(n.uid);
    if (prev && prev.owners.length !== n.owners.length) deleteQueue.add(n.uid);
    if (n.deleting && n.finalizers.includes(ORPHAN)) orphanQueue.add(n.uid);
    if (n.deleting && n.finalizers.includes(FOREGROUND)) {
      deleteQueue.add(n.uid);
      for (const d of dependents.get(n.uid) ?? []) deleteQueue.add(d);
    }
    // An owner that just started being deleted: its dependents must look again.
    if (n.deleting && !prev?.deleting) for (const d of dependents.get(n.uid) ?? []) deleteQueue.add(d);
  }

  function forget(obj: any) {
    const uid = obj.metadata?.uid;
    const n = uid && nodes.get(uid);
    if (!n) return;
    nodes.delete(uid);
    for (const r of n.owners) {
      link(r.uid, uid, false);
      // A foreground owner may now be free of blocking dependents.
      const o = nodes.get(r.uid);
      if (o?.deleting && o.finalizers.includes(FOREGROUND)) deleteQueue.add(o.uid);
    }
    for (const d of dependents.get(uid) ?? []) deleteQueue.add(d);
  }

  // Resources added at run time (CRD versions) get their own informer; removed ones stop theirs.
  const dynamic = new Map<string, { inf: Informer<any>; stop: AbortController }>();
  let running = false;

  function monitor(ri: ResourceInfo): Informer<any> {
    const key = `${ri.group}/${ri.resource}`;
    let inf: Informer<any>;
    if (SHARED.has(key)) {
      inf = ctx.informers.informerFor(toRef(ri));
      shared.push(inf);
    } else {
      inf = new Informer<any>(metadataOnly(ctx.client.resource(toRef(ri)), groupVersion(ri), ri.kind), {
        name: `gc.${ri.resource}`,
        log: log.child(ri.resource),
      });
      own.push(inf);
    }
    inf.addEventHandler({
      onAdd: (o) => observe(ri, o),
      onUpdate: (_old, o) => observe(ri, o),
      onDelete: (o) => forget(o),
    });
    return inf;
  }

  for (const ri of gcResources()) {
    if (isBuiltin(ri)) monitor(ri);
    else follow("added", ri);
  }

  function follow(type: string, ri: ResourceInfo): void {
    if (ctx.signal.aborted || isBuiltin(ri) || ri.virtual || ri.computed) return;
    const key = `${ri.group}/${ri.version}/${ri.resource}`;
    const prev = dynamic.get(key);
    if (prev) {
      prev.stop.abort();
      own.splice(own.indexOf(prev.inf), 1);
      dynamic.delete(key);
    }
    if (type === "removed") {
      for (const [uid, n] of nodes) if (n.ri.group === ri.group && n.ri.version === ri.version && n.ri.resource === ri.resource) forget({ metadata: { uid } });
      return;
    }
    const inf = monitor(ri);
    const stop = new AbortController();
    ctx.signal.addEventListener("abort", () => stop.abort(), { once: true });
    dynamic.set(key, { inf, stop });
    if (running) void inf.run(stop.signal);
  }
  const offRegistry = onResourcesChanged(({ type, resource }) => follow(type, resource));
  const signalOf = (inf: Informer<any>) => [...dynamic.values()].find((d) => d.inf === inf)?.stop.signal ?? ctx.signal;
  ctx.signal.addEventListener("abort", () => offRegistry(), { once: true });

  type Owner = { ref: OwnerReference; state: "solid" | "dangling" | "waiting" };

  async function classify(n: GCNode): Promise<Owner[]> {
    const out: Owner[] = [];
    for (const ref of n.owners) {
      const cached = nodes.get(ref.uid);
      if (cached) {
        out.push({ ref, state: cached.deleting && cached.finalizers.includes(FOREGROUND) ? "waiting" : "solid" });
        continue;
      }
      const ri = findKind(groupOf(ref.apiVersion), ref.kind);
      if (!ri) {
        out.push({ ref, state: "solid" }); // unknown kind: never delete on a guess
        continue;
      }
      if (ri.namespaced && !n.namespace) {
        // Upstream reports OwnerRefInvalidNamespace and leaves such objects alone: never delete on an invalid reference.
        log.warn("cluster-scoped object has a namespaced owner; ignoring the reference", { kind: n.ri.kind, name: n.name, owner: `${ref.kind}/${ref.name}` });
        out.push({ ref, state: "solid" });
        continue;
      }
      try {
        const owner = await client(ri, n.namespace).get(ref.name);
        const m = owner?.metadata ?? {};
        if (m.uid !== ref.uid) out.push({ ref, state: "dangling" });
        else out.push({ ref, state: m.deletionTimestamp && (m.finalizers ?? []).includes(FOREGROUND) ? "waiting" : "solid" });
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) out.push({ ref, state: "dangling" });
        else throw e;
      }
    }
    return out;
  }

  async function latest(n: GCNode): Promise<any | undefined> {
    try {
      const o = await client(n.ri, n.namespace).get(n.name);
      return o?.metadata?.uid === n.uid ? o : undefined;
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
  }

  async function removeFinalizer(n: GCNode, finalizer: string): Promise<void> {
    const o = await latest(n);
    const fins: string[] = o?.metadata?.finalizers ?? [];
    if (!o || !fins.includes(finalizer)) return;
    await client(n.ri, n.namespace).patch(n.name, "json", [
      { op: "test", path: "/metadata/finalizers", value: fins },
      { op: "replace", path: "/metadata/finalizers", value: fins.filter((f) => f !== finalizer) },
    ]);
    log.info("removed finalizer", { kind: n.ri.kind, namespace: n.namespace, name: n.name, finalizer });
  }

  async function removeOwnerRefs(n: GCNode, uids: Set<string>): Promise<void> {
    const o = await latest(n);
    if (!o) return;
    const cur: OwnerReference[] = o.metadata?.ownerReferences ?? [];
    const keep = cur.filter((r) => !uids.has(r.uid));
    if (keep.length === cur.length) return;
    const ops: any[] = [{ op: "test", path: "/metadata/ownerReferences", value: cur }];
    ops.push(keep.length ? { op: "replace", path: "/metadata/ownerReferences", value: keep } : { op: "remove", path: "/metadata/ownerReferences" });
    await client(n.ri, n.namespace).patch(n.name, "json", ops);
  }

  async function deleteObject(n: GCNode, policy: "Background" | "Foreground" | "Orphan"): Promise<void> {
    try {
      await client(n.ri, n.namespace).delete(n.name, { propagationPolicy: policy, preconditions: { uid: n.uid } });
      log.info("deleted dependent", { kind: n.ri.kind, namespace: n.namespace, name: n.name, policy });
    } catch (e) {
      if (e instanceof ApiError && (e.code === 404 || e.code === 409)) return;
      throw e;
    }
  }

  async function attemptToDelete(uid: string): Promise<void> {
    const n = nodes.get(uid);
    if (!n) return;
    if (n.deleting) {
      if (!n.finalizers.includes(FOREGROUND)) return;
      // Foreground: the owner goes once no dependent blocks it.
      const blocking = [...(dependents.get(uid) ?? [])]
        .map((d) => nodes.get(d))
        .filter((d): d is GCNode => !!d && d.owners.some((r) => r.uid === uid && r.blockOwnerDeletion));
      if (!blocking.length) return removeFinalizer(n, FOREGROUND);
      for (const d of blocking) if (!d.deleting) deleteQueue.add(d.uid);
      return;
    }
    if (!n.owners.length) return;
    const owners = await classify(n);
    const solid = owners.filter((o) => o.state === "solid");
    const gone = owners.filter((o) => o.state !== "solid");
    if (solid.length) {
      if (gone.length) await removeOwnerRefs(n, new Set(gone.map((o) => o.ref.uid)));
      return;
    }
    const waiting = owners.some((o) => o.state === "waiting");
    if (waiting && (dependents.get(uid)?.size ?? 0) > 0) return deleteObject(n, "Foreground");
    if (n.finalizers.includes(ORPHAN)) return deleteObject(n, "Orphan");
    if (n.finalizers.includes(FOREGROUND)) return deleteObject(n, "Foreground");
    return deleteObject(n, "Background");
  }

  async function attemptToOrphan(uid: string): Promise<void> {
    const n = nodes.get(uid);
    if (!n || !n.deleting || !n.finalizers.includes(ORPHAN)) return;
    for (const d of [...(dependents.get(uid) ?? [])]) {
      const dep = nodes.get(d);
      if (dep) await removeOwnerRefs(dep, new Set([uid]));
    }
    await removeFinalizer(n, ORPHAN);
  }

  return {
    name: "garbagecollector",
    async run() {
      running = true;
      for (const inf of own) void inf.run(signalOf(inf));
      const synced = Promise.all([...own, ...shared].map((i) => i.synced));
      const ok = await Promise.race([
        synced.then(() => true),
        new Promise<boolean>((r) => ctx.signal.addEventListener("abort", () => r(false), { once: true })),
      ]);
      if (!ok) return;
      log.info("garbage collector synced", { resources: own.length + shared.length, objects: nodes.size });
      await Promise.all([
        deleteQueue.runWorkers(ctx.options.workers ?? 2, attemptToDelete, ctx.signal),
        orphanQueue.runWorkers(1, attemptToOrphan, ctx.signal),
      ]);
    },
  };
}
