// One scheduling attempt: preFilter → filter (stopping once enough feasible nodes are found, as upstream's
// percentageOfNodesToScore) → score → pick the best node; and, when nothing fits, the preemption dry run.

import { CycleState, MAX_NODE_SCORE, fitErrorMessage, type Diagnosis, type Plugin, type Snapshot, type Status } from "./framework.ts";
import type { NodeInfo } from "./nodeinfo.ts";
import type { PodInfo } from "./podinfo.ts";
import { nodeName, nodeUnschedulable, nodeAffinity, nodePorts, taintToleration } from "./plugins/basic.ts";
import { interPodAffinity } from "./plugins/interpodaffinity.ts";
import { balancedAllocation, nodeResourcesFit } from "./plugins/resources.ts";
import { podTopologySpread } from "./plugins/topologyspread.ts";

/** Filter order and score weights of upstream's default profile (the parts kubun serves). */
export const DEFAULT_PLUGINS: Plugin[] = [
  nodeUnschedulable,
  nodeName,
  taintToleration,
  nodeAffinity,
  nodePorts,
  nodeResourcesFit,
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
        for (const pl of this.plugins) pl.addPod?.(st, pi, p, withNoms);
      }
      const s = this.filterOnly(st, pi, withNoms);
      if (s) return s;
    }
    return this.filterOnly(state, pi, ni);
  }

  private filterOnly(state: CycleState, pi: PodInfo, ni: NodeInfo): Status | undefined {
    for (const pl of this.plugins) {
      if (!pl.filter) continue;
      const s = pl.filter(state, pi, ni);
      if (s) return s;
    }
    return undefined;
  }

  preFilter(pi: PodInfo, snap: Snapshot): { state: CycleState; status?: Status } {
    const state = new CycleState();
    for (const pl of this.plugins) {
      const s = pl.preFilter?.(state, pi, snap);
      if (s) return { state, status: s };
    }
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
      if (!pl.score) continue;
      pl.preScore?.(state, pi, feasible, snap);
      const scores = feasible.map((ni) => pl.score!(state, pi, ni));
      pl.normalize?.(state, pi, scores, feasible);
      const w = pl.weight ?? 1;
      for (let j = 0; j < scores.length; j++) totals[j]! += Math.max(0, Math.min(MAX_NODE_SCORE, scores[j]!)) * w;
    }
    return totals;
  }
}

export interface Victims {
  node: string;
  pods: PodInfo[];
}

export interface PreemptionResult {
  candidate?: Victims;
  /** Message for the FitError's PostFilter part (empty when a candidate was found). */
  message: string;
}

/** Upstream MoreImportantPod: higher priority, then the one that started earlier. */
function moreImportant(a: PodInfo, b: PodInfo): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return startTime(a) < startTime(b);
}
function startTime(p: PodInfo): number {
  const t = p.pod.status?.startTime ?? p.pod.metadata?.creationTimestamp;
  return t ? Date.parse(t) : Date.now();
}

/**
 * DefaultPreemption's dry run: on each node that failed with a resolvable status, remove every lower-priority pod,
 * check the pod fits, then reprieve victims from the most important down while it still fits.
 */
export function findPreemption(
  algo: Algorithm,
  pi: PodInfo,
  state: CycleState,
  diag: Diagnosis,
  snap: Snapshot,
  plugins: Plugin[] = DEFAULT_PLUGINS,
  nominated?: NominatedPods,
): PreemptionResult {
  const pod = pi.pod;
  if (pod.spec?.preemptionPolicy === "Never") return { message: "preemption: not eligible due to preemptionPolicy=Never." };
  const nominatedNode = pod.status?.nominatedNodeName;
  if (nominatedNode) {
    const ni = snap.node(nominatedNode);
    const st = diag.nodeToStatus.get(nominatedNode);
    // Victims of an earlier preemption are still terminating there: wait rather than preempt more.
    if (ni && st?.code !== "UnschedulableAndUnresolvable")
      for (const p of ni.pods.values())
        if (p.terminating && p.priority < pi.priority) return { message: "preemption: not eligible due to a terminating pod on the nominated node." };
  }
  const all = snap.nodes.length;
  const statuses = new Map<string, Status>();
  const candidates: Victims[] = [];
  for (const ni of snap.nodes) {
    const st = diag.nodeToStatus.get(ni.name);
    if (!st || st.code !== "Unschedulable") continue;
    const r = selectVictims(algo, pi, state, ni, plugins, nominated);
    if ("status" in r) statuses.set(ni.name, r.status);
    else candidates.push({ node: ni.name, pods: r.victims });
  }
  if (candidates.length === 0) {
    return { message: "preemption: " + fitErrorMessage(all, { nodeToStatus: statuses }, "Preemption is not helpful for scheduling") };
  }
  return { candidate: pickCandidate(candidates), message: "" };
}

function selectVictims(
  algo: Algorithm,
  pi: PodInfo,
  state0: CycleState,
  ni0: NodeInfo,
  plugins: Plugin[],
  nominated?: NominatedPods,
): { victims: PodInfo[] } | { status: Status } {
  const ni = ni0.clone();
  const state = state0.clone();
  const potential = [...ni.pods.values()].filter((p) => p.priority < pi.priority);
  if (potential.length === 0) return { status: { code: "UnschedulableAndUnresolvable", reasons: ["No preemption victims found for incoming pod"], plugin: "DefaultPreemption" } };
  const remove = (p: PodInfo) => {
    ni.removePod(p.key);
    for (const pl of plugins) pl.removePod?.(state, pi, p, ni);
  };
  const add = (p: PodInfo) => {
    ni.addPod(p);
    for (const pl of plugins) pl.addPod?.(state, pi, p, ni);
  };
  for (const p of potential) remove(p);
  const st = algo.runFilters(state, pi, ni, nominated);
  if (st) return { status: st };
  potential.sort((a, b) => (moreImportant(a, b) ? -1 : moreImportant(b, a) ? 1 : 0));
  const victims: PodInfo[] = [];
  for (const p of potential) {
    add(p);
    if (algo.runFilters(state, pi, ni, nominated)) {
      remove(p);
      victims.push(p);
    }
  }
  return { victims };
}

/** Upstream pickOneNodeForPreemption without PDBs: lowest top victim priority, lowest sum, fewest, latest start. */
function pickCandidate(cs: Victims[]): Victims {
  const fns: ((c: Victims) => number)[] = [
    (c) => -Math.max(...c.pods.map((p) => p.priority)),
    (c) => -c.pods.reduce((s, p) => s + p.priority + 2 ** 31, 0),
    (c) => -c.pods.length,
    (c) => {
      const top = Math.max(...c.pods.map((p) => p.priority));
      return Math.min(...c.pods.filter((p) => p.priority === top).map(startTime));
    },
  ];
  let left = cs;
  for (const f of fns) {
    let best = -Infinity;
    let sel: Victims[] = [];
    for (const c of left) {
      const s = f(c);
      if (s > best) {
        best = s;
        sel = [c];
      } else if (s === best) sel.push(c);
    }
    if (sel.length === 1) return sel[0]!;
    left = sel;
  }
  return left[0]!;
}
