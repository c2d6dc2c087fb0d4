// Disruption controller: keeps PodDisruptionBudget status (expectedPods, currentHealthy, desiredHealthy,
// disruptionsAllowed, the DisruptionAllowed condition) up to date, which `kubectl get pdb` and drains read.

import type { ReplicaSet, StatefulSet } from "kubernetes-types/apps/v1";
import type { Pod } from "kubernetes-types/core/v1";
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from "kubernetes-types/policy/v1";
import { indexers, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";
import { scaledValue } from "../util/intstr.ts";
import { controllerOf } from "../../api/meta.ts";
import { keyOf } from "../../client/informer.ts";
import { isPodReady } from "../util/pods.ts";
import { selectorMatches } from "../../api/selectors/objects.ts";

const nowRFC = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

export function newDisruptionController(ctx: ControllerContext): Controller {
  const pdbInf: Informer<PodDisruptionBudget> = ctx.informers.informerFor<PodDisruptionBudget>(refs.poddisruptionbudgets);
  const podInf: Informer<Pod> = ctx.informers.informerFor<Pod>(refs.pods);
  const rsInf: Informer<ReplicaSet> = ctx.informers.informerFor<ReplicaSet>(refs.replicasets);
  const stsInf: Informer<StatefulSet> = ctx.informers.informerFor<StatefulSet>(refs.statefulsets);
  const rcInf: Informer<ReplicaSet> = ctx.informers.informerFor<ReplicaSet>(refs.replicationcontrollers);
  podInf.addIndexer("namespace", indexers.byNamespace);
  pdbInf.addIndexer("namespace", indexers.byNamespace);
  const { queue, run } = controllerQueue(ctx, "disruption");

  pdbInf.addEventHandler({ onAdd: (p) => queue.add(keyOf(p)), onUpdate: (_o, p) => queue.add(keyOf(p)) });
  const podEvent = (pod: Pod) => {
    for (const pdb of pdbInf.byIndex("namespace", pod.metadata?.namespace ?? "")) {
      if (selectorMatches(pdb.spec?.selector, pod.metadata?.labels)) queue.add(keyOf(pdb));
    }
  };
  podInf.addEventHandler({ onAdd: podEvent, onUpdate: (o, p) => (podEvent(o), podEvent(p)), onDelete: podEvent });

  /** Upstream getExpectedPodCount: scale of the pods' controllers (pods without one count as one each). */
  function expectedCount(pods: Pod[]): number {
    const seen = new Set<string>();
    let n = 0;
    for (const p of pods) {
      const ref = controllerOf(p);
      // ReplicationControllers share the ReplicaSet's spec.replicas (typed alike here).
      const inf = ref?.kind === "ReplicaSet" ? rsInf : ref?.kind === "StatefulSet" ? stsInf : ref?.kind === "ReplicationController" ? rcInf : undefined;
      const owner = ref ? inf?.getByName(p.metadata?.namespace, ref.name) : undefined;
      if (!ref || !owner || owner.metadata?.uid !== ref.uid) {
        n++;
        continue;
      }
      if (seen.has(ref.uid)) continue;
      seen.add(ref.uid);
      n += owner.spec?.replicas ?? 1;
    }
    return n;
  }

  async function sync(key: string): Promise<void> {
    const pdb = pdbInf.get(key);
    if (!pdb || pdb.metadata?.deletionTimestamp) return;
    const pods = podInf
      .byIndex("namespace", pdb.metadata!.namespace!)
      .filter((p) => selectorMatches(pdb.spec?.selector, p.metadata?.labels) && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed");
    const currentHealthy = pods.filter((p) => isPodReady(p) && !p.metadata?.deletionTimestamp).length;
    let expected: number;
    let desiredHealthy: number;
    const min = pdb.spec?.minAvailable as number | string | undefined;
    const maxU = pdb.spec?.maxUnavailable as number | string | undefined;
    if (min !== undefined && typeof min === "number") {
      expected = pods.length;
      desiredHealthy = min;
    } else if (min !== undefined) {
      expected = expectedCount(pods);
      desiredHealthy = scaledValue(min, expected, true);
    } else if (maxU !== undefined) {
      expected = expectedCount(pods);
      desiredHealthy = Math.max(0, expected - scaledValue(maxU, expected, true));
    } else {
      expected = pods.length;
      desiredHealthy = 0;
    }
    const allowed = Math.max(0, currentHealthy - desiredHealthy);
    const prev = pdb.status;
    const prevCond = prev?.conditions?.find((c) => c.type === "DisruptionAllowed");
    const condStatus = allowed > 0 ? "True" : "False";
    const cond = {
      type: "DisruptionAllowed",
      status: condStatus,
      reason: allowed > 0 ? "SufficientPods" : "InsufficientPods",
      message: "",
      observedGeneration: pdb.metadata?.generation,
      lastTransitionTime: prevCond?.status === condStatus ? prevCond.lastTransitionTime : nowRFC(),
    };
    const status: PodDisruptionBudgetStatus = {
      ...(prev ?? {}),
      observedGeneration: pdb.metadata?.generation,
      expectedPods: expected,
      currentHealthy,
      desiredHealthy,
      disruptionsAllowed: allowed,
      conditions: [...(prev?.conditions ?? []).filter((c) => c.type !== "DisruptionAllowed"), cond],
    };
    if (JSON.stringify(status) === JSON.stringify(prev ?? {})) return;
    await ctx.client.resource<PodDisruptionBudget>(refs.poddisruptionbudgets, pdb.metadata!.namespace!).updateStatus({ ...structuredClone(pdb), status });
  }

  return { name: "disruption", run: () => run(sync) };
}
