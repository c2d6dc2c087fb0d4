// DefaultPreemption: when no node fits, find the node where evicting the fewest, least important lower-priority
// pods makes the pod fit (respecting PodDisruptionBudgets where possible), as upstream's preemption evaluator.

import type { PodDisruptionBudget } from "kubernetes-types/policy/v1";
import { DEFAULT_PLUGINS, type Algorithm, type NominatedPods } from "./algorithm.ts";
import { fitErrorMessage, type CycleState, type Diagnosis, type Plugin, type Snapshot, type Status } from "./framework.ts";
import { selectorMatches } from "../api/selectors/objects.ts";
import type { NodeInfo } from "./nodeinfo.ts";
import type { PodInfo } from "./podinfo.ts";

export interface Victims {
  node: string;
  pods: PodInfo[];
  /** Victims whose eviction would break a PodDisruptionBudget. */
  pdbViolations?: number;
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
  pdbs: PodDisruptionBudget[] = [],
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
    const r = selectVictims(algo, pi, state, ni, plugins, nominated, pdbs);
    if ("status" in r) statuses.set(ni.name, r.status);
    else candidates.push({ node: ni.name, pods: r.victims, pdbViolations: r.pdbViolations });
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
  nominated: NominatedPods | undefined,
  pdbs: PodDisruptionBudget[],
): { victims: PodInfo[]; pdbViolations: number } | { status: Status } {
  const ni = ni0.clone();
  const state = state0.clone();
  const potential = [...ni.pods.values()].filter((p) => p.priority < pi.priority);
  if (potential.length === 0) return { status: { code: "UnschedulableAndUnresolvable", reasons: ["No preemption victims found for incoming pod"], plugin: "DefaultPreemption" } };
  // Plugins whose filter this cycle skips keep no state to update.
  const active = state.filters ?? plugins;
  const remove = (p: PodInfo) => {
    ni.removePod(p.key);
    for (const pl of active) pl.removePod?.(state, pi, p, ni);
  };
  const add = (p: PodInfo) => {
    ni.addPod(p);
    for (const pl of active) pl.addPod?.(state, pi, p, ni);
  };
  for (const p of potential) remove(p);
  const st = algo.runFilters(state, pi, ni, nominated);
  if (st) return { status: st };
  const byImportance = (a: PodInfo, b: PodInfo) => (moreImportant(a, b) ? -1 : moreImportant(b, a) ? 1 : 0);
  potential.sort(byImportance);
  // Reprieve budget-protected pods first, then the rest, each from the most important down.
  const { violating, nonViolating } = splitByPDB(potential, pdbs);
  const victims: PodInfo[] = [];
  let pdbViolations = 0;
  const reprieve = (p: PodInfo): boolean => {
    add(p);
    if (!algo.runFilters(state, pi, ni, nominated)) return true;
    remove(p);
    victims.push(p);
    return false;
  };
  for (const p of violating) if (!reprieve(p)) pdbViolations++;
  for (const p of nonViolating) reprieve(p);
  if (violating.length && nonViolating.length) victims.sort(byImportance);
  return { victims, pdbViolations };
}

/** Upstream filterPodsWithPDBViolation: which pods' eviction would take a budget below zero. */
function splitByPDB(pods: PodInfo[], pdbs: PodDisruptionBudget[]): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = pdbs.map((p) => p.status?.disruptionsAllowed ?? 0);
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const p of pods) {
    let violated = false;
    if (Object.keys(p.labels).length) {
      pdbs.forEach((pdb, i) => {
        if (pdb.metadata?.namespace !== p.namespace) return;
        const sel = pdb.spec?.selector;
        // A nil or empty selector matches nothing here (upstream).
        if (!sel || (!sel.matchLabels && !sel.matchExpressions) || !selectorMatches(sel, p.labels)) return;
        if (pdb.status?.disruptedPods?.[p.pod.metadata?.name ?? ""]) return;
        allowed[i]!--;
        if (allowed[i]! < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(p);
  }
  return { violating, nonViolating };
}

/** Upstream pickOneNodeForPreemption: fewest PDB violations, lowest top victim priority, lowest sum, fewest, latest start. */
function pickCandidate(cs: Victims[]): Victims {
  const fns: ((c: Victims) => number)[] = [
    (c) => -(c.pdbViolations ?? 0),
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
