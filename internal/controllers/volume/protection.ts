// Storage object in-use protection (upstream pkg/controller/volume/pvcprotection and pvprotection): a claim being
// deleted keeps kubernetes.io/pvc-protection while a pod that is not finished uses it, and a volume being deleted
// keeps kubernetes.io/pv-protection while it is Bound. The admission plugin puts the finalizers on at creation.
import type { PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1";
import { keyOf, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";

export const PVC_PROTECTION_FINALIZER = "kubernetes.io/pvc-protection";
export const PV_PROTECTION_FINALIZER = "kubernetes.io/pv-protection";

/** Claim names a pod uses: persistentVolumeClaim volumes and generic ephemeral volumes (<pod>-<volume>). */
export function claimsOfPod(pod: Pod): string[] {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) out.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) out.push(`${pod.metadata?.name}-${v.name}`);
  }
  return out;
}

const finished = (p: Pod) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed";

export function newPVCProtectionController(ctx: ControllerContext): Controller {
  const claims: Informer<PersistentVolumeClaim> = ctx.informers.informerFor(refs.persistentvolumeclaims);
  const pods: Informer<Pod> = ctx.informers.informerFor(refs.pods);
  pods.addIndexer("pvcprotection.claims", (p) => claimsOfPod(p).map((c) => `${p.metadata!.namespace}/${c}`));
  const { queue, run } = controllerQueue(ctx, "pvcprotection");
  const queueIfDeleting = (c: PersistentVolumeClaim) => {
    if (c.metadata?.deletionTimestamp && c.metadata.finalizers?.includes(PVC_PROTECTION_FINALIZER)) queue.add(keyOf(c));
  };
  claims.addEventHandler({ onAdd: queueIfDeleting, onUpdate: (_o, c) => queueIfDeleting(c) });
  // A pod going away (or finishing) may free its claims.
  const podChanged = (p: Pod) => {
    if (p.metadata?.deletionTimestamp === undefined && !finished(p)) return;
    for (const c of claimsOfPod(p)) queue.add(`${p.metadata!.namespace}/${c}`);
  };
  pods.addEventHandler({ onUpdate: (_o, p) => podChanged(p), onDelete: (p) => {
    for (const c of claimsOfPod(p)) queue.add(`${p.metadata!.namespace}/${c}`);
  } });

  async function sync(key: string): Promise<void> {
    const pvc = claims.get(key);
    if (!pvc?.metadata?.deletionTimestamp || !pvc.metadata.finalizers?.includes(PVC_PROTECTION_FINALIZER)) return;
    // Pods still running (or not yet started) with the claim keep it; terminating ones too until they are gone.
    const users = pods.byIndex("pvcprotection.claims", key).filter((p) => !finished(p));
    if (users.length) return;
    const finalizers = pvc.metadata.finalizers.filter((f) => f !== PVC_PROTECTION_FINALIZER);
    // An update (not a patch), with the cached resourceVersion: upstream's role grants only update.
    await ctx.client.resource<PersistentVolumeClaim>(refs.persistentvolumeclaims, pvc.metadata.namespace).update({ ...pvc, metadata: { ...pvc.metadata, finalizers } });
  }
  return { name: "pvc-protection", run: () => run(sync) };
}

export function newPVProtectionController(ctx: ControllerContext): Controller {
  const volumes: Informer<PersistentVolume> = ctx.informers.informerFor(refs.persistentvolumes);
  const { queue, run } = controllerQueue(ctx, "pvprotection");
  const queueIfDeleting = (v: PersistentVolume) => {
    if (v.metadata?.deletionTimestamp && v.metadata.finalizers?.includes(PV_PROTECTION_FINALIZER)) queue.add(v.metadata.name!);
  };
  volumes.addEventHandler({ onAdd: queueIfDeleting, onUpdate: (_o, v) => queueIfDeleting(v) });

  async function sync(name: string): Promise<void> {
    const pv = volumes.get(name);
    if (!pv?.metadata?.deletionTimestamp || !pv.metadata.finalizers?.includes(PV_PROTECTION_FINALIZER)) return;
    if (pv.status?.phase === "Bound") return;
    const finalizers = pv.metadata.finalizers.filter((f) => f !== PV_PROTECTION_FINALIZER);
    await ctx.client.resource<PersistentVolume>(refs.persistentvolumes).update({ ...pv, metadata: { ...pv.metadata, finalizers } });
  }
  return { name: "pv-protection", run: () => run(sync) };
}
