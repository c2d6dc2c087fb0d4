// ReplicaSet controller: keeps `replicas` active pods per ReplicaSet.
// Informers on ReplicaSets and pods → handlers enqueue the owning ReplicaSet → sync(key) creates or deletes
// pods (guarded by expectations), adopts/releases pods by selector, and writes status.
// The same logic runs the ReplicationController manager (as upstream's, a ReplicaSet controller for
// core/v1 ReplicationControllers whose selector is an equality-based label map).

import type { ReplicaSet, ReplicaSetCondition } from "kubernetes-types/apps/v1";
import type { Pod } from "kubernetes-types/core/v1";
import { indexers, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";
import { claim, claimCandidates, CONTROLLER_INDEX, controllerIndex } from "../util/claim.ts";
import { Expectations } from "../util/expectations.ts";
import { controllerOf, newControllerRef } from "../../api/meta.ts";
import { keyOf, splitKey } from "../../client/informer.ts";
import { isPodActive, isPodReady, msUntilAvailable } from "../util/pods.ts";
import { mapSelectorMatches } from "../util/selector.ts";
import { selectorMatches } from "../../api/selectors/objects.ts";
import type { ResourceRef } from "../../client/types.ts";
import { sortForDeletion } from "./ranking.ts";
import { calculateStatus, statusEqual } from "./status.ts";

/** Most pods created or deleted in one sync (upstream burstReplicas). */
const BURST = 500;

/** What differs between the ReplicaSet controller and the ReplicationController manager. */
interface ManagedKind {
  name: string;
  ref: ResourceRef;
  apiVersion: string;
  kind: string;
  component: string;
  /** Whether the set's selector selects the labels. */
  selects(rs: ReplicaSet, labels: Record<string, string> | undefined): boolean;
}

const REPLICA_SET: ManagedKind = {
  name: "replicaset",
  ref: refs.replicasets,
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  component: "replicaset-controller",
  selects: (rs, labels) => selectorMatches(rs.spec?.selector, labels),
};

const REPLICATION_CONTROLLER: ManagedKind = {
  name: "replicationcontroller",
  ref: refs.replicationcontrollers,
  apiVersion: "v1",
  kind: "ReplicationController",
  component: "replication-controller",
  selects: (rc, labels) => mapSelectorMatches(rc.spec?.selector as unknown as Record<string, string> | undefined, labels),
};

export function newReplicaSetController(ctx: ControllerContext): Controller {
  return newReplicaManager(ctx, REPLICA_SET);
}

/** Upstream's ReplicationManager: ReplicationControllers (typed here as ReplicaSets: same spec and status fields). */
export function newReplicationControllerManager(ctx: ControllerContext): Controller {
  return newReplicaManager(ctx, REPLICATION_CONTROLLER);
}

function newReplicaManager(ctx: ControllerContext, mk: ManagedKind): Controller {
  const log = ctx.log.child(mk.name);
  const rsInf: Informer<ReplicaSet> = ctx.informers.informerFor<ReplicaSet>(mk.ref);
  const podInf: Informer<Pod> = ctx.informers.informerFor<Pod>(refs.pods);
  podInf.addIndexer(CONTROLLER_INDEX, controllerIndex);
  rsInf.addIndexer("namespace", indexers.byNamespace);
  const recorder = ctx.recorder(mk.component);
  const expectations = new Expectations();
  const { queue, run } = controllerQueue(ctx, mk.name);

  const rsClient = (ns: string) => ctx.client.resource<ReplicaSet>(mk.ref, ns);
  const podClient = (ns: string) => ctx.client.resource<Pod>(refs.pods, ns);

  /** The ReplicaSet that controls the pod, if it is in the cache with the same uid. */
  function resolveOwner(pod: Pod): ReplicaSet | undefined {
    const ref = controllerOf(pod);
    if (!ref || ref.kind !== mk.kind) return undefined;
    const rs = rsInf.getByName(pod.metadata?.namespace, ref.name);
    return rs?.metadata?.uid === ref.uid ? rs : undefined;
  }

  function matchingSets(pod: Pod): ReplicaSet[] {
    return rsInf
      .byIndex("namespace", pod.metadata?.namespace ?? "")
      .filter((rs) => mk.selects(rs, pod.metadata?.labels));
  }

  rsInf.addEventHandler({
    onAdd: (rs) => queue.add(keyOf(rs)),
    onUpdate: (_o, rs) => queue.add(keyOf(rs)),
    onDelete: (rs) => {
      expectations.delete(keyOf(rs));
      queue.add(keyOf(rs));
    },
  });

  podInf.addEventHandler({
    onAdd(pod) {
      const rs = resolveOwner(pod);
      if (rs) {
        expectations.creationObserved(keyOf(rs));
        queue.add(keyOf(rs));
        return;
      }
      if (!controllerOf(pod)) for (const r of matchingSets(pod)) queue.add(keyOf(r));
    },
    onUpdate(old, pod) {
      if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
      const oldRef = controllerOf(old);
      const newRef = controllerOf(pod);
      if (oldRef && oldRef.uid !== newRef?.uid) {
        const prev = rsInf.getByName(old.metadata?.namespace, oldRef.name);
        if (prev) queue.add(keyOf(prev));
      }
      const rs = resolveOwner(pod);
      if (rs) {
        queue.add(keyOf(rs));
        // Available only after minReadySeconds: look again then.
        const mrs = rs.spec?.minReadySeconds ?? 0;
        if (mrs && !isPodReady(old) && isPodReady(pod)) queue.addAfter(keyOf(rs), mrs * 1000 + 100);
        return;
      }
      if (!newRef) for (const r of matchingSets(pod)) queue.add(keyOf(r));
    },
    onDelete(pod) {
      const ref = controllerOf(pod);
      if (!ref || ref.kind !== mk.kind) return;
      const rs = rsInf.getByName(pod.metadata?.namespace, ref.name);
      if (!rs || rs.metadata?.uid !== ref.uid) return;
      expectations.deletionObserved(keyOf(rs), pod.metadata?.uid);
      queue.add(keyOf(rs));
    },
  });

  async function createPods(rs: ReplicaSet, n: number, key: string): Promise<Error | undefined> {
    const ns = rs.metadata!.namespace!;
    const tmpl = rs.spec?.template ?? {};
    const ref = newControllerRef(rs, mk.apiVersion, mk.kind);
    const pod = (): Pod => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        generateName: `${rs.metadata!.name}-`,
        namespace: ns,
        labels: { ...(tmpl.metadata?.labels ?? {}) },
        annotations: tmpl.metadata?.annotations ? { ...tmpl.metadata.annotations } : undefined,
        finalizers: tmpl.metadata?.finalizers,
        ownerReferences: [ref],
      },
      spec: structuredClone(tmpl.spec!),
    });
    expectations.expectCreations(key, n);
    // Slow start (1, 2, 4, …) so a failing template costs one call, not hundreds.
    let remaining = n;
    let batch = 1;
    let created = 0;
    while (remaining > 0) {
      const size = Math.min(batch, remaining);
      const results = await Promise.allSettled(Array.from({ length: size }, () => podClient(ns).create(pod())));
      const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
      created += size - failed.length;
      for (let i = 0; i < failed.length; i++) expectations.creationObserved(key);
      remaining -= size;
      if (failed.length) {
        // Pods never attempted are not expected either.
        for (let i = 0; i < remaining; i++) expectations.creationObserved(key);
        const err = failed[0]!.reason as Error;
        // A terminating namespace refuses new pods by design: nothing to report.
        if (err instanceof ApiError && err.code === 403 && /being terminated/.test(err.message)) return undefined;
        recorder.event(rs, "Warning", "FailedCreate", `Error creating: ${err.message}`);
        return err;
      }
      batch *= 2;
    }
    if (created) log.debug("created pods", { rs: key, n: created });
    return undefined;
  }

  async function deletePods(rs: ReplicaSet, victims: Pod[], key: string): Promise<void> {
    const ns = rs.metadata!.namespace!;
    expectations.expectDeletions(key, victims.map((p) => p.metadata!.uid!));
    const results = await Promise.allSettled(victims.map((p) => podClient(ns).delete(p.metadata!.name!)));
    let firstErr: unknown;
    results.forEach((r, i) => {
      const p = victims[i]!;
      if (r.status === "fulfilled") {
        recorder.event(rs, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata!.name}`);
        return;
      }
      expectations.deletionObserved(key, p.metadata!.uid);
      if (!(r.reason instanceof ApiError && r.reason.code === 404)) firstErr ??= r.reason;
    });
    if (firstErr) throw firstErr;
  }

  async function sync(key: string): Promise<void> {
    const cached = rsInf.get(key);
    if (!cached) {
      expectations.delete(key);
      return;
    }
    const rs = cached;
    const { namespace } = splitKey(key);
    const ns = namespace!;
    const needsSync = expectations.satisfied(key) && !rs.metadata?.deletionTimestamp;

    const candidates = claimCandidates(podInf, rs).filter((p) => isPodActive(p) || controllerOf(p)?.uid === rs.metadata?.uid);
    const owned = await claim<Pod>(candidates, {
      owner: rs,
      ownerRef: newControllerRef(rs, mk.apiVersion, mk.kind),
      matches: (p) => mk.selects(rs, p.metadata?.labels),
      client: podClient(ns),
      canAdopt: async () => {
        try {
          const fresh = await rsClient(ns).get(rs.metadata!.name!);
          return fresh.metadata?.uid === rs.metadata?.uid && !fresh.metadata?.deletionTimestamp;
        } catch {
          return false;
        }
      },
    });
    const active = owned.filter(isPodActive);

    let failure: ReplicaSetCondition | undefined;
    if (needsSync) {
      const want = rs.spec?.replicas ?? 1;
      const diff = active.length - want;
      if (diff < 0) {
        const err = await createPods(rs, Math.min(-diff, BURST), key);
        if (err) {
          failure = {
            type: "ReplicaFailure",
            status: "True",
            reason: "FailedCreate",
            message: err.message,
            lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
          };
        }
      } else if (diff > 0) {
        const victims = sortForDeletion(active).slice(0, Math.min(diff, BURST));
        await deletePods(rs, victims, key);
      }
    }

    const status = calculateStatus(rs, active, failure);
    if (!statusEqual(rs.status, status)) {
      try {
        await rsClient(ns).updateStatus({ ...structuredClone(rs), status });
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) return;
        throw e;
      }
    }
    // Pods ready but not yet available: come back when they are.
    const mrs = rs.spec?.minReadySeconds ?? 0;
    if (mrs) {
      const waits = active.map((p) => msUntilAvailable(p, mrs)).filter((x): x is number => x !== undefined);
      if (waits.length) queue.addAfter(key, Math.min(...waits) + 50);
    }
    if (failure) throw new Error(`failed to create pods: ${failure.message}`);
  }

  return { name: mk.name, run: () => run(sync) };
}
