// The scheduling framework's moving parts, reduced to what kubun's default profile uses: plugins with
// preFilter/filter/preScore/score/normalize steps, statuses with upstream codes and reasons, and the FitError text.

import type { PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1";
import type { CSINode, StorageClass } from "kubernetes-types/storage/v1";
import type { Labels } from "../api/selectors/objects.ts";
import type { NodeInfo } from "./nodeinfo.ts";
import type { PodInfo } from "./podinfo.ts";

export const MAX_NODE_SCORE = 100;

export type Code = "Unschedulable" | "UnschedulableAndUnresolvable";

export interface Status {
  code: Code;
  reasons: string[];
  plugin: string;
}

export function unschedulable(plugin: string, ...reasons: string[]): Status {
  return { code: "Unschedulable", reasons, plugin };
}
export function unresolvable(plugin: string, ...reasons: string[]): Status {
  return { code: "UnschedulableAndUnresolvable", reasons, plugin };
}

/** What plugins may read about the cluster during one scheduling cycle. */
export interface Snapshot {
  nodes: NodeInfo[];
  node(name: string): NodeInfo | undefined;
  namespaceLabels(ns: string): Labels;
  /** A PersistentVolumeClaim, when the snapshot knows claims (undefined: not found). */
  pvc?(namespace: string, name: string): PersistentVolumeClaim | undefined;
  /** PersistentVolumes and StorageClasses, when the snapshot knows them (VolumeBinding). */
  pv?(name: string): PersistentVolume | undefined;
  pvs?(): Iterable<PersistentVolume>;
  storageClass?(name: string): StorageClass | undefined;
  /** A node's CSINode (NodeVolumeLimits). */
  csiNode?(name: string): CSINode | undefined;
}

/** Per-cycle plugin state; clone() is used by preemption dry runs. */
export interface PluginState {
  clone(): PluginState;
}

/**
 * Returned by preFilter (or preScore) when the plugin's filter (or score) cannot tell nodes apart for this pod, as
 * upstream's framework.Skip: the cycle leaves it out instead of calling it once per node.
 */
export const SKIP = Symbol("Skip");
export type Skip = typeof SKIP;

export class CycleState {
  private m = new Map<string, PluginState>();
  /** The plugins whose filter runs this cycle (preFilter did not skip them); unset = every plugin with a filter. */
  filters?: Plugin[];
  get<T extends PluginState>(plugin: string): T | undefined {
    return this.m.get(plugin) as T | undefined;
  }
  set(plugin: string, s: PluginState): void {
    this.m.set(plugin, s);
  }
  clone(): CycleState {
    const c = new CycleState();
    c.filters = this.filters;
    for (const [k, v] of this.m) c.m.set(k, v.clone());
    return c;
  }
}

export interface Plugin {
  name: string;
  /** Score weight in the default profile. */
  weight?: number;
  /** Computes state for filter; a Status here rejects the pod on every node; SKIP leaves filter (and addPod/removePod) out. */
  preFilter?(state: CycleState, pod: PodInfo, snap: Snapshot): Status | Skip | undefined;
  /** Keeps preFilter state right when preemption removes (or re-adds) a pod on a node. */
  addPod?(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo): void;
  removePod?(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo): void;
  filter?(state: CycleState, pod: PodInfo, node: NodeInfo): Status | undefined;
  /** Computes state for score; SKIP leaves score and normalize out (the plugin adds nothing to any node). */
  preScore?(state: CycleState, pod: PodInfo, feasible: NodeInfo[], snap: Snapshot): Skip | void;
  score?(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  normalize?(state: CycleState, pod: PodInfo, scores: number[], nodes: NodeInfo[]): void;
}

/** Upstream helper: scale to [0, 100] by the max, optionally reversed. */
export function defaultNormalize(scores: number[], reverse: boolean): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  if (max === 0) {
    if (reverse) scores.fill(MAX_NODE_SCORE);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    const s = Math.trunc((MAX_NODE_SCORE * scores[i]!) / max);
    scores[i] = reverse ? MAX_NODE_SCORE - s : s;
  }
}

export interface Diagnosis {
  /** Node name → status of the first failing filter. */
  nodeToStatus: Map<string, Status>;
  preFilterMsg?: string;
  postFilterMsg?: string;
  /** Reason for nodes a PreFilter result excluded from evaluation. */
  absentReason?: string;
}

/** Upstream FitError.Error(): "0/N nodes are available: <prefilter>. <n reason, ...>. <postfilter>." */
export function fitErrorMessage(numAllNodes: number, d: Diagnosis, absentReason?: string): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (d.preFilterMsg) msg += ` ${d.preFilterMsg}.`;
  else {
    const counts = new Map<string, number>();
    for (const st of d.nodeToStatus.values()) for (const r of st.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    // Nodes that were never evaluated get the caller's reason (preemption: "Preemption is not helpful for scheduling").
    const absent = d.absentReason ?? absentReason;
    if (absent && d.nodeToStatus.size < numAllNodes) counts.set(absent, (counts.get(absent) ?? 0) + numAllNodes - d.nodeToStatus.size);
    const parts = [...counts].map(([r, n]) => `${n} ${r}`);
    parts.sort(goStringLess);
    if (parts.length) msg += ` ${parts.join(", ")}.`;
  }
  // A nested FitError already ends with a period; upstream no longer doubles it.
  if (d.postFilterMsg) msg += d.postFilterMsg.endsWith(".") ? ` ${d.postFilterMsg}` : ` ${d.postFilterMsg}.`;
  return msg;
}

/** Byte-wise ordering as Go's sort.Strings. */
function goStringLess(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
