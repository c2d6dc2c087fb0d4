// DaemonSet controller: one pod per eligible node (nodeSelector, required node affinity, taints with the
// automatic DaemonSet tolerations), pinned to its node by a matchFields metadata.name affinity as upstream so the
// scheduler binds it; rolling update by maxUnavailable; ControllerRevisions for rollout history.

import type { ControllerRevision, DaemonSet, DaemonSetStatus } from "kubernetes-types/apps/v1";
import type { Node, Pod, Taint, Toleration } from "kubernetes-types/core/v1";
import { indexers, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";
import { claim, claimCandidates, CONTROLLER_INDEX, controllerIndex } from "../util/claim.ts";
import { Expectations } from "../util/expectations.ts";
import { scaledValue } from "../util/intstr.ts";
import { podFitsNode } from "../util/nodeaffinity.ts";
import { enqueueOwnerOfPods } from "../util/ownedpods.ts";
import { keyOf } from "../../client/informer.ts";
import { newControllerRef } from "../../api/meta.ts";
import { isPodActive, isPodAvailable, isPodReady } from "../util/pods.ts";
import { ensureRevision, REVISION_HASH_LABEL } from "../util/revisions.ts";
import { selectorMatches } from "../../api/selectors/objects.ts";
import { tolerates } from "../util/taints.ts";

/** Tolerations upstream adds to every DaemonSet pod (util.AddOrUpdateDaemonPodTolerations). */
export function daemonTolerations(pod: Pod): Toleration[] {
  const t: Toleration[] = [
    { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
    { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
    { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
  ];
  if (pod.spec?.hostNetwork) t.push({ key: "node.kubernetes.io/network-unavailable", operator: "Exists", effect: "NoSchedule" });
  const own = pod.spec?.tolerations ?? [];
  return [...own, ...t.filter((x) => !own.some((o) => o.key === x.key && o.effect === x.effect && o.operator === x.operator))];
}

/** Upstream NodeShouldRunDaemonPod: may a new pod start here, may an existing one stay. */
export function shouldRun(node: Node, pod: Pod): { run: boolean; keep: boolean } {
  if (!podFitsNode(pod, node)) return { run: false, keep: false };
  const tol = pod.spec?.tolerations ?? [];
  const untolerated = (effect: string) => (node.spec?.taints ?? []).some((t: Taint) => t.effect === effect && !tol.some((x) => tolerates(x, t)));
  if (untolerated("NoExecute")) return { run: false, keep: false };
  if (untolerated("NoSchedule")) return { run: false, keep: true };
  return { run: true, keep: true };
}

/** The pod a DaemonSet runs on a node. */
export function daemonPod(ds: DaemonSet, nodeName: string, hash: string): Pod {
  const tmpl = ds.spec!.template;
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: `${ds.metadata!.name}-`,
      namespace: ds.metadata!.namespace,
      labels: { ...(tmpl.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash, "pod-template-generation": String(ds.metadata?.generation ?? 1) },
      annotations: tmpl.metadata?.annotations,
      ownerReferences: [newControllerRef(ds, "apps/v1", "DaemonSet")],
    },
    spec: structuredClone(tmpl.spec!),
  };
  pod.spec!.tolerations = daemonTolerations(pod);
  // Pin to the node with a matchFields term, replacing any other metadata.name field terms (upstream ReplaceDaemonSetPodNodeNameNodeAffinity).
  const aff = (pod.spec!.affinity ??= {});
  const na = (aff.nodeAffinity ??= {});
  na.requiredDuringSchedulingIgnoredDuringExecution = {
    nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [nodeName] }] }],
  };
  return pod;
}

