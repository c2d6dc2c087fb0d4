// InterPodAffinity: required affinity / anti-affinity of the incoming pod, required anti-affinity of existing pods,
// and preferred terms (both directions) for scoring, as upstream's plugin. Counts are kept per topology pair so
// that filtering a node is a few map lookups.

import { MAX_NODE_SCORE, SKIP, unresolvable, unschedulable, type CycleState, type Plugin, type PluginState, type Snapshot } from "../framework.ts";
import { selectorMatches, type Labels } from "../../api/selectors/objects.ts";
import type { NodeInfo } from "../nodeinfo.ts";
import type { AffinityTerm, PodInfo } from "../podinfo.ts";

const NAME = "InterPodAffinity";
export const ERR_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
/** Upstream default hardPodAffinityWeight: existing pods' required affinity counts this much when scoring. */
const HARD_POD_AFFINITY_WEIGHT = 1;

/** Does the term select this pod (namespace + label selector)? */
export function termMatches(term: AffinityTerm, p: PodInfo, nsLabels: (ns: string) => Labels): boolean {
  const nsOk =
    term.namespaces.has(p.namespace) || (term.namespaceSelector !== undefined && selectorMatches(term.namespaceSelector, nsLabels(p.namespace)));
  return nsOk && selectorMatches(term.selector, p.labels);
}

const pair = (k: string, v: string) => `${k}\0${v}`;
const bump = (m: Map<string, number>, k: string, d: number) => m.set(k, (m.get(k) ?? 0) + d);

class State implements PluginState {
  constructor(
    public affinityCounts: Map<string, number>,
    public antiAffinityCounts: Map<string, number>,
    public existingAntiAffinityCounts: Map<string, number>,
    public nsLabels: (ns: string) => Labels,
  ) {}
  clone(): State {
    return new State(new Map(this.affinityCounts), new Map(this.antiAffinityCounts), new Map(this.existingAntiAffinityCounts), this.nsLabels);
  }
}

/** Applies one existing pod on one node to the counts (delta +1 to add, -1 to remove). */
function account(s: State, pi: PodInfo, other: PodInfo, ni: NodeInfo, delta: number): void {
  const labels = ni.labels;
  // Existing pod's required anti-affinity against the incoming pod.
  for (const t of other.requiredAntiAffinity) {
    const v = labels[t.topologyKey];
    if (v !== undefined && termMatches(t, pi, s.nsLabels)) bump(s.existingAntiAffinityCounts, pair(t.topologyKey, v), delta);
  }
  // Incoming pod's required affinity: an existing pod counts when it matches all terms.
  if (pi.requiredAffinity.length && pi.requiredAffinity.every((t) => termMatches(t, other, s.nsLabels))) {
    for (const t of pi.requiredAffinity) {
      const v = labels[t.topologyKey];
      if (v !== undefined) bump(s.affinityCounts, pair(t.topologyKey, v), delta);
    }
  }
  for (const t of pi.requiredAntiAffinity) {
    const v = labels[t.topologyKey];
    if (v !== undefined && termMatches(t, other, s.nsLabels)) bump(s.antiAffinityCounts, pair(t.topologyKey, v), delta);
  }
}

function positive(m: Map<string, number>): boolean {
  for (const v of m.values()) if (v > 0) return true;
  return false;
}

class ScoreState implements PluginState {
  constructor(public topologyScore: Map<string, Map<string, number>>) {}
  clone(): ScoreState {
    return this;
  }
}

