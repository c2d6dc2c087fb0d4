// Namespace controller: when a namespace is being deleted (deletionTimestamp, spec.finalizers ["kubernetes"]),
// deletes every namespaced object in it, reports progress in status conditions with upstream's reasons, and
// finalizes the namespace (PUT .../finalize without "kubernetes") once nothing is left.

import type { Namespace, NamespaceCondition } from "kubernetes-types/core/v1";
import { RESOURCES, type ResourceInfo } from "../../api/resources.ts";
import { resourcePath } from "../../client/client.ts";
import type { Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError, type ResourceRef } from "../../client/types.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";

const FINALIZER = "kubernetes";

export function namespacedResources(): ResourceInfo[] {
  // events.k8s.io/events shares storage with core events: delete through one of them only.
  return RESOURCES.filter((ri) => ri.namespaced && !ri.virtual && ri.verbs.includes("list") && !(ri.group === "events.k8s.io"));
}

const toRef = (ri: ResourceInfo): ResourceRef => ({ group: ri.group, version: ri.version, resource: ri.resource, namespaced: true });

function cond(type: string, failed: boolean, reason: string, message: string, okReason: string, okMessage: string): NamespaceCondition {
  return {
    type,
    status: failed ? "True" : "False",
    reason: failed ? reason : okReason,
    message: failed ? message : okMessage,
    lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

export function newNamespaceController(ctx: ControllerContext): Controller {
  const log = ctx.log.child("namespace");
  const nsInf: Informer<Namespace> = ctx.informers.informerFor<Namespace>(refs.namespaces);
  const { queue, run } = controllerQueue(ctx, "namespace");
  const nsClient = ctx.client.resource<Namespace>(refs.namespaces);

  const enqueue = (ns: Namespace) => {
    if (ns.metadata?.deletionTimestamp) queue.add(ns.metadata.name!);
  };
  nsInf.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n) });

  /** Deletes what is left of one resource in the namespace; returns remaining count and finalizers seen. */
  async function purge(ri: ResourceInfo, ns: string): Promise<{ remaining: number; finalizers: Map<string, number> }> {
    const ref = toRef(ri);
    const c = ctx.client.resource<any>(ref, ns);
    if (ri.verbs.includes("deletecollection")) {
      await ctx.client.request("DELETE", resourcePath(ref, ns), { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" });
    }
    const list = await c.list();
    const finalizers = new Map<string, number>();
    for (const o of list.items) {
      if (!o.metadata?.deletionTimestamp) {
        try {
          await c.delete(o.metadata.name, { propagationPolicy: "Background" });
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
      }
      for (const f of o.metadata?.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    }
    const after = list.items.length ? (await c.list()).items.length : 0;
    return { remaining: after, finalizers };
  }

  async function setConditions(ns: Namespace, conditions: NamespaceCondition[]): Promise<Namespace> {
    const prev = ns.status?.conditions ?? [];
    const merged = conditions.map((c) => {
      const p = prev.find((x) => x.type === c.type);
      return p && p.status === c.status && p.reason === c.reason && p.message === c.message ? p : c;
    });
    if (JSON.stringify(merged) === JSON.stringify(prev)) return ns;
    try {
      return await nsClient.updateStatus({ ...structuredClone(ns), status: { ...(ns.status ?? {}), phase: "Terminating", conditions: merged } });
    } catch (e) {
      if (e instanceof ApiError && (e.code === 404 || e.code === 409)) return ns;
      throw e;
    }
  }

  async function sync(name: string): Promise<void> {
    const cached = nsInf.get(name);
    if (!cached?.metadata?.deletionTimestamp) return;
    if (!(cached.spec?.finalizers ?? []).includes(FINALIZER)) return;
    let ns = cached;
    const failures: string[] = [];
    const remaining: string[] = [];
    const finalizers = new Map<string, number>();
    for (const ri of namespacedResources()) {
      try {
        const r = await purge(ri, name);
        if (r.remaining) remaining.push(`${ri.group ? `${ri.resource}.${ri.group}` : ri.resource} has ${r.remaining} resource instances`);
        for (const [f, n] of r.finalizers) finalizers.set(f, (finalizers.get(f) ?? 0) + n);
      } catch (e) {
        if (e instanceof ApiError && (e.code === 404 || e.code === 405)) continue;
        failures.push(`${ri.resource}: ${(e as Error).message}`);
      }
    }
    const finMsg = [...finalizers].map(([f, n]) => `${f} in ${n} resource instances`).join(", ");
    ns = await setConditions(ns, [
      cond("NamespaceDeletionDiscoveryFailure", false, "DiscoveryFailed", "", "ResourcesDiscovered", "All resources successfully discovered"),
      cond("NamespaceDeletionGroupVersionParsingFailure", false, "GroupVersionParsingFailed", "", "ParsedGroupVersions", "All legacy kube types successfully parsed"),
      cond(
        "NamespaceDeletionContentFailure",
        failures.length > 0,
        "ContentDeletionFailed",
        `Failed to delete all resource types, ${failures.length} remaining: ${failures.join(", ")}`,
        "ContentDeleted",
        "All content successfully deleted, may be waiting on finalization",
      ),
      cond("NamespaceContentRemaining", remaining.length > 0, "SomeResourcesRemain", `Some resources are remaining: ${remaining.join(", ")}`, "ContentRemoved", "All content successfully removed"),
      cond(
        "NamespaceFinalizersRemaining",
        finalizers.size > 0,
        "SomeFinalizersRemain",
        `Some content in the namespace has finalizers remaining: ${finMsg}`,
        "ContentHasNoFinalizers",
        "All content-preserving finalizers finished",
      ),
    ]);
    if (failures.length) throw new Error(`namespace ${name}: ${failures.join("; ")}`);
    if (remaining.length) {
      // Graceful pod termination or finalizers: look again shortly.
      queue.addAfter(name, 1000);
      return;
    }
    const body = structuredClone(ns);
    body.spec = { ...(body.spec ?? {}), finalizers: (body.spec?.finalizers ?? []).filter((f) => f !== FINALIZER) };
    try {
      await ctx.client.request("PUT", `/api/v1/namespaces/${encodeURIComponent(name)}/finalize`, body);
      log.info("namespace finalized", { namespace: name });
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return;
      throw e;
    }
  }

  return { name: "namespace", run: () => run(sync) };
}
