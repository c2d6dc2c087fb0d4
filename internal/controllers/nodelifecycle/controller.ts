// Node lifecycle controller: watches node Leases (kube-node-lease) and Node status; a node whose kubelet has
// not renewed within nodeMonitorGracePeriodSeconds gets Unknown conditions ("Kubelet stopped posting node
// status."), the unreachable / not-ready taints follow the Ready condition, pods on such nodes are marked not
// ready, and pods are evicted (deleted) from NoExecute-tainted nodes once their toleration runs out.

import type { Lease } from "kubernetes-types/coordination/v1";
import type { Node, NodeCondition, Pod, Taint, Toleration } from "kubernetes-types/core/v1";
import { indexers, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import type { Controller, ControllerContext } from "../context.ts";
import { controllerQueue } from "../context.ts";
import { tolerates } from "../util/taints.ts";

export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
const CONDITION_TAINTS: Record<string, string> = {
  MemoryPressure: "node.kubernetes.io/memory-pressure",
  DiskPressure: "node.kubernetes.io/disk-pressure",
  PIDPressure: "node.kubernetes.io/pid-pressure",
  NetworkUnavailable: "node.kubernetes.io/network-unavailable",
};
const TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
const MANAGED = new Set([TAINT_UNREACHABLE, TAINT_NOT_READY, TAINT_UNSCHEDULABLE, ...Object.values(CONDITION_TAINTS)]);
const STATUS_CONDITIONS = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

const nowRFC = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

/** The taints a node should carry for its conditions and spec.unschedulable (TaintNodesByCondition + NoExecute). */
export function desiredTaints(node: Node): Taint[] {
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  const out: Taint[] = [];
  if (ready?.status === "Unknown") out.push({ key: TAINT_UNREACHABLE, effect: "NoExecute" }, { key: TAINT_UNREACHABLE, effect: "NoSchedule" });
  else if (ready?.status === "False") out.push({ key: TAINT_NOT_READY, effect: "NoExecute" }, { key: TAINT_NOT_READY, effect: "NoSchedule" });
  else if (!ready) out.push({ key: TAINT_NOT_READY, effect: "NoSchedule" }); // registered, never reported
  for (const [type, key] of Object.entries(CONDITION_TAINTS)) {
    const c = node.status?.conditions?.find((x) => x.type === type);
    if (c?.status === "True") out.push({ key, effect: "NoSchedule" });
  }
  if (node.spec?.unschedulable) out.push({ key: TAINT_UNSCHEDULABLE, effect: "NoSchedule" });
  return out;
}

export type ZoneState = "Normal" | "PartialDisruption" | "FullDisruption";
const UNHEALTHY_ZONE_THRESHOLD = 0.55;
const LARGE_CLUSTER_THRESHOLD = 50;

export function zoneOf(node: Node): string {
  const l = node.metadata?.labels ?? {};
  return `${l["topology.kubernetes.io/region"] ?? ""}:${l["topology.kubernetes.io/zone"] ?? ""}`;
}

/**
 * Upstream ComputeZoneState: every node not ready → FullDisruption (the control plane is more likely cut off
 * than every node dead, so nothing is evicted); more than 2 and at least 55% not ready → PartialDisruption.
 */
export function zoneState(nodes: Node[]): ZoneState {
  let notReady = 0;
  for (const n of nodes) if (n.status?.conditions?.find((c) => c.type === "Ready")?.status !== "True") notReady++;
  if (nodes.length > 0 && notReady === nodes.length) return "FullDisruption";
  if (notReady > 2 && notReady / nodes.length >= UNHEALTHY_ZONE_THRESHOLD) return "PartialDisruption";
  return "Normal";
}

/** May NoExecute taints be applied (and pods evicted) in a zone in this state? Small clusters stop in partial disruption, as upstream. */
export function evictionsAllowed(state: ZoneState, zoneSize: number): boolean {
  if (state === "FullDisruption") return false;
  if (state === "PartialDisruption") return zoneSize > LARGE_CLUSTER_THRESHOLD;
  return true;
}

/** When a pod must leave a node with these NoExecute taints: ms since epoch, 0 = now, Infinity = never. */
export function evictionTime(pod: Pod, taints: Taint[], defaultEvictionSeconds?: number): number {
  const noExec = taints.filter((t) => t.effect === "NoExecute");
  if (!noExec.length) return Infinity;
  let at = Infinity;
  for (const taint of noExec) {
    const matching = (pod.spec?.tolerations ?? []).filter((t: Toleration) => tolerates(t, taint));
    const conditionTaint = taint.key === TAINT_UNREACHABLE || taint.key === TAINT_NOT_READY;
    let seconds: number | undefined;
    if (!matching.length) {
      // Upstream: no toleration → evicted at once. The test knob gives condition taints a grace instead.
      if (!(conditionTaint && defaultEvictionSeconds !== undefined)) return 0;
      seconds = defaultEvictionSeconds;
    } else {
      // The shortest bounded toleration wins; any unbounded one tolerates forever.
      const bounded = matching.filter((t) => t.tolerationSeconds !== undefined && t.tolerationSeconds !== null);
      if (bounded.length < matching.length) continue;
      seconds = Math.min(...bounded.map((t) => Math.max(0, t.tolerationSeconds!)));
      if (conditionTaint && defaultEvictionSeconds !== undefined) seconds = Math.min(seconds, defaultEvictionSeconds);
    }
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : Date.now();
    at = Math.min(at, added + seconds * 1000);
  }
  return at;
}

export function newNodeLifecycleController(ctx: ControllerContext): Controller {
  const log = ctx.log.child("nodelifecycle");
  const grace = (ctx.options.nodeMonitorGracePeriodSeconds ?? 40) * 1000;
  const period = ctx.options.nodeMonitorPeriodMs ?? Math.min(5000, Math.max(200, grace / 8));
  const nodeInf: Informer<Node> = ctx.informers.informerFor<Node>(refs.nodes);
  const leaseInf: Informer<Lease> = ctx.informers.informerFor<Lease>(refs.leases, { namespace: "kube-node-lease" });
  const podInf: Informer<Pod> = ctx.informers.informerFor<Pod>(refs.pods);
  podInf.addIndexer("node", indexers.byNodeName);
  const recorder = ctx.recorder("node-controller");
  const { queue, run } = controllerQueue(ctx, "nodelifecycle");
  const nodes = ctx.client.resource<Node>(refs.nodes);

  // Local observation times (upstream nodeHealthMap): a heartbeat counts when we see it change, not by its
  // own timestamp, so clock skew between machines does not matter.
  const health = new Map<string, { probe: number; leaseRenew?: string; heartbeat?: string }>();
  function observe(name: string, leaseRenew?: string, heartbeat?: string) {
    const h = health.get(name);
    if (!h) return void health.set(name, { probe: Date.now(), leaseRenew, heartbeat });
    if ((leaseRenew && leaseRenew !== h.leaseRenew) || (heartbeat && heartbeat !== h.heartbeat)) h.probe = Date.now();
    if (leaseRenew) h.leaseRenew = leaseRenew;
    if (heartbeat) h.heartbeat = heartbeat;
  }
  const readyHeartbeat = (n: Node) => n.status?.conditions?.find((c) => c.type === "Ready")?.lastHeartbeatTime;

  nodeInf.addEventHandler({
    onAdd: (n) => {
      observe(n.metadata!.name!, undefined, readyHeartbeat(n));
      if (nodeInf.hasSynced()) refreshZones();
      queue.add(n.metadata!.name!);
    },
    onUpdate: (o, n) => {
      observe(n.metadata!.name!, undefined, readyHeartbeat(n));
      const ready = (x: Node) => x.status?.conditions?.find((c) => c.type === "Ready")?.status;
      if (ready(o) !== ready(n) || zoneOf(o) !== zoneOf(n)) refreshZones();
      queue.add(n.metadata!.name!);
    },
    onDelete: (n) => {
      health.delete(n.metadata!.name!);
      refreshZones();
    },
  });
  leaseInf.addEventHandler({
    onAdd: (l) => observe(l.metadata!.name!, l.spec?.renewTime),
    onUpdate: (_o, l) => {
      observe(l.metadata!.name!, l.spec?.renewTime);
      queue.add(l.metadata!.name!);
    },
  });

  /** Sets conditions to Unknown when the kubelet went silent; returns the node to use afterwards. */
  async function monitorHealth(node: Node): Promise<Node> {
    const name = node.metadata!.name!;
    const h = health.get(name);
    if (!h || Date.now() - h.probe <= grace) return node;
    const conds = node.status?.conditions ?? [];
    const ready = conds.find((c) => c.type === "Ready");
    if (ready?.status === "Unknown") return node;
    const t = nowRFC();
    const next: NodeCondition[] = conds.map((c) =>
      STATUS_CONDITIONS.includes(c.type) && c.status !== "Unknown"
        ? { ...c, status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status.", lastTransitionTime: t }
        : c,
    );
    for (const type of STATUS_CONDITIONS) {
      if (!next.some((c) => c.type === type)) {
        next.push({ type, status: "Unknown", reason: "NodeStatusNeverUpdated", message: "Kubelet never posted node status.", lastHeartbeatTime: t, lastTransitionTime: t });
      }
    }
    const updated = await nodes.updateStatus({ ...structuredClone(node), status: { ...(node.status ?? {}), conditions: next } });
    log.info("node stopped posting status", { node: name });
    recorder.event({ ...node, kind: "Node", apiVersion: "v1" }, "Normal", "NodeNotReady", `Node ${name} status is now: NodeNotReady`);
    await markPodsNotReady(name);
    return updated;
  }

  async function markPodsNotReady(nodeName: string): Promise<void> {
    for (const pod of podInf.byIndex("node", nodeName)) {
      const conds = pod.status?.conditions ?? [];
      if (!conds.some((c) => c.type === "Ready" && c.status !== "False")) continue;
      const t = nowRFC();
      const status = {
        ...structuredClone(pod.status ?? {}),
        conditions: conds.map((c) => (c.type === "Ready" ? { ...c, status: "False", lastTransitionTime: t } : c)),
      };
      try {
        await ctx.client.resource<Pod>(refs.pods, pod.metadata!.namespace!).updateStatus({ ...structuredClone(pod), status });
      } catch (e) {
        if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
      }
    }
  }

  const zoneStates = new Map<string, ZoneState>();
  const zoneSizes = new Map<string, number>();
  /** Recomputes zone states (with `fresh`, a node we just changed, in place of its cached copy); logs transitions. */
  function refreshZones(fresh?: Node): void {
    const byZone = new Map<string, Node[]>();
    for (const cached of nodeInf.list()) {
      const n = fresh && cached.metadata?.name === fresh.metadata?.name ? fresh : cached;
      const z = zoneOf(n);
      let list = byZone.get(z);
      if (!list) byZone.set(z, (list = []));
      list.push(n);
    }
    zoneSizes.clear();
    for (const [z, ns] of byZone) zoneSizes.set(z, ns.length);
    for (const z of [...zoneStates.keys()]) if (!byZone.has(z)) zoneStates.delete(z);
    for (const [z, ns] of byZone) {
      const st = zoneState(ns);
      const prev = zoneStates.get(z) ?? "Normal";
      if (st !== prev) log.info("zone state changed", { zone: z, from: prev, to: st, nodes: ns.length });
      zoneStates.set(z, st);
    }
  }
  function mayEvict(node: Node): boolean {
    const z = zoneOf(node);
    return evictionsAllowed(zoneStates.get(z) ?? "Normal", zoneSizes.get(z) ?? 1);
  }

  // Upstream --node-eviction-rate: NoExecute taints are added to at most `rate` nodes per second per zone (burst 1).
  const taintInterval = 1000 / (ctx.options.nodeEvictionRate ?? 0.1);
  const lastTainted = new Map<string, number>();

  async function reconcileTaints(node: Node): Promise<Node> {
    let want = desiredTaints(node);
    // In a disrupted zone no NoExecute taints (existing ones are lifted), so nothing gets evicted.
    if (!mayEvict(node)) want = want.filter((t) => t.effect !== "NoExecute");
    const hasNoExecute = (node.spec?.taints ?? []).some((t) => MANAGED.has(t.key) && t.effect === "NoExecute");
    if (want.some((t) => t.effect === "NoExecute") && !hasNoExecute) {
      const z = zoneOf(node);
      const wait = (lastTainted.get(z) ?? -Infinity) + taintInterval - Date.now();
      if (wait > 0) {
        want = want.filter((t) => t.effect !== "NoExecute");
        queue.addAfter(node.metadata!.name!, wait + 10);
      } else lastTainted.set(z, Date.now());
    }
    const cur = node.spec?.taints ?? [];
    const same = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect;
    const keep = cur.filter((t) => !MANAGED.has(t.key) || want.some((w) => same(w, t)));
    const add = want.filter((w) => !cur.some((t) => same(w, t)));
    if (keep.length === cur.length && !add.length) return node;
    const t = nowRFC();
    const taints = [...keep, ...add.map((w) => (w.effect === "NoExecute" ? { ...w, timeAdded: t } : w))];
    const next = structuredClone(node);
    next.spec = { ...(next.spec ?? {}), taints };
    if (!taints.length) delete next.spec.taints;
    return nodes.update(next);
  }

  async function evict(node: Node): Promise<void> {
    const taints = (node.spec?.taints ?? []).filter((t) => t.effect === "NoExecute");
    if (!taints.length || !mayEvict(node)) return;
    let soonest = Infinity;
    for (const pod of podInf.byIndex("node", node.metadata!.name!)) {
      if (pod.metadata?.deletionTimestamp) continue;
      const at = evictionTime(pod, taints, ctx.options.defaultEvictionSeconds);
      if (at === Infinity) continue;
      if (at > Date.now()) {
        soonest = Math.min(soonest, at);
        continue;
      }
      try {
        recorder.event({ ...pod, kind: "Pod", apiVersion: "v1" }, "Normal", "TaintManagerEviction", `Marking for deletion Pod ${pod.metadata!.namespace}/${pod.metadata!.name}`);
        await ctx.client.resource<Pod>(refs.pods, pod.metadata!.namespace!).delete(pod.metadata!.name!, { preconditions: { uid: pod.metadata!.uid } });
        log.info("evicted pod from tainted node", { pod: `${pod.metadata!.namespace}/${pod.metadata!.name}`, node: node.metadata!.name });
      } catch (e) {
        if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
      }
    }
    if (soonest !== Infinity) queue.addAfter(node.metadata!.name!, soonest - Date.now() + 50);
  }

  async function sync(name: string): Promise<void> {
    let node = nodeInf.get(name);
    if (!node) return;
    const before = node.status?.conditions?.find((c) => c.type === "Ready")?.status;
    node = await monitorHealth(node);
    // Our own status change is not in the cache yet: count it before deciding on taints.
    if (node.status?.conditions?.find((c) => c.type === "Ready")?.status !== before) refreshZones(node);
    node = await reconcileTaints(node);
    await evict(node);
  }

  return {
    name: "nodelifecycle",
    async run() {
      void nodeInf.synced.then(() => refreshZones());
      const timer = setInterval(() => {
        refreshZones();
        for (const k of nodeInf.keys()) queue.add(k);
      }, period);
      ctx.signal.addEventListener("abort", () => clearInterval(timer), { once: true });
      await run(sync);
    },
  };
}
