// The scheduler's view of the cluster: NodeInfos with the pods bound to them, including "assumed" pods that this
// scheduler has bound but not yet seen in the pod watch (so they count against resources at once), as upstream's
// scheduler cache.

import type { Node, PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1";
import type { CSINode, StorageClass } from "kubernetes-types/storage/v1";
import type { Snapshot } from "./framework.ts";
import type { Labels } from "../api/selectors/objects.ts";
import { NodeInfo } from "./nodeinfo.ts";
import { makePodInfo, podKey, type PodInfo } from "./podinfo.ts";

interface PodState {
  pi: PodInfo;
  node: string;
  assumed: boolean;
  /** For assumed pods whose binding finished: when to give up waiting for the watch to confirm them. */
  deadline?: number;
}

/** Assumed pods not confirmed by the watch this long after binding are dropped (upstream: 30 s; 0 = never). */
const ASSUMED_TTL_MS = 30_000;

export class SchedulerCache implements Snapshot {
  private nodeInfos = new Map<string, NodeInfo>();
  private list: NodeInfo[] = [];
  private listDirty = false;
  private podStates = new Map<string, PodState>();
  /** Keys of assumed pods, so expiry checks do not walk every pod. */
  private assumed = new Set<string>();
  /** Pods bound to nodes we have not seen yet. */
  private orphans = new Map<string, Map<string, PodInfo>>();
  private nsLabels = new Map<string, Labels>();
  /** Set by the scheduler to read its PVC informer; without it claims are not checked. */
  pvc?: (namespace: string, name: string) => PersistentVolumeClaim | undefined;
  /** Set by the scheduler to read its PV and StorageClass informers (VolumeBinding). */
  pv?: (name: string) => PersistentVolume | undefined;
  pvs?: () => Iterable<PersistentVolume>;
  storageClass?: (name: string) => StorageClass | undefined;
  csiNode?: (name: string) => CSINode | undefined;

  get nodes(): NodeInfo[] {
    if (this.listDirty) {
      this.list = [...this.nodeInfos.values()];
      this.listDirty = false;
    }
    return this.list;
  }

  node(name: string): NodeInfo | undefined {
    return this.nodeInfos.get(name);
  }

  namespaceLabels(ns: string): Labels {
    return this.nsLabels.get(ns);
  }

  setNamespace(name: string, labels: Labels | undefined): void {
    if (labels === undefined) this.nsLabels.delete(name);
    else this.nsLabels.set(name, labels);
  }

  addOrUpdateNode(node: Node): void {
    const name = node.metadata!.name!;
    const ni = this.nodeInfos.get(name);
    if (ni) {
      ni.setNode(node);
      return;
    }
    const fresh = new NodeInfo(node);
    const waiting = this.orphans.get(name);
    if (waiting) {
      for (const pi of waiting.values()) fresh.addPod(pi);
      this.orphans.delete(name);
    }
    this.nodeInfos.set(name, fresh);
    this.listDirty = true;
  }

  removeNode(name: string): void {
    const ni = this.nodeInfos.get(name);
    if (!ni) return;
    // Pods stay accounted to the name in case the node comes back (upstream keeps a ghost NodeInfo).
    if (ni.pods.size) this.orphans.set(name, new Map(ni.pods));
    this.nodeInfos.delete(name);
    this.listDirty = true;
  }

  private place(pi: PodInfo, node: string): void {
    const ni = this.nodeInfos.get(node);
    if (ni) ni.addPod(pi);
    else {
      let m = this.orphans.get(node);
      if (!m) this.orphans.set(node, (m = new Map()));
      m.set(pi.key, pi);
    }
  }

  private unplace(key: string, node: string): void {
    const ni = this.nodeInfos.get(node);
    if (ni) ni.removePod(key);
    else {
      const m = this.orphans.get(node);
      m?.delete(key);
      if (m && m.size === 0) this.orphans.delete(node);
    }
  }

  isAssumed(key: string): boolean {
    return this.podStates.get(key)?.assumed === true;
  }

  /** Counts the pod on the node before the binding is confirmed. */
  assume(pi: PodInfo, node: string): void {
    this.place(pi, node);
    this.podStates.set(pi.key, { pi, node, assumed: true });
    this.assumed.add(pi.key);
  }

  finishBinding(key: string): void {
    const st = this.podStates.get(key);
    if (st?.assumed) st.deadline = Date.now() + ASSUMED_TTL_MS;
  }

  /** The binding failed: undo assume. True when an assumption was undone (its room is free again). */
  forget(key: string): boolean {
    const st = this.podStates.get(key);
    if (!st?.assumed) return false;
    this.unplace(key, st.node);
    this.podStates.delete(key);
    this.assumed.delete(key);
    return true;
  }

  /** A bound pod from the watch (add or update). Terminal pods free their resources. */
  upsertPod(pod: Pod): void {
    const key = podKey(pod);
    const node = pod.spec?.nodeName;
    const phase = pod.status?.phase;
    if (!node || phase === "Succeeded" || phase === "Failed") {
      this.removePod(key);
      return;
    }
    const st = this.podStates.get(key);
    if (st) this.unplace(key, st.node);
    const pi = makePodInfo(pod);
    this.place(pi, node);
    this.podStates.set(key, { pi, node, assumed: false });
    this.assumed.delete(key);
  }

  removePod(key: string): void {
    const st = this.podStates.get(key);
    if (!st) return;
    this.unplace(key, st.node);
    this.podStates.delete(key);
    this.assumed.delete(key);
  }

  /** Drops assumed pods whose confirmation never came. */
  cleanupExpired(now = Date.now()): void {
    for (const key of [...this.assumed]) {
      const st = this.podStates.get(key);
      if (st?.assumed && st.deadline !== undefined && now > st.deadline) this.removePod(key);
    }
  }

  podCount(): number {
    return this.podStates.size;
  }
}
