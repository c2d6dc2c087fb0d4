// Which pods a ReplicaSet deletes first when scaling down, in upstream's order (controller.ActivePodsWithRanks):
// unscheduled < scheduled; Pending < Unknown < Running; not ready < ready; lower pod-deletion-cost;
// more pods of the set on the same node; ready for a shorter time; more restarts; newer.

import type { Pod } from "kubernetes-types/core/v1";
import { isPodReady, podCondition, podRestarts } from "../util/pods.ts";

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
export const DELETION_COST = "controller.kubernetes.io/pod-deletion-cost";

function cost(p: Pod): number {
  const v = Number(p.metadata?.annotations?.[DELETION_COST] ?? 0);
  return Number.isFinite(v) ? v : 0;
}

function readyTime(p: Pod): number {
  const c = podCondition(p, "Ready");
  return c?.lastTransitionTime ? Date.parse(c.lastTransitionTime) : 0;
}

function created(p: Pod): number {
  return p.metadata?.creationTimestamp ? Date.parse(p.metadata.creationTimestamp) : 0;
}

/** Sorts pods so that the first ones are the best to delete. `related` are all active pods of the owner. */
export function sortForDeletion(pods: Pod[], related: Pod[] = pods): Pod[] {
  const perNode = new Map<string, number>();
  for (const p of related) {
    const n = p.spec?.nodeName;
    if (n) perNode.set(n, (perNode.get(n) ?? 0) + 1);
  }
  const rank = (p: Pod) => (p.spec?.nodeName ? (perNode.get(p.spec.nodeName) ?? 0) : 0);
  return [...pods].sort((a, b) => {
    const an = a.spec?.nodeName ? 1 : 0;
    const bn = b.spec?.nodeName ? 1 : 0;
    if (an !== bn) return an - bn;
    const ap = PHASE_ORDER[a.status?.phase ?? "Pending"] ?? 0;
    const bp = PHASE_ORDER[b.status?.phase ?? "Pending"] ?? 0;
    if (ap !== bp) return ap - bp;
    const ar = isPodReady(a) ? 1 : 0;
    const br = isPodReady(b) ? 1 : 0;
    if (ar !== br) return ar - br;
    const ac = cost(a);
    const bc = cost(b);
    if (ac !== bc) return ac - bc;
    const ak = rank(a);
    const bk = rank(b);
    if (ak !== bk) return bk - ak;
    if (ar && br) {
      const at = readyTime(a);
      const bt = readyTime(b);
      if (at !== bt) return bt - at;
    }
    const ax = podRestarts(a);
    const bx = podRestarts(b);
    if (ax !== bx) return bx - ax;
    return created(b) - created(a);
  });
}
