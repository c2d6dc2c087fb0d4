// PodTopologySpread: DoNotSchedule constraints filter nodes by skew; ScheduleAnyway constraints (or the system
// defaults for pods that set none) score them, as upstream's plugin does.

import type { Pod, TopologySpreadConstraint } from "kubernetes-types/core/v1";
import type { LabelSelector } from "kubernetes-types/meta/v1";
import { MAX_NODE_SCORE, SKIP, unresolvable, unschedulable, type CycleState, type Plugin, type PluginState, type Snapshot } from "../framework.ts";
import { selectorMatches } from "../../api/selectors/objects.ts";
import type { NodeInfo } from "../nodeinfo.ts";
import type { PodInfo } from "../podinfo.ts";
import { firstUntolerated } from "../taints.ts";
import { matchesRequiredNodeAffinity } from "./basic.ts";

const NAME = "PodTopologySpread";
const HOSTNAME = "kubernetes.io/hostname";
const ZONE = "topology.kubernetes.io/zone";
export const ERR_CONSTRAINTS = "node(s) didn't match pod topology spread constraints";
export const ERR_MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";

interface Constraint {
  maxSkew: number;
  topologyKey: string;
  minDomains: number;
  /** Counts pods matching this; for system defaults, pods with the same controller. */
  matches: (p: PodInfo) => boolean;
  selfMatch: boolean;
  honorAffinity: boolean;
  honorTaints: boolean;
  /** Controller uid for the system default constraints: counted via the node's per-owner index. */
  ownerUID?: string;
}

function buildSelector(c: TopologySpreadConstraint, pod: Pod): LabelSelector | undefined {
  if (!c.labelSelector) return undefined;
  const keys = c.matchLabelKeys ?? [];
  if (keys.length === 0) return c.labelSelector;
  const labels = pod.metadata?.labels ?? {};
  const extra = keys.filter((k) => k in labels).map((k) => ({ key: k, operator: "In", values: [labels[k]!] }));
  return { ...c.labelSelector, matchExpressions: [...(c.labelSelector.matchExpressions ?? []), ...extra] };
}

function constraintsOf(pi: PodInfo, when: "DoNotSchedule" | "ScheduleAnyway"): Constraint[] {
  const ns = pi.namespace;
  return (pi.pod.spec?.topologySpreadConstraints ?? [])
    .filter((c) => c.whenUnsatisfiable === when)
    .map((c) => {
      const sel = buildSelector(c, pi.pod);
      return {
        maxSkew: c.maxSkew,
        topologyKey: c.topologyKey,
        minDomains: c.minDomains ?? 1,
        // A nil selector matches no pods (upstream).
        matches: (p: PodInfo) => !!sel && p.namespace === ns && !p.terminating && selectorMatches(sel, p.labels),
        selfMatch: !!sel && selectorMatches(sel, pi.labels),
        honorAffinity: (c.nodeAffinityPolicy ?? "Honor") === "Honor",
        honorTaints: c.nodeTaintsPolicy === "Honor",
      };
    });
}

/**
 * Upstream's system defaults (hostname maxSkew 3, zone maxSkew 5, ScheduleAnyway) select pods by the selectors of
 * the Services/ReplicaSets/StatefulSets owning the pod; kubun approximates that selector by "same controller".
 */
function systemDefaults(pi: PodInfo): Constraint[] {
  const uid = pi.controllerUID;
  if (!uid) return [];
  const matches = (p: PodInfo) => !p.terminating && p.controllerUID === uid;
  const base = { minDomains: 1, matches, selfMatch: true, honorAffinity: true, honorTaints: false, ownerUID: uid };
  return [
    { ...base, maxSkew: 3, topologyKey: HOSTNAME },
    { ...base, maxSkew: 5, topologyKey: ZONE },
  ];
}

function nodeIncluded(c: Constraint, pi: PodInfo, ni: NodeInfo): boolean {
  if (c.honorAffinity && !matchesRequiredNodeAffinity(pi.pod, ni)) return false;
  if (c.honorTaints && firstUntolerated(ni.node.spec?.taints, pi.pod.spec?.tolerations, (t) => t.effect === "NoSchedule" || t.effect === "NoExecute"))
    return false;
  return true;
}

function countOnNode(c: Constraint, ni: NodeInfo): number {
  if (c.ownerUID) return ni.ownerCount(c.ownerUID);
  let n = 0;
  for (const p of ni.pods.values()) if (c.matches(p)) n++;
  return n;
}

const pairKey = (key: string, value: string) => `${key}\0${value}`;

class FilterState implements PluginState {
  constructor(
    public constraints: Constraint[],
    /** Per constraint: topology value → matching pod count, over eligible nodes. */
    public counts: Map<string, number>[],
  ) {}
  clone(): FilterState {
    return new FilterState(this.constraints, this.counts.map((m) => new Map(m)));
  }
}

class ScoreState implements PluginState {
  constructor(
    public constraints: Constraint[],
    public counts: Map<string, number>[],
    public weights: number[],
    public ignored: Set<string>,
  ) {}
  clone(): ScoreState {
    return this;
  }
}

