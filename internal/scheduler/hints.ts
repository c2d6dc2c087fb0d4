// Queueing hints for node updates, after upstream's per-plugin EventsToRegister: which plugins' rejections a node
// change can undo. An unschedulable pod goes back to the active queue only when one of the plugins that rejected
// it is among them, so a heartbeat-driven status update or a label change does not retry every pending pod.

import type { Node } from "kubernetes-types/core/v1";

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * The plugins whose verdict the change from `a` to `b` may turn (upstream's UpdateNodeAllocatable,
 * UpdateNodeLabel and UpdateNodeTaint action types); empty when nothing the scheduler looks at changed.
 */
export function nodeUpdateHints(a: Node, b: Node): string[] {
  const out = new Set<string>();
  if (!same(a.status?.allocatable, b.status?.allocatable)) {
    out.add("NodeResourcesFit");
    out.add("NodeVolumeLimits");
  }
  if (!same(a.metadata?.labels, b.metadata?.labels)) {
    for (const p of ["NodeAffinity", "PodTopologySpread", "InterPodAffinity", "VolumeBinding", "NodeVolumeLimits"]) out.add(p);
  }
  if (!same(a.spec?.taints, b.spec?.taints) || !!a.spec?.unschedulable !== !!b.spec?.unschedulable) {
    for (const p of ["TaintToleration", "NodeUnschedulable", "PodTopologySpread", "VolumeBinding"]) out.add(p);
  }
  return [...out];
}
