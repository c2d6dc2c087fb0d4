// One scheduling attempt: preFilter → filter (stopping once enough feasible nodes are found, as upstream's
// percentageOfNodesToScore) → score → pick the best node. Preemption is in preemption.ts.

import { CycleState, MAX_NODE_SCORE, SKIP, type Diagnosis, type Plugin, type Snapshot, type Status } from "./framework.ts";
import type { NodeInfo } from "./nodeinfo.ts";
import type { PodInfo } from "./podinfo.ts";
import { nodeName, nodeUnschedulable, nodeAffinity, nodePorts, taintToleration } from "./plugins/basic.ts";
import { interPodAffinity } from "./plugins/interpodaffinity.ts";
import { balancedAllocation, nodeResourcesFit } from "./plugins/resources.ts";
import { podTopologySpread } from "./plugins/topologyspread.ts";
import { volumeBinding } from "./plugins/volumes.ts";
import { nodeVolumeLimits } from "./plugins/volumelimits.ts";

/** Filter order and score weights of upstream's default profile (the parts kubun serves). */
export const DEFAULT_PLUGINS: Plugin[] = [
  nodeUnschedulable,
  nodeName,
  taintToleration,
  nodeAffinity,
  nodePorts,
  nodeResourcesFit,
  nodeVolumeLimits,
  volumeBinding,
  podTopologySpread,
  interPodAffinity,
  balancedAllocation,
];

export const NO_NODES_MSG = "no nodes available to schedule pods";

/**
 * NodeAffinity's PreFilter result: the node names a pod is pinned to by `matchFields metadata.name In`, in every
 * term (as DaemonSet pods are); undefined when any term leaves all nodes possible.
 */
export function pinnedNodeNames(pi: PodInfo): Set<string> | undefined {
  const terms = pi.pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms || terms.length === 0) return undefined;
  let names: Set<string> | undefined;
  for (const t of terms) {
    let termNames: Set<string> | undefined;
    for (const r of t.matchFields ?? []) {
      if (r.key !== "metadata.name" || r.operator !== "In") continue;
      const s = new Set(r.values ?? []);
      termNames = termNames ? new Set([...termNames].filter((x) => s.has(x))) : s;
    }
    if (!termNames) return undefined;
    names = new Set([...(names ?? []), ...termNames]);
  }
  return names;
}

/** Upstream numFeasibleNodesToFind with the adaptive percentage (50% − nodes/125, at least 5%, at least 100 nodes). */
export function numFeasibleNodesToFind(n: number): number {
  if (n < 100) return n;
  let pct = 50 - Math.trunc(n / 125);
  if (pct < 5) pct = 5;
  const num = Math.trunc((n * pct) / 100);
  return num < 100 ? 100 : num;
}

/** Pods nominated to nodes (by earlier preemption), which higher-or-equal priority pods must leave room for. */
export type NominatedPods = (node: string) => PodInfo[] | undefined;

export interface ScheduleResult {
  node?: string;
  /** Set when no node fits. */
  diagnosis?: Diagnosis;
  state: CycleState;
  feasible: number;
  evaluated: number;
}

export class Algorithm {
  private nextStart = 0;
  constructor(
    private plugins: Plugin[] = DEFAULT_PLUGINS,
    private random: () => number = Math.random,
  ) {}

  /** Runs every filter on one node; nominated pods of at least the pod's priority are counted as if running. */
  runFilters(state: CycleState, pi: PodInfo, ni: NodeInfo, nominated?: NominatedPods): Status | undefined {
    const noms = nominated?.(ni.name)?.filter((p) => p.key !== pi.key && p.priority >= pi.priority);
    if (noms && noms.length) {
      const withNoms = ni.clone();
      const st = state.clone();
      for (const p of noms) {
        withNoms.addPod(p);
        for (const pl of st.filters ?? this.plugins) pl.addPod?.(st, pi, p, withNoms);
      }
      const s = this.filterOnly(st, pi, withNoms);
      if (s) return s;
    }
    return this.filterOnly(state, pi, ni);
  }