export const podTopologySpread: Plugin = {
  name: NAME,
  weight: 2,
  preFilter(state: CycleState, pi: PodInfo, snap: Snapshot) {
    const cs = constraintsOf(pi, "DoNotSchedule");
    if (cs.length === 0) return SKIP;
    const counts = cs.map(() => new Map<string, number>());
    for (const ni of snap.nodes) {
      const labels = ni.labels;
      // A node must carry every constraint's key to count at all.
      if (!cs.every((c) => c.topologyKey in labels)) continue;
      cs.forEach((c, i) => {
        if (!nodeIncluded(c, pi, ni)) return;
        const v = labels[c.topologyKey]!;
        counts[i]!.set(v, (counts[i]!.get(v) ?? 0) + countOnNode(c, ni));
      });
    }
    state.set(NAME, new FilterState(cs, counts));
    return undefined;
  },
  addPod(state, pi, other, ni) {
    updateCounts(state, pi, other, ni, 1);
  },
  removePod(state, pi, other, ni) {
    updateCounts(state, pi, other, ni, -1);
  },
  filter(state, pi, ni) {
    const s = state.get<FilterState>(NAME);
    if (!s) return undefined;
    const labels = ni.labels;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i]!;
      const v = labels[c.topologyKey];
      if (v === undefined) return unresolvable(NAME, ERR_MISSING_LABEL);
      const counts = s.counts[i]!;
      let min = Infinity;
      for (const n of counts.values()) if (n < min) min = n;
      if (min === Infinity || counts.size < c.minDomains) min = 0;
      const skew = (counts.get(v) ?? 0) + (c.selfMatch ? 1 : 0) - min;
      if (skew > c.maxSkew) return unschedulable(NAME, ERR_CONSTRAINTS);
    }
    return undefined;
  },
  preScore(state, pi, feasible, snap) {
    const explicit = (pi.pod.spec?.topologySpreadConstraints ?? []).length > 0;
    const cs = explicit ? constraintsOf(pi, "ScheduleAnyway") : systemDefaults(pi);
    if (cs.length === 0) return SKIP;
    const requireAll = explicit;
    const ignored = new Set<string>();
    const counts = cs.map(() => new Map<string, number>());
    const sizes = cs.map(() => 0);
    for (const ni of feasible) {
      const labels = ni.labels;
      if (requireAll && !cs.every((c) => c.topologyKey in labels)) {
        ignored.add(ni.name);
        continue;
      }
      cs.forEach((c, i) => {
        const v = labels[c.topologyKey];
        if (v === undefined || counts[i]!.has(v)) return;
        counts[i]!.set(v, 0);
        sizes[i]!++;
      });
    }
    // Non-hostname domains are counted over all nodes; hostname is counted on the node itself when scoring.
    cs.forEach((c, i) => {
      if (c.topologyKey === HOSTNAME) return;
      for (const ni of snap.nodes) {
        const v = ni.labels[c.topologyKey];
        if (v === undefined || !counts[i]!.has(v) || !nodeIncluded(c, pi, ni)) continue;
        if (requireAll && !cs.every((cc) => cc.topologyKey in ni.labels)) continue;
        counts[i]!.set(v, counts[i]!.get(v)! + countOnNode(c, ni));
      }
    });
    const weights = cs.map((c, i) => Math.log((c.topologyKey === HOSTNAME ? feasible.length - ignored.size : sizes[i]!) + 2));
    state.set(NAME + "/score", new ScoreState(cs, counts, weights, ignored));
  },
  score(state, _pi, ni) {
    const s = state.get<ScoreState>(NAME + "/score");
    if (!s || s.ignored.has(ni.name)) return 0;
    let score = 0;
    s.constraints.forEach((c, i) => {
      const v = ni.labels[c.topologyKey];
      if (v === undefined) return;
      const cnt = c.topologyKey === HOSTNAME ? countOnNode(c, ni) : (s.counts[i]!.get(v) ?? 0);
      score += cnt * s.weights[i]! + (c.maxSkew - 1);
    });
    return Math.round(score);
  },
  normalize(state, _pi, scores, nodes) {
    const s = state.get<ScoreState>(NAME + "/score");
    if (!s) {
      scores.fill(0);
      return;
    }
    let min = Infinity;
    let max = 0;
    for (let i = 0; i < scores.length; i++) {
      if (s.ignored.has(nodes[i]!.name)) continue;
      min = Math.min(min, scores[i]!);
      max = Math.max(max, scores[i]!);
    }
    for (let i = 0; i < scores.length; i++) {
      if (s.ignored.has(nodes[i]!.name)) scores[i] = 0;
      else if (max === 0) scores[i] = MAX_NODE_SCORE;
      else scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - scores[i]!)) / max);
    }
  },
};

function updateCounts(state: CycleState, pi: PodInfo, other: PodInfo, ni: NodeInfo, delta: number): void {
  const s = state.get<FilterState>(NAME);
  if (!s) return;
  if (!s.constraints.every((c) => c.topologyKey in ni.labels)) return;
  s.constraints.forEach((c, i) => {
    if (!nodeIncluded(c, pi, ni) || !c.matches(other)) return;
    const v = ni.labels[c.topologyKey]!;
    s.counts[i]!.set(v, (s.counts[i]!.get(v) ?? 0) + delta);
  });
}
