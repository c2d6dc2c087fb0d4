// StatefulSet controller: pods with stable names <set>-0 … <set>-(n-1), hostname/subdomain for the governing
// Service, PVCs from volumeClaimTemplates; OrderedReady starts one at a time in order and removes in reverse,
// Parallel does all at once; RollingUpdate (with partition) replaces pods from the highest ordinal down.

import type { ControllerRevision, StatefulSet, StatefulSetStatus } from "kubernetes-types/apps/v1";
import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1";
import { indexers, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";
import { controllerOf, newControllerRef } from "../../api/meta.ts";
import { keyOf } from "../../client/informer.ts";
import { isPodAvailable, isPodReady } from "../util/pods.ts";
import { ensureRevision, REVISION_HASH_LABEL } from "../util/revisions.ts";
import { desiredClaimOwners, ownersDiffer } from "./claims.ts";

export function ordinalOf(setName: string, podName: string): number | undefined {
  if (!podName.startsWith(`${setName}-`)) return undefined;
  const rest = podName.slice(setName.length + 1);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

const healthy = (p: Pod) => p.status?.phase === "Running" && isPodReady(p) && !p.metadata?.deletionTimestamp;

export function newStatefulSetController(ctx: ControllerContext): Controller {
  const stsInf: Informer<StatefulSet> = ctx.informers.informerFor<StatefulSet>(refs.statefulsets);
  const podInf: Informer<Pod> = ctx.informers.informerFor<Pod>(refs.pods);
  const revInf: Informer<ControllerRevision> = ctx.informers.informerFor<ControllerRevision>(refs.controllerrevisions);
  podInf.addIndexer("owner", indexers.byOwnerUID);
  const pvcInf: Informer<PersistentVolumeClaim> = ctx.informers.informerFor<PersistentVolumeClaim>(refs.persistentvolumeclaims);
  const recorder = ctx.recorder("statefulset-controller");
  const { queue, run } = controllerQueue(ctx, "statefulset");
  const pods = (ns: string) => ctx.client.resource<Pod>(refs.pods, ns);

  stsInf.addEventHandler({ onAdd: (s) => queue.add(keyOf(s)), onUpdate: (_o, s) => queue.add(keyOf(s)) });
  const podEvent = (p: Pod) => {
    const ref = controllerOf(p);
    if (ref?.kind === "StatefulSet") queue.add(`${p.metadata!.namespace}/${ref.name}`);
  };
  podInf.addEventHandler({ onAdd: podEvent, onUpdate: (_o, p) => podEvent(p), onDelete: podEvent });

  function newPod(sts: StatefulSet, ordinal: number, hash: string): Pod {
    const name = `${sts.metadata!.name}-${ordinal}`;
    const tmpl = sts.spec!.template;
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        namespace: sts.metadata!.namespace,
        labels: {
          ...(tmpl.metadata?.labels ?? {}),
          [REVISION_HASH_LABEL]: hash,
          "statefulset.kubernetes.io/pod-name": name,
          "apps.kubernetes.io/pod-index": String(ordinal),
        },
        annotations: tmpl.metadata?.annotations,
        ownerReferences: [newControllerRef(sts, "apps/v1", "StatefulSet")],
      },
      spec: structuredClone(tmpl.spec!),
    };
    pod.spec!.hostname = name;
    if (sts.spec?.serviceName) pod.spec!.subdomain = sts.spec.serviceName;
    // Volumes from claim templates point at the per-ordinal PVC.
    for (const t of sts.spec?.volumeClaimTemplates ?? []) {
      const claimName = `${t.metadata!.name}-${name}`;
      const vols = (pod.spec!.volumes ??= []);
      const i = vols.findIndex((v) => v.name === t.metadata!.name);
      const vol = { name: t.metadata!.name!, persistentVolumeClaim: { claimName } };
      if (i >= 0) vols[i] = vol;
      else vols.push(vol);
    }
    return pod;
  }

  /** Owner references of the pod's existing claims as the retention policy wants them. */
  async function syncClaimOwners(sts: StatefulSet, podName: string, pod: Pod | undefined, condemned: boolean): Promise<void> {
    const ns = sts.metadata!.namespace!;
    for (const t of sts.spec?.volumeClaimTemplates ?? []) {
      const claim = pvcInf.getByName(ns, `${t.metadata!.name}-${podName}`);
      if (!claim || claim.metadata?.deletionTimestamp) continue;
      const want = desiredClaimOwners(claim, sts, pod, condemned);
      if (!ownersDiffer(claim, want)) continue;
      await ctx.client.resource<PersistentVolumeClaim>(refs.persistentvolumeclaims, ns).update({ ...claim, metadata: { ...claim.metadata, ownerReferences: want } });
    }
  }

  async function ensureClaims(sts: StatefulSet, podName: string): Promise<void> {
    const ns = sts.metadata!.namespace!;
    for (const t of sts.spec?.volumeClaimTemplates ?? []) {
      const existing = pvcInf.getByName(ns, `${t.metadata!.name}-${podName}`);
      if (existing && !existing.metadata?.deletionTimestamp) continue;
      const pvc: PersistentVolumeClaim = {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: {
          name: `${t.metadata!.name}-${podName}`,
          namespace: ns,
          labels: { ...(sts.spec?.selector?.matchLabels ?? {}), ...(t.metadata?.labels ?? {}) },
        },
        spec: structuredClone(t.spec),
      };
      const owners = desiredClaimOwners(pvc, sts, undefined, false);
      if (owners.length) pvc.metadata!.ownerReferences = owners;
      try {
        await ctx.client.resource<PersistentVolumeClaim>(refs.persistentvolumeclaims, ns).create(pvc);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 409)) throw e;
      }
    }
  }

  async function sync(key: string): Promise<void> {
    const sts = stsInf.get(key);
    if (!sts || sts.metadata?.deletionTimestamp) return;
    const ns = sts.metadata!.namespace!;
    const setName = sts.metadata!.name!;
    const { hash } = await ensureRevision(ctx.client, revInf, sts, "StatefulSet", sts.spec?.revisionHistoryLimit ?? 10);
    const replicas = sts.spec?.replicas ?? 1;
    // spec.ordinals.start shifts the names (web-5, web-6, …); the logic works on positions 0..replicas-1.
    const start = sts.spec?.ordinals?.start ?? 0;
    const parallel = sts.spec?.podManagementPolicy === "Parallel";
    const owned = podInf.byIndex("owner", sts.metadata!.uid!).filter((p) => controllerOf(p)?.uid === sts.metadata!.uid);
    const byOrdinal = new Map<number, Pod>();
    const outOfRange: Pod[] = [];
    for (const p of owned) {
      const o = ordinalOf(setName, p.metadata!.name!);
      if (o === undefined) continue;
      if (o < start) outOfRange.push(p);
      else byOrdinal.set(o - start, p);
    }
    const minReady = sts.spec?.minReadySeconds ?? 0;

    let acted = false;
    // 1. Bring up 0..replicas-1.
    for (let i = 0; i < replicas; i++) {
      const p = byOrdinal.get(i);
      if (p?.status?.phase === "Failed" && !p.metadata?.deletionTimestamp) {
        await pods(ns).delete(p.metadata!.name!).catch(() => undefined);
        recorder.event(sts, "Warning", "RecreatingFailedPod", `StatefulSet ${ns}/${setName} is recreating failed Pod ${p.metadata!.name}`);
        acted = true;
        if (!parallel) break;
        continue;
      }
      if (!p) {
        const pod = newPod(sts, i + start, hash);
        await ensureClaims(sts, pod.metadata!.name!);
        try {
          await pods(ns).create(pod);
          recorder.event(sts, "Normal", "SuccessfulCreate", `create Pod ${pod.metadata!.name} in StatefulSet ${setName} successful`);
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 409)) throw e;
        }
        acted = true;
        if (!parallel) break;
        continue;
      }
      // OrderedReady: wait for this one before touching the next.
      if (!parallel && !healthy(p)) {
        acted = true;
        break;
      }
    }
    // 2. Remove ordinals ≥ replicas, highest first (OrderedReady: one at a time, only when the rest are healthy).
    if (!acted) {
      // Pods below a raised ordinals.start go too.
      for (const p of outOfRange) if (!p.metadata?.deletionTimestamp) await pods(ns).delete(p.metadata!.name!).catch(() => undefined);
      const excess = [...byOrdinal.keys()].filter((o) => o >= replicas).sort((a, b) => b - a);
      for (const o of excess) {
        const p = byOrdinal.get(o)!;
        if (p.metadata?.deletionTimestamp) {
          if (!parallel) {
            acted = true;
            break;
          }
          continue;
        }
        if (!parallel && [...byOrdinal.entries()].some(([k, q]) => k < o && !healthy(q))) {
          acted = true;
          break;
        }
        // whenScaled: Delete hands the claims to the pod first, so they go with it.
        await syncClaimOwners(sts, p.metadata!.name!, p, true);
        await pods(ns).delete(p.metadata!.name!).catch(() => undefined);
        recorder.event(sts, "Normal", "SuccessfulDelete", `delete Pod ${p.metadata!.name} in StatefulSet ${setName} successful`);
        acted = true;
        if (!parallel) break;
      }
    }
    // 3. Rolling update from the highest ordinal down to the partition, one pod at a time.
    const strategy = sts.spec?.updateStrategy?.type ?? "RollingUpdate";
    if (!acted && strategy === "RollingUpdate") {
      const partition = sts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
      for (let i = replicas - 1; i >= partition; i--) {
        const p = byOrdinal.get(i);
        if (!p) break;
        if (p.metadata?.labels?.[REVISION_HASH_LABEL] === hash) {
          if (!healthy(p)) break; // wait for the updated pod to be ready before the next
          continue;
        }
        if (!p.metadata?.deletionTimestamp) {
          await pods(ns).delete(p.metadata!.name!).catch(() => undefined);
          recorder.event(sts, "Normal", "SuccessfulDelete", `delete Pod ${p.metadata!.name} in StatefulSet ${setName} successful`);
        }
        break;
      }
    }

    // Claims of pods in range follow the retention policy (it may have changed; a scale-up takes claims back).
    for (let i = 0; i < replicas; i++) {
      const p = byOrdinal.get(i);
      if (p) await syncClaimOwners(sts, p.metadata!.name!, p, false);
    }
    const live = owned.filter((p) => !p.metadata?.deletionTimestamp);
    const updated = live.filter((p) => p.metadata?.labels?.[REVISION_HASH_LABEL] === hash).length;
    const prevStatus = sts.status ?? ({} as StatefulSetStatus);
    const status: StatefulSetStatus = {
      ...prevStatus,
      observedGeneration: sts.metadata?.generation,
      replicas: live.length,
      readyReplicas: live.filter(isPodReady).length,
      availableReplicas: live.filter((p) => isPodAvailable(p, minReady)).length,
      updatedReplicas: updated,
      currentReplicas: updated === live.length ? live.length : live.length - updated,
      updateRevision: `${setName}-${hash}`,
      currentRevision: updated === live.length && live.length >= replicas ? `${setName}-${hash}` : (prevStatus.currentRevision ?? `${setName}-${hash}`),
      collisionCount: prevStatus.collisionCount ?? 0,
    };
    if (JSON.stringify(status) !== JSON.stringify(sts.status ?? {})) {
      await ctx.client.resource<StatefulSet>(refs.statefulsets, ns).updateStatus({ ...structuredClone(sts), status });
    }
    if (minReady && live.some((p) => isPodReady(p) && !isPodAvailable(p, minReady))) queue.addAfter(key, minReady * 1000 + 100);
  }

  return { name: "statefulset", run: () => run(sync) };
}
