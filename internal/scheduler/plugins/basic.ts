// Simple per-node filters and scores: NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts.
// Reason strings are upstream's, since users grep for them.

import type { Pod, Toleration } from "kubernetes-types/core/v1";
import { defaultNormalize, SKIP, unresolvable, unschedulable, type Plugin, type PluginState } from "../framework.ts";
import { nodeSelectorMatches, nodeSelectorTermMatches } from "../../api/selectors/objects.ts";
import type { NodeInfo } from "../nodeinfo.ts";
import { firstUntolerated, toleratedBy } from "../taints.ts";

/** TaintToleration's per-cycle state: the tolerations that count for scoring. */
class Tolerations implements PluginState {
  constructor(readonly list: Toleration[]) {}
  clone(): Tolerations {
    return this;
  }
}

export const nodeUnschedulable: Plugin = {
  name: "NodeUnschedulable",
  filter(_s, pi, ni) {
    if (!ni.node.spec?.unschedulable) return undefined;
    const tolerated = toleratedBy({ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }, pi.pod.spec?.tolerations);
    return tolerated ? undefined : unresolvable("NodeUnschedulable", "node(s) were unschedulable");
  },
};

export const nodeName: Plugin = {
  name: "NodeName",
  preFilter(_s, pi) {
    return pi.pod.spec?.nodeName ? undefined : SKIP;
  },
  filter(_s, pi, ni) {
    const want = pi.pod.spec?.nodeName;
    return want && want !== ni.name ? unresolvable("NodeName", "node(s) didn't match the requested node name") : undefined;
  },
};

export const taintToleration: Plugin = {
  name: "TaintToleration",
  weight: 3,
  filter(_s, pi, ni) {
    const t = firstUntolerated(ni.node.spec?.taints, pi.pod.spec?.tolerations, (t) => t.effect === "NoSchedule" || t.effect === "NoExecute");
    if (!t) return undefined;
    return unresolvable("TaintToleration", `node(s) had untolerated taint {${t.key}: ${t.value ?? ""}}`);
  },
  preScore(state, pi) {
    // The pod's tolerations that can tolerate PreferNoSchedule, once per cycle rather than once per node.
    state.set("TaintToleration", new Tolerations((pi.pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === "PreferNoSchedule")));
  },
  score(state, pi, ni) {
    // Count PreferNoSchedule taints not tolerated by tolerations with effect PreferNoSchedule or empty.
    const taints = ni.node.spec?.taints;
    if (!taints || taints.length === 0) return 0;
    const tols =
      state.get<Tolerations>("TaintToleration")?.list ?? (pi.pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === "PreferNoSchedule");
    let n = 0;
    for (const t of taints) if (t.effect === "PreferNoSchedule" && !toleratedBy(t, tols)) n++;
    return n;
  },
  normalize(_s, _pi, scores) {
    defaultNormalize(scores, true);
  },
};

/** Pod's nodeSelector and required node affinity (upstream nodeaffinity.GetRequiredNodeAffinity). */
export function matchesRequiredNodeAffinity(pod: Pod, ni: NodeInfo): boolean {
  const sel = pod.spec?.nodeSelector;
  if (sel) {
    const labels = ni.labels;
    for (const [k, v] of Object.entries(sel)) if (labels[k] !== v) return false;
  }
  const req = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (req && !nodeSelectorMatches(req, ni.node)) return false;
  return true;
}

export const nodeAffinity: Plugin = {
  name: "NodeAffinity",
  weight: 2,
  preFilter(_s, pi) {
    const spec = pi.pod.spec;
    return spec?.nodeSelector || spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ? undefined : SKIP;
  },
  filter(_s, pi, ni) {
    return matchesRequiredNodeAffinity(pi.pod, ni)
      ? undefined
      : unresolvable("NodeAffinity", "node(s) didn't match Pod's node affinity/selector");
  },
  preScore(_s, pi) {
    if (!pi.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length) return SKIP;
  },
  score(_s, pi, ni) {
    const preferred = pi.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
    if (!preferred) return 0;
    let sum = 0;
    for (const t of preferred) if (t.weight && nodeSelectorTermMatches(t.preference, ni.node)) sum += t.weight;
    return sum;
  },
  normalize(_s, _pi, scores) {
    defaultNormalize(scores, false);
  },
};

export const nodePorts: Plugin = {
  name: "NodePorts",
  preFilter(_s, pi) {
    return pi.ports.length ? undefined : SKIP;
  },
  filter(_s, pi, ni) {
    for (const p of pi.ports)
      if (ni.portConflict(p)) return unschedulable("NodePorts", "node(s) didn't have free ports for the requested pod ports");
    return undefined;
  },
};
