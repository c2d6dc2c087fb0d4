// Deployment controller: owns ReplicaSets, one per pod template (named <deployment>-<pod-template-hash>),
// and moves replicas from old to new ones by the RollingUpdate or Recreate strategy, as upstream.

import type { Deployment, ReplicaSet } from "kubernetes-types/apps/v1";
import type { Pod } from "kubernetes-types/core/v1";
import { indexers, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";
import { claim, claimCandidates, CONTROLLER_INDEX, controllerIndex } from "../util/claim.ts";
import { controllerOf, newControllerRef } from "../../api/meta.ts";
import { keyOf, splitKey } from "../../client/informer.ts";
import { isEmptySelector } from "../util/selector.ts";
import { selectorMatches } from "../../api/selectors/objects.ts";
import { computeHash, equalIgnoreHash, POD_TEMPLATE_HASH } from "./hash.ts";
import { calculateStatus, rolloutStatus, statusEqual } from "./status.ts";
import {
  condition,
  copyAnnotations,
  isComplete,
  isSaturated,
  isScalingEvent,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  progressDeadline,
  proportion,
  replicasOf,
  REVISION,
  REVISION_HISTORY,
  revisionOf,
  setCondition,
  setReplicasAnnotations,
  sumReplicas,
} from "./util.ts";

const byCreation = (a: ReplicaSet, b: ReplicaSet) =>
  Date.parse(a.metadata?.creationTimestamp ?? "") - Date.parse(b.metadata?.creationTimestamp ?? "") ||
  (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");

/** Available pods an old set will still have once its spec is honoured (the RS deletes unavailable pods first). */
function effectiveAvailable(rs: ReplicaSet): number {
  return Math.min(rs.status?.availableReplicas ?? 0, rs.spec?.replicas ?? 0);
}

export function newDeploymentController(ctx: ControllerContext): Controller {
  const log = ctx.log.child("deployment");
  const dInf: Informer<Deployment> = ctx.informers.informerFor<Deployment>(refs.deployments);
  const rsInf: Informer<ReplicaSet> = ctx.informers.informerFor<ReplicaSet>(refs.replicasets);
  const podInf: Informer<Pod> = ctx.informers.informerFor<Pod>(refs.pods);
  dInf.addIndexer("namespace", indexers.byNamespace);
  rsInf.addIndexer("namespace", indexers.byNamespace);
  rsInf.addIndexer(CONTROLLER_INDEX, controllerIndex);
  podInf.addIndexer("owner", indexers.byOwnerUID);
  const recorder = ctx.recorder("deployment-controller");
  const { queue, run } = controllerQueue(ctx, "deployment");
  const rsClient = (ns: string) => ctx.client.resource<ReplicaSet>(refs.replicasets, ns);
  const dClient = (ns: string) => ctx.client.resource<Deployment>(refs.deployments, ns);

  function ownerOf(rs: ReplicaSet): Deployment | undefined {
    const ref = controllerOf(rs);
    if (!ref || ref.kind !== "Deployment") return undefined;
    const d = dInf.getByName(rs.metadata?.namespace, ref.name);
    return d?.metadata?.uid === ref.uid ? d : undefined;
  }
  function enqueueForRS(rs: ReplicaSet): void {
    const d = ownerOf(rs);
    if (d) return queue.add(keyOf(d));
    if (controllerOf(rs)) return;
    for (const d of dInf.byIndex("namespace", rs.metadata?.namespace ?? "")) {
      if (selectorMatches(d.spec?.selector, rs.metadata?.labels)) queue.add(keyOf(d));
    }
  }

  dInf.addEventHandler({
    onAdd: (d) => queue.add(keyOf(d)),
    onUpdate: (_o, d) => queue.add(keyOf(d)),
    onDelete: (d) => queue.add(keyOf(d)),
  });
  rsInf.addEventHandler({
    onAdd: enqueueForRS,
    onUpdate: (old, rs) => {
      const oldRef = controllerOf(old);
      if (oldRef && oldRef.uid !== controllerOf(rs)?.uid) {
        const prev = dInf.getByName(old.metadata?.namespace, oldRef.name);
        if (prev) queue.add(keyOf(prev));
      }
      enqueueForRS(rs);
    },
    onDelete: enqueueForRS,
  });
  // Recreate waits for old pods to be gone: look again when one disappears.
  podInf.addEventHandler({
    onDelete(pod) {
      const ref = controllerOf(pod);
      if (ref?.kind !== "ReplicaSet") return;
      const rs = rsInf.getByName(pod.metadata?.namespace, ref.name);
      const d = rs && ownerOf(rs);
      if (d?.spec?.strategy?.type === "Recreate") queue.add(keyOf(d));
    },
  });

  async function scaleRS(rs: ReplicaSet, size: number, d: Deployment): Promise<ReplicaSet> {
    const next = structuredClone(rs);
    const from = rs.spec?.replicas ?? 0;
    next.spec!.replicas = size;
    const annChanged = setReplicasAnnotations(next, replicasOf(d), replicasOf(d) + maxSurge(d));
    if (from === size && !annChanged) return rs;
    const updated = await rsClient(rs.metadata!.namespace!).update(next);
    if (from !== size) {
      const dir = size > from ? "up" : "down";
      recorder.event(d, "Normal", "ScalingReplicaSet", `Scaled ${dir} replica set ${rs.metadata!.name} from ${from} to ${size}`);
    }
    return updated;
  }

  /** Upstream getAllReplicaSetsAndSyncRevision: finds (or creates) the new set and keeps revisions in order. */
  async function getAll(
    d: Deployment,
    sets: ReplicaSet[],
    create: boolean,
  ): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[]; d: Deployment }> {
    const sorted = [...sets].sort(byCreation);
    let newRS = sorted.find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
    const oldRSs = sorted.filter((rs) => rs !== newRS);
    const newRevision = String(maxRevision(oldRSs) + 1);
    const ns = d.metadata!.namespace!;

    if (newRS) {
      const next = structuredClone(newRS);
      let changed = copyAnnotations(d, next);
      const ann = next.metadata!.annotations!;
      const cur = ann[REVISION];
      if (Number(cur ?? 0) < Number(newRevision)) {
        if (cur) ann[REVISION_HISTORY] = ann[REVISION_HISTORY] ? `${ann[REVISION_HISTORY]},${cur}` : cur;
        ann[REVISION] = newRevision;
        changed = true;
      }
      if ((next.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0)) {
        next.spec!.minReadySeconds = d.spec?.minReadySeconds ?? 0;
        changed = true;
      }
      if (changed) newRS = await rsClient(ns).update(next);
    } else if (create) {
      const hash = computeHash(d.spec?.template, d.status?.collisionCount);
      const template = structuredClone(d.spec!.template);
      template.metadata ??= {};
      template.metadata.labels = { ...(template.metadata.labels ?? {}), [POD_TEMPLATE_HASH]: hash };
      const selector = structuredClone(d.spec!.selector);
      selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash };
      const rs: ReplicaSet = {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: {
          name: `${d.metadata!.name}-${hash}`,
          namespace: ns,
          labels: template.metadata.labels,
          annotations: { [REVISION]: newRevision },
          ownerReferences: [newControllerRef(d, "apps/v1", "Deployment")],
        },
        spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
      };
      copyAnnotations(d, rs);
      rs.spec!.replicas = newRSNewReplicas(d, oldRSs, rs);
      setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d));
      try {
        newRS = await rsClient(ns).create(rs);
        recorder.event(d, "Normal", "ScalingReplicaSet", `Scaled up replica set ${rs.metadata!.name} from 0 to ${rs.spec!.replicas}`);
        if (progressDeadline(d) !== undefined) {
          const status = structuredClone(d.status ?? {});
          const msg = `Created new replica set "${rs.metadata!.name}"`;
          const c = newCondition("Progressing", "True", "NewReplicaSetCreated", msg);
          const cur = condition(status, "Progressing");
          if (cur?.status === "True") c.lastTransitionTime = cur.lastTransitionTime;
          status.conditions = (status.conditions ?? []).filter((x) => x.type !== "Progressing");
          status.conditions.push(c);
          d = await dClient(ns).updateStatus({ ...structuredClone(d), status });
        }
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 409)) throw e;
        // Same name exists: ours with an equal template (a stale cache) is fine; anything else is a hash collision.
        const existing = await rsClient(ns).get(rs.metadata!.name!);
        if (controllerOf(existing)?.uid === d.metadata?.uid && equalIgnoreHash(existing.spec?.template, d.spec?.template)) {
          newRS = existing;
        } else {
          const status = { ...structuredClone(d.status ?? {}), collisionCount: (d.status?.collisionCount ?? 0) + 1 };
          await dClient(ns).updateStatus({ ...structuredClone(d), status });
          log.info("pod-template-hash collision", { deployment: keyOf(d), collisionCount: status.collisionCount });
          throw new Error(`hash collision for ReplicaSet ${rs.metadata!.name}, retrying with collisionCount ${status.collisionCount}`);
        }
      }
    }
    // The Deployment carries the revision of its new set.
    const rev = newRS?.metadata?.annotations?.[REVISION];
    if (rev && d.metadata?.annotations?.[REVISION] !== rev) {
      const next = structuredClone(d);
      (next.metadata!.annotations ??= {})[REVISION] = rev;
      d = await dClient(ns).update(next);
    }
    return { newRS, oldRSs, d };
  }

  async function writeStatus(d: Deployment, status: ReturnType<typeof calculateStatus>): Promise<void> {
    if (statusEqual(d.status, status)) return;
    await dClient(d.metadata!.namespace!).updateStatus({ ...structuredClone(d), status });
  }

  async function syncRolloutStatus(all: ReplicaSet[], newRS: ReplicaSet | undefined, d: Deployment): Promise<void> {
    const status = rolloutStatus(all, newRS, d);
    await writeStatus(d, status);
    // A rollout that is neither complete nor failed is looked at again when its deadline passes.
    const deadline = progressDeadline(d);
    const c = condition(status, "Progressing");
    if (deadline !== undefined && !isComplete(d, status) && c?.status === "True" && c.reason !== "NewReplicaSetAvailable") {
      const from = Date.parse(c.lastUpdateTime ?? "");
      if (Number.isFinite(from)) queue.addAfter(keyOf(d), Math.max(0, from + deadline * 1000 - Date.now()) + 1000);
    }
  }

  async function cleanup(oldRSs: ReplicaSet[], d: Deployment): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit ?? 10;
    const alive = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
    let diff = alive.length - limit;
    if (diff <= 0) return;
    const sorted = [...alive].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of sorted) {
      if (diff <= 0) break;
      if ((rs.status?.replicas ?? 0) !== 0 || (rs.spec?.replicas ?? 0) !== 0) continue;
      if ((rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        await rsClient(rs.metadata!.namespace!).delete(rs.metadata!.name!);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
      diff--;
    }
  }

  /** Upstream scale(): sizes sets when the Deployment's replica count changed, proportionally during a rollout. */
  async function scale(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    const all = [...(newRS ? [newRS] : []), ...oldRSs];
    const activeSets = all.filter((rs) => (rs.spec?.replicas ?? 0) > 0);
    // One active set (or none): it simply gets the Deployment's size.
    let target: ReplicaSet | undefined;
    if (activeSets.length === 1) target = activeSets[0];
    else if (activeSets.length === 0) target = newRS ?? [...oldRSs].sort(byCreation).at(-1);
    if (activeSets.length <= 1) {
      if (target) await scaleRS(target, replicasOf(d), d);
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const rs of oldRSs) if ((rs.spec?.replicas ?? 0) > 0) await scaleRS(rs, 0, d);
      return;
    }
    if (d.spec?.strategy?.type === "Recreate") return;
    const allowed = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
    const toAdd = allowed - sumReplicas(activeSets);
    const createdMs = (rs: ReplicaSet) => Date.parse(rs.metadata?.creationTimestamp ?? "");
    const ordered = [...activeSets].sort((a, b) => {
      const diff = (b.spec?.replicas ?? 0) - (a.spec?.replicas ?? 0);
      if (diff) return diff;
      return toAdd > 0 ? createdMs(b) - createdMs(a) : createdMs(a) - createdMs(b);
    });
    const sizes = new Map<ReplicaSet, number>();
    let added = 0;
    if (toAdd !== 0) {
      for (const rs of ordered) {
        const p = proportion(rs, d, toAdd, added);
        sizes.set(rs, (rs.spec?.replicas ?? 0) + p);
        added += p;
      }
    }
    for (const [i, rs] of ordered.entries()) {
      let size = sizes.get(rs) ?? rs.spec?.replicas ?? 0;
      if (i === 0 && toAdd !== 0) size += toAdd - added; // leftover goes to the largest set
      await scaleRS(rs, Math.max(0, size), d);
    }
  }

  async function rolloutRolling(d: Deployment, sets: ReplicaSet[]): Promise<void> {
    const r = await getAll(d, sets, true);
    d = r.d;
    let newRS = r.newRS!;
    let oldRSs = r.oldRSs;
    // Scale up the new set within maxSurge.
    const want = replicasOf(d);
    const cur = newRS.spec?.replicas ?? 0;
    let target = cur;
    if (cur > want) target = want;
    else if (cur < want) target = newRSNewReplicas(d, [newRS, ...oldRSs], newRS);
    if (target !== cur) {
      newRS = await scaleRS(newRS, target, d);
      return syncRolloutStatus([newRS, ...oldRSs], newRS, d);
    }
    // Scale down old sets within maxUnavailable.
    const scaledDown = await reconcileOld(d, newRS, oldRSs);
    oldRSs = scaledDown.oldRSs;
    if (scaledDown.changed) return syncRolloutStatus([newRS, ...oldRSs], newRS, d);
    const status = rolloutStatus([newRS, ...oldRSs], newRS, d);
    if (isComplete(d, status)) await cleanup(oldRSs, d);
    await syncRolloutStatus([newRS, ...oldRSs], newRS, d);
  }

  /** Upstream reconcileOldReplicaSets: first unhealthy old pods, then healthy ones while availability allows. */
  async function reconcileOld(d: Deployment, newRS: ReplicaSet, oldRSs: ReplicaSet[]): Promise<{ changed: boolean; oldRSs: ReplicaSet[] }> {
    if (sumReplicas(oldRSs) === 0) return { changed: false, oldRSs };
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const newUnavailable = (newRS.spec?.replicas ?? 0) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = sumReplicas([newRS, ...oldRSs]) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return { changed: false, oldRSs };
    const sets = [...oldRSs].sort(byCreation);
    let changed = false;
    // Unhealthy replicas of old sets go first; they do not count towards availability anyway.
    let cleaned = 0;
    for (let i = 0; i < sets.length; i++) {
      const rs = sets[i]!;
      if (cleaned >= maxScaledDown) break;
      const replicas = rs.spec?.replicas ?? 0;
      const avail = effectiveAvailable(rs);
      if (replicas === 0 || replicas === avail) continue;
      const n = Math.min(maxScaledDown - cleaned, replicas - avail);
      sets[i] = await scaleRS(rs, replicas - n, d);
      cleaned += n;
      changed = true;
    }
    // Then healthy ones, never below minAvailable.
    const available = effectiveAvailable(newRS) + sets.reduce((n, rs) => n + effectiveAvailable(rs), 0);
    if (available > minAvailable) {
      const total = available - minAvailable;
      let done = 0;
      for (let i = 0; i < sets.length; i++) {
        const rs = sets[i]!;
        if (done >= total) break;
        const replicas = rs.spec?.replicas ?? 0;
        if (replicas === 0) continue;
        const n = Math.min(replicas, total - done);
        sets[i] = await scaleRS(rs, replicas - n, d);
        done += n;
        changed = true;
      }
    }
    return { changed, oldRSs: sets };
  }

  async function rolloutRecreate(d: Deployment, sets: ReplicaSet[]): Promise<void> {
    let r = await getAll(d, sets, false);
    d = r.d;
    let oldRSs = r.oldRSs;
    let scaled = false;
    for (let i = 0; i < oldRSs.length; i++) {
      if ((oldRSs[i]!.spec?.replicas ?? 0) === 0) continue;
      oldRSs[i] = await scaleRS(oldRSs[i]!, 0, d);
      scaled = true;
    }
    const all = () => [...(r.newRS ? [r.newRS] : []), ...oldRSs];
    if (scaled) return syncRolloutStatus(all(), r.newRS, d);
    // Wait until no old pod is left running (upstream oldPodsRunning).
    const oldRunning =
      oldRSs.some((rs) => (rs.status?.replicas ?? 0) > 0) ||
      oldRSs.some((rs) =>
        podInf.byIndex("owner", rs.metadata!.uid!).some((p) => p.status?.phase !== "Failed" && p.status?.phase !== "Succeeded"),
      );
    if (oldRunning) return syncRolloutStatus(all(), r.newRS, d);
    if (!r.newRS) {
      r = await getAll(d, sets, true);
      d = r.d;
    }
    let newRS = r.newRS!;
    if ((newRS.spec?.replicas ?? 0) !== replicasOf(d)) newRS = await scaleRS(newRS, replicasOf(d), d);
    const status = rolloutStatus([newRS, ...oldRSs], newRS, d);
    if (isComplete(d, status)) await cleanup(oldRSs, d);
    await syncRolloutStatus([newRS, ...oldRSs], newRS, d);
  }

  /** Paused Deployments and scaling events: size the sets, keep history trimmed, report status. */
  async function syncScale(d: Deployment, sets: ReplicaSet[]): Promise<void> {
    const r = await getAll(d, sets, false);
    d = r.d;
    await scale(d, r.newRS, r.oldRSs);
    const fresh = (rs: ReplicaSet) => rsInf.get(keyOf(rs)) ?? rs;
    const newRS = r.newRS && fresh(r.newRS);
    const oldRSs = r.oldRSs.map(fresh);
    if (d.spec?.paused) await cleanup(oldRSs, d);
    await writeStatus(d, calculateStatus([...(newRS ? [newRS] : []), ...oldRSs], newRS, d));
  }

  /** Upstream checkPausedConditions. */
  async function checkPaused(d: Deployment): Promise<Deployment> {
    if (progressDeadline(d) === undefined) return d;
    const cur = condition(d.status, "Progressing");
    const pausedCond = cur?.reason === "DeploymentPaused";
    const status = structuredClone(d.status ?? {});
    if (d.spec?.paused && !pausedCond) {
      setCondition(status, newCondition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused"));
    } else if (!d.spec?.paused && pausedCond) {
      setCondition(status, newCondition("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed"));
    } else return d;
    return dClient(d.metadata!.namespace!).updateStatus({ ...structuredClone(d), status });
  }

  async function sync(key: string): Promise<void> {
    const cached = dInf.get(key);
    if (!cached) return;
    let d: Deployment = cached;
    const ns = splitKey(key).namespace!;
    if (isEmptySelector(d.spec?.selector)) {
      recorder.event(d, "Warning", "SelectorRequired", "This deployment is selecting all pods. A non-empty selector is required.");
      return;
    }
    const sets = await claim<ReplicaSet>(claimCandidates(rsInf, d), {
      owner: d,
      ownerRef: newControllerRef(d, "apps/v1", "Deployment"),
      matches: (rs) => selectorMatches(d.spec?.selector, rs.metadata?.labels),
      client: rsClient(ns),
      canAdopt: async () => {
        try {
          const fresh = await dClient(ns).get(d.metadata!.name!);
          return fresh.metadata?.uid === d.metadata?.uid && !fresh.metadata?.deletionTimestamp;
        } catch {
          return false;
        }
      },
    });
    if (d.metadata?.deletionTimestamp) {
      const r = await getAll(d, sets, false);
      return writeStatus(r.d, calculateStatus([...(r.newRS ? [r.newRS] : []), ...r.oldRSs], r.newRS, r.d));
    }
    d = await checkPaused(d);
    if (d.spec?.paused) return syncScale(d, sets);
    const { newRS, oldRSs } = splitSets(d, sets);
    if (isScalingEvent(d, [...(newRS ? [newRS] : []), ...oldRSs])) return syncScale(d, sets);
    if (d.spec?.strategy?.type === "Recreate") return rolloutRecreate(d, sets);
    return rolloutRolling(d, sets);
  }

  function splitSets(d: Deployment, sets: ReplicaSet[]) {
    const sorted = [...sets].sort(byCreation);
    const newRS = sorted.find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
    return { newRS, oldRSs: sorted.filter((rs) => rs !== newRS) };
  }

  return { name: "deployment", run: () => run(sync) };
}