export const interPodAffinity: Plugin = {
  name: NAME,
  weight: 2,
  preFilter(state: CycleState, pi: PodInfo, snap: Snapshot) {
    const s = new State(new Map(), new Map(), new Map(), (ns) => snap.namespaceLabels(ns));
    const needAll = pi.requiredAffinity.length > 0 || pi.requiredAntiAffinity.length > 0;
    for (const ni of snap.nodes) {
      // Without own required terms only existing pods' anti-affinity matters: skip nodes without such pods.
      if (!needAll && ni.podsWithRequiredAntiAffinity === 0) continue;
      for (const other of ni.pods.values()) account(s, pi, other, ni, 1);
    }
    // Nothing to enforce for this pod anywhere (upstream skips the filter too).
    if (!needAll && s.existingAntiAffinityCounts.size === 0) return SKIP;
    state.set(NAME, s);
    return undefined;
  },
  addPod(state, pi, other, ni) {
    const s = state.get<State>(NAME);
    if (s) account(s, pi, other, ni, 1);
  },
  removePod(state, pi, other, ni) {
    const s = state.get<State>(NAME);
    if (s) account(s, pi, other, ni, -1);
  },
  filter(state, pi, ni) {
    const s = state.get<State>(NAME);
    if (!s) return undefined;
    const labels = ni.labels;
    // Required affinity: every term's topology domain on this node must hold a matching pod.
    if (pi.requiredAffinity.length) {
      let podsExist = true;
      for (const t of pi.requiredAffinity) {
        const v = labels[t.topologyKey];
        if (v === undefined) return unresolvable(NAME, ERR_AFFINITY);
        if ((s.affinityCounts.get(pair(t.topologyKey, v)) ?? 0) <= 0) podsExist = false;
      }
      // The first pod of a group with affinity to itself may go anywhere with the topology labels.
      if (!podsExist && !(!positive(s.affinityCounts) && pi.requiredAffinity.every((t) => termMatches(t, pi, s.nsLabels))))
        return unresolvable(NAME, ERR_AFFINITY);
    }
    for (const t of pi.requiredAntiAffinity) {
      const v = labels[t.topologyKey];
      if (v !== undefined && (s.antiAffinityCounts.get(pair(t.topologyKey, v)) ?? 0) > 0) return unschedulable(NAME, ERR_ANTI_AFFINITY);
    }
    if (s.existingAntiAffinityCounts.size) {
      for (const [k, v] of Object.entries(labels))
        if ((s.existingAntiAffinityCounts.get(pair(k, v)) ?? 0) > 0) return unschedulable(NAME, ERR_EXISTING_ANTI_AFFINITY);
    }
    return undefined;
  },
  preScore(state, pi, _feasible, snap) {
    const hasOwnPreferred = pi.preferredAffinity.length > 0 || pi.preferredAntiAffinity.length > 0;
    const ts = new Map<string, Map<string, number>>();
    const nsLabels = (ns: string) => snap.namespaceLabels(ns);
    const add = (key: string, value: string | undefined, w: number) => {
      if (value === undefined || w === 0) return;
      let m = ts.get(key);
      if (!m) ts.set(key, (m = new Map()));
      m.set(value, (m.get(value) ?? 0) + w);
    };
    for (const ni of snap.nodes) {
      if (!hasOwnPreferred && ni.podsWithAffinity === 0) continue;
      const labels = ni.labels;
      for (const other of ni.pods.values()) {
        for (const t of pi.preferredAffinity) if (termMatches(t, other, nsLabels)) add(t.topologyKey, labels[t.topologyKey], t.weight);
        for (const t of pi.preferredAntiAffinity) if (termMatches(t, other, nsLabels)) add(t.topologyKey, labels[t.topologyKey], -t.weight);
        for (const t of other.requiredAffinity)
          if (termMatches(t, pi, nsLabels)) add(t.topologyKey, labels[t.topologyKey], HARD_POD_AFFINITY_WEIGHT);
        for (const t of other.preferredAffinity) if (termMatches(t, pi, nsLabels)) add(t.topologyKey, labels[t.topologyKey], t.weight);
        for (const t of other.preferredAntiAffinity) if (termMatches(t, pi, nsLabels)) add(t.topologyKey, labels[t.topologyKey], -t.weight);
      }
    }
    if (ts.size === 0) return SKIP;
    state.set(NAME + "/score", new ScoreState(ts));
  },
  score(state, _pi, ni) {
    const s = state.get<ScoreState>(NAME + "/score");
    if (!s) return 0;
    let score = 0;
    for (const [key, m] of s.topologyScore) {
      const v = ni.labels[key];
      if (v !== undefined) score += m.get(v) ?? 0;
    }
    return score;
  },
  normalize(state, _pi, scores) {
    const s = state.get<ScoreState>(NAME + "/score");
    if (!s) {
      scores.fill(0);
      return;
    }
    let min = Infinity;
    let max = -Infinity;
    for (const x of scores) {
      if (x < min) min = x;
      if (x > max) max = x;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.trunc((MAX_NODE_SCORE * (scores[i]! - min)) / diff) : 0;
  },
};