  private filterOnly(state: CycleState, pi: PodInfo, ni: NodeInfo): Status | undefined {
    for (const pl of state.filters ?? this.plugins) {
      if (!pl.filter) continue;
      const s = pl.filter(state, pi, ni);
      if (s) return s;
    }
    return undefined;
  }

  preFilter(pi: PodInfo, snap: Snapshot): { state: CycleState; status?: Status } {
    const state = new CycleState();
    const filters: Plugin[] = [];
    for (const pl of this.plugins) {
      const s = pl.preFilter?.(state, pi, snap);
      if (s === SKIP) continue;
      if (s) return { state, status: s };
      if (pl.filter) filters.push(pl);
    }
    state.filters = filters;
    return { state };
  }

  schedule(pi: PodInfo, snap: Snapshot, nominated?: NominatedPods): ScheduleResult {
    const nodes = snap.nodes;
    const pinned = pinnedNodeNames(pi);
    const { state, status: pfStatus } = this.preFilter(pi, snap);
    const status: Status | undefined =
      pfStatus ?? (pinned && pinned.size === 0 ? { code: "UnschedulableAndUnresolvable", reasons: ["pod affinity terms conflict"], plugin: "NodeAffinity" } : undefined);
    if (status) {
      const nodeToStatus = new Map<string, Status>();
      for (const ni of nodes) nodeToStatus.set(ni.name, status);
      return { state, diagnosis: { nodeToStatus, preFilterMsg: status.reasons.join(", ") }, feasible: 0, evaluated: 0 };
    }
    // A node nominated by an earlier preemption is tried first and taken if it fits.
    const nominatedNode = pi.pod.status?.nominatedNodeName;
    if (nominatedNode) {
      const ni = snap.node(nominatedNode);
      if (ni && !this.runFilters(state, pi, ni, nominated)) return { state, node: ni.name, feasible: 1, evaluated: 1 };
    }
    let candidates = nodes;
    let absentReason: string | undefined;
    if (pinned) {
      candidates = [...pinned].map((name) => snap.node(name)).filter((x): x is NodeInfo => !!x);
      absentReason = "node(s) didn't satisfy plugin(s) [NodeAffinity]";
    }
    const n = candidates.length;
    const want = numFeasibleNodesToFind(n);
    const feasible: NodeInfo[] = [];
    const nodeToStatus = new Map<string, Status>();
    let i = 0;
    for (; i < n && feasible.length < want; i++) {
      const ni = candidates[(this.nextStart + i) % n]!;
      const s = this.runFilters(state, pi, ni, nominated);
      if (s) nodeToStatus.set(ni.name, s);
      else feasible.push(ni);
    }
    if (!pinned) this.nextStart = n ? (this.nextStart + i) % n : 0;
    if (feasible.length === 0) return { state, diagnosis: { nodeToStatus, absentReason }, feasible: 0, evaluated: i };
    if (feasible.length === 1) return { state, node: feasible[0]!.name, feasible: 1, evaluated: i };
    const totals = this.score(state, pi, feasible, snap);
    // Highest total; ties broken uniformly at random (reservoir sampling, as upstream selectHost).
    let best = -1;
    let bestScore = -Infinity;
    let ties = 0;
    for (let j = 0; j < feasible.length; j++) {
      const s = totals[j]!;
      if (s > bestScore) {
        bestScore = s;
        best = j;
        ties = 1;
      } else if (s === bestScore) {
        ties++;
        if (this.random() * ties < 1) best = j;
      }
    }
    return { state, node: feasible[best]!.name, feasible: feasible.length, evaluated: i };
  }

  /** Weighted sum of normalised plugin scores per feasible node. */
  score(state: CycleState, pi: PodInfo, feasible: NodeInfo[], snap: Snapshot): number[] {
    const totals = new Array<number>(feasible.length).fill(0);
    for (const pl of this.plugins) {
      if (!pl.score || pl.preScore?.(state, pi, feasible, snap) === SKIP) continue;
      const scores = feasible.map((ni) => pl.score!(state, pi, ni));
      pl.normalize?.(state, pi, scores, feasible);
      const w = pl.weight ?? 1;
      for (let j = 0; j < scores.length; j++) totals[j]! += Math.max(0, Math.min(MAX_NODE_SCORE, scores[j]!)) * w;
    }
    return totals;
  }
}