/** Node a daemon pod is for: its nodeName, or the metadata.name affinity it was created with. */
function nodeOfPod(p: Pod): string | undefined {
  if (p.spec?.nodeName) return p.spec.nodeName;
  for (const t of p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of t.matchFields ?? []) if (f.key === "metadata.name" && f.operator === "In" && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

export function newDaemonSetController(ctx: ControllerContext): Controller {
  const dsInf: Informer<DaemonSet> = ctx.informers.informerFor<DaemonSet>(refs.daemonsets);
  const podInf: Informer<Pod> = ctx.informers.informerFor<Pod>(refs.pods);
  const nodeInf: Informer<Node> = ctx.informers.informerFor<Node>(refs.nodes);
  const revInf: Informer<ControllerRevision> = ctx.informers.informerFor<ControllerRevision>(refs.controllerrevisions);
  podInf.addIndexer("owner", indexers.byOwnerUID);
  podInf.addIndexer(CONTROLLER_INDEX, controllerIndex);
  const recorder = ctx.recorder("daemonset-controller");
  const expectations = new Expectations();
  const { queue, run } = controllerQueue(ctx, "daemonset");
  const pods = (ns: string) => ctx.client.resource<Pod>(refs.pods, ns);

  const all = () => dsInf.list().forEach((d) => queue.add(keyOf(d)));
  dsInf.addEventHandler({ onAdd: (d) => queue.add(keyOf(d)), onUpdate: (_o, d) => queue.add(keyOf(d)), onDelete: (d) => expectations.delete(keyOf(d)) });
  nodeInf.addEventHandler({
    onAdd: all,
    onUpdate: (o, n) => {
      // Only changes that can alter eligibility matter.
      if (JSON.stringify([o.metadata?.labels, o.spec?.taints]) !== JSON.stringify([n.metadata?.labels, n.spec?.taints])) all();
    },
    onDelete: all,
  });
  enqueueOwnerOfPods(podInf, dsInf, "DaemonSet", expectations, queue);

  async function sync(key: string): Promise<void> {
    const ds = dsInf.get(key);
    if (!ds) return expectations.delete(key);
    if (ds.metadata?.deletionTimestamp) return;
    const ns = ds.metadata!.namespace!;
    const { hash } = await ensureRevision(ctx.client, revInf, ds, "DaemonSet", ds.spec?.revisionHistoryLimit ?? 10);
    const owned = await claim<Pod>(claimCandidates(podInf, ds), {
      owner: ds,
      ownerRef: newControllerRef(ds, "apps/v1", "DaemonSet"),
      matches: (p) => selectorMatches(ds.spec?.selector, p.metadata?.labels),
      client: pods(ns),
    });
    const byNode = new Map<string, Pod[]>();
    for (const p of owned) {
      if (p.metadata?.deletionTimestamp) continue;
      const n = nodeOfPod(p);
      if (!n) continue;
      byNode.set(n, [...(byNode.get(n) ?? []), p]);
    }
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const toCreate: string[] = [];
    const toDelete: Pod[] = [];
    const status: DaemonSetStatus = {
      currentNumberScheduled: 0,
      desiredNumberScheduled: 0,
      numberMisscheduled: 0,
      numberReady: 0,
      numberAvailable: 0,
      updatedNumberScheduled: 0,
      observedGeneration: ds.metadata?.generation,
    };
    const nodeNames = new Set<string>();
    // Nodes whose pod is on the old template, and how many daemon pods are unavailable now.
    const outdated: { node: string; pod: Pod; available: boolean }[] = [];
    let unavailable = 0;
    const rolling = (ds.spec?.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate";
    const ru = ds.spec?.updateStrategy?.rollingUpdate;
    const plans = nodeInf.list().map((node) => {
      const name = node.metadata!.name!;
      nodeNames.add(name);
      return { node, name, ...shouldRun(node, daemonPod(ds, name, hash)) };
    });
    const desired = plans.filter((x) => x.run || (x.keep && (byNode.get(x.name) ?? []).some(isPodActive))).length;
    // maxSurge > 0 (with maxUnavailable 0): start the new pod next to the old one, remove the old once the new is available.
    const maxSurge = rolling ? scaledValue((ru?.maxSurge as any) ?? 0, desired, true) : 0;
    const maxUnavailable = rolling ? scaledValue((ru?.maxUnavailable as any) ?? (maxSurge ? 0 : 1), desired, true) : 0;
    const surgeMode = maxSurge > 0 && maxUnavailable === 0;
    let surging = 0;
    const byAge = (a: Pod, b: Pod) => Date.parse(a.metadata?.creationTimestamp ?? "") - Date.parse(b.metadata?.creationTimestamp ?? "");
    for (const { name, run: canRun, keep } of plans) {
      const here = byNode.get(name) ?? [];
      const live = here.filter(isPodActive).sort(byAge);
      const failed = here.filter((p) => p.status?.phase === "Failed");
      if (canRun || (keep && live.length)) {
        status.desiredNumberScheduled!++;
        toDelete.push(...failed);
        if (!live.length) {
          if (canRun) toCreate.push(name);
          unavailable++;
          continue;
        }
        const fresh = live.filter((p) => p.metadata?.labels?.[REVISION_HASH_LABEL] === hash);
        const stale = live.filter((p) => p.metadata?.labels?.[REVISION_HASH_LABEL] !== hash);
        let pod = live[0]!;
        if (surgeMode && fresh.length && stale.length) {
          // A surge in progress on this node.
          pod = fresh[0]!;
          toDelete.push(...fresh.slice(1));
          if (isPodAvailable(pod, minReady)) toDelete.push(...stale);
          else {
            surging++;
            pod = stale.find((p) => isPodAvailable(p, minReady)) ?? pod;
          }
        } else {
          toDelete.push(...live.slice(1)); // keep the oldest, delete duplicates
        }
        status.currentNumberScheduled!++;
        const avail = isPodAvailable(pod, minReady);
        if (isPodReady(pod)) status.numberReady!++;
        if (avail) status.numberAvailable!++;
        else unavailable++;
        if (fresh.length) status.updatedNumberScheduled!++;
        else outdated.push({ node: name, pod, available: avail });
      } else if (here.length) {
        status.numberMisscheduled!++;
        if (!keep) toDelete.push(...here);
      }
    }
    // Pods for nodes that no longer exist.
    for (const [n, ps] of byNode) if (!nodeNames.has(n)) toDelete.push(...ps);
    if (rolling) {
      // Unavailable old pods are replaced at once; available ones within the budget.
      for (const o of outdated) if (!o.available) toDelete.push(o.pod);
      if (surgeMode) {
        for (const o of outdated) {
          if (!o.available) continue;
          if (surging >= maxSurge) break;
          toCreate.push(o.node);
          surging++;
        }
      } else {
        let budget = Math.max(1, maxUnavailable) - unavailable;
        for (const o of outdated) {
          if (!o.available) continue;
          if (budget <= 0) break;
          toDelete.push(o.pod);
          budget--;
        }
      }
    }
    status.numberUnavailable = Math.max(0, status.desiredNumberScheduled! - status.numberAvailable!);

    if (expectations.satisfied(key)) {
      const uniqueDeletes = [...new Map(toDelete.map((p) => [p.metadata!.uid!, p])).values()];
      if (toCreate.length) {
        expectations.expectCreations(key, toCreate.length);
        for (const [i, node] of toCreate.entries()) {
          try {
            await pods(ns).create(daemonPod(ds, node, hash));
          } catch (e) {
            for (let j = i; j < toCreate.length; j++) expectations.creationObserved(key);
            recorder.event(ds, "Warning", "FailedCreate", `Error creating: ${(e as Error).message}`);
            throw e;
          }
        }
        recorder.event(ds, "Normal", "SuccessfulCreate", `Created ${toCreate.length} pod(s)`);
      }
      if (uniqueDeletes.length) {
        expectations.expectDeletions(key, uniqueDeletes.map((p) => p.metadata!.uid!));
        for (const p of uniqueDeletes) {
          try {
            await pods(ns).delete(p.metadata!.name!);
            recorder.event(ds, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata!.name}`);
          } catch (e) {
            expectations.deletionObserved(key, p.metadata!.uid);
            if (!(e instanceof ApiError && e.code === 404)) throw e;
          }
        }
      }
    }
    const prev = ds.status ?? {};
    const changed = Object.entries(status).some(([k, v]) => (prev as any)[k] !== v);
    if (changed) {
      await ctx.client.resource<DaemonSet>(refs.daemonsets, ns).updateStatus({ ...structuredClone(ds), status: { ...prev, ...status } });
    }
    if (minReady && unavailable) queue.addAfter(key, minReady * 1000 + 100);
  }

  return { name: "daemonset", run: () => run(sync) };
}
