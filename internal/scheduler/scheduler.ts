// The scheduler process: informers feed the cache (nodes, bound pods) and the queue (pending pods); one loop pops
// the highest-priority pod, runs the algorithm synchronously against the cache, assumes the pod on the chosen node
// and binds it in the background, so the next pod is scheduled while the binding is in flight.

import type { Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1";
import type { CSINode, StorageClass } from "kubernetes-types/storage/v1";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1";
import { createClient, type Client } from "../client/client.ts";
import { createEventRecorder, type EventRecorder } from "../client/events.ts";
import { SharedInformerFactory } from "../client/factory.ts";
import type { Informer } from "../client/informer.ts";
import { refs } from "../client/refs.ts";
import { ApiError, type ClientConfig } from "../client/types.ts";
import { logger, type Logger } from "../log/log.ts";
import { Algorithm, DEFAULT_PLUGINS, NO_NODES_MSG } from "./algorithm.ts";
import { findPreemption, type Victims } from "./preemption.ts";
import { SchedulerCache } from "./cache.ts";
import { fitErrorMessage } from "./framework.ts";
import { nodeUpdateHints } from "./hints.ts";
import { makePodInfo, podKey, type PodInfo } from "./podinfo.ts";
import { SchedulingQueue, type QueueOptions } from "./queue.ts";
import { delayedClaims } from "./plugins/volumes.ts";
import { preBindVolumes } from "./volumeprebind.ts";

export const DEFAULT_SCHEDULER_NAME = "default-scheduler";

export interface SchedulerConfig {
  schedulerName?: string;
  /** Pending-pod backoff (upstream: 1 s → 10 s). */
  queue?: QueueOptions;
  /** Bindings in flight at once. */
  bindConcurrency?: number;
  log?: Logger;
  identity?: string;
}

export interface SchedulerStats {
  scheduled: number;
  failedAttempts: number;
  preemptions: number;
}

/**
 * Scheduling time between yields to the event loop: short enough not to hold up API requests served by the same
 * thread, long enough that the bindings it starts share store commits.
 */
const SLICE_MS = 5;

/** The plugins whose verdict can change when another pod is bound somewhere. */
const POD_SENSITIVE = ["InterPodAffinity", "PodTopologySpread"];

export class Scheduler {
  readonly stats: SchedulerStats = { scheduled: 0, failedAttempts: 0, preemptions: 0 };
  private client: Client;
  private log: Logger;
  private name: string;
  private cache = new SchedulerCache();
  private queue!: SchedulingQueue;
  private algo = new Algorithm(DEFAULT_PLUGINS);
  private recorder: EventRecorder;
  private pods!: Informer<Pod>;
  private pdbs!: Informer<PodDisruptionBudget>;
  private pvcs!: Informer<PersistentVolumeClaim>;
  /** Pending pods nominated to a node by preemption, by node name. */
  private nominated = new Map<string, Map<string, PodInfo>>();
  private nominatedOf = new Map<string, string>();
  /** Pods whose preemption API calls are still running: not retried until they finish (upstream async preemption). */
  private preempting = new Set<string>();
  private binding = 0;
  private bindWaiters: (() => void)[] = [];

  constructor(
    clientOrConfig: Client | ClientConfig,
    private cfg: SchedulerConfig = {},
  ) {
    this.client = "resource" in clientOrConfig ? clientOrConfig : createClient({ userAgent: "kubun-scheduler", ...clientOrConfig });
    this.log = cfg.log ?? logger("scheduler");
    this.name = cfg.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    // Upstream's scheduler records through the events.k8s.io broadcaster, which writes each event on its own
    // goroutine: a burst of thousands of bindings keeps every Scheduled event. The default recorder queue (1000,
    // the core/v1 broadcaster's) would drop most of them, so allow more writes and a deeper (still bounded) queue.
    this.recorder = createEventRecorder(this.client, { component: this.name, instance: cfg.identity, log: this.log, maxInFlight: 32, maxQueued: 20_000 });
  }

  /** Schedules until the signal aborts (call while leading). */
  async run(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    this.cache = new SchedulerCache();
    this.queue = new SchedulingQueue(this.cfg.queue);
    this.nominated.clear();
    this.nominatedOf.clear();
    const factory = new SharedInformerFactory(this.client, { log: this.log.child("informer") });
    const nodes = factory.informerFor<Node>(refs.nodes);
    this.pods = factory.informerFor<Pod>(refs.pods);
    const namespaces = factory.informerFor<Namespace>(refs.namespaces);
    const pvcs = (this.pvcs = factory.informerFor<PersistentVolumeClaim>(refs.persistentvolumeclaims));
    this.pdbs = factory.informerFor<PodDisruptionBudget>(refs.poddisruptionbudgets);
    this.cache.pvc = (ns, name) => pvcs.getByName(ns, name);
    // Volumes and classes for VolumeBinding; a new or freed volume, or a new class, may unblock pods.
    const pvs = factory.informerFor<PersistentVolume>(refs.persistentvolumes);
    const classes = factory.informerFor<StorageClass>(refs.storageclasses);
    this.cache.pv = (name) => pvs.get(name);
    this.cache.pvs = () => pvs.values();
    this.cache.storageClass = (name) => classes.get(name);
    const volumesChanged = () => this.queue.moveAllToActiveOrBackoff(["VolumeBinding"]);
    pvs.addEventHandler({ onAdd: volumesChanged, onUpdate: volumesChanged, onDelete: volumesChanged });
    classes.addEventHandler({ onAdd: volumesChanged, onUpdate: volumesChanged });
    const csiNodes = factory.informerFor<CSINode>(refs.csinodes);
    this.cache.csiNode = (name) => csiNodes.get(name);
    csiNodes.addEventHandler({ onAdd: () => this.queue.moveAllToActiveOrBackoff(["NodeVolumeLimits"]), onUpdate: () => this.queue.moveAllToActiveOrBackoff(["NodeVolumeLimits"]) });
    // A claim appearing (or changing) may unblock pods waiting for it.
    pvcs.addEventHandler({
      onAdd: () => this.queue.moveAllToActiveOrBackoff(["VolumeBinding"]),
      onUpdate: () => this.queue.moveAllToActiveOrBackoff(["VolumeBinding"]),
    });

    namespaces.addEventHandler({
      onAdd: (ns) => this.cache.setNamespace(ns.metadata!.name!, ns.metadata?.labels ?? {}),
      onUpdate: (_o, ns) => this.cache.setNamespace(ns.metadata!.name!, ns.metadata?.labels ?? {}),
      onDelete: (ns) => this.cache.setNamespace(ns.metadata!.name!, undefined),
    });
    nodes.addEventHandler({
      onAdd: (n) => {
        this.cache.addOrUpdateNode(n);
        this.queue.moveAllToActiveOrBackoff();
      },
      onUpdate: (o, n) => {
        this.cache.addOrUpdateNode(n);
        const hints = nodeUpdateHints(o, n);
        if (hints.length) this.queue.moveAllToActiveOrBackoff(hints);
      },
      onDelete: (n) => this.cache.removeNode(n.metadata!.name!),
    });
    this.pods.addEventHandler({
      onAdd: (p) => this.onPod(undefined, p),
      onUpdate: (o, p) => this.onPod(o, p),
      onDelete: (p) => this.onPodDelete(p),
    });

    const ac = new AbortController();
    const stop = () => ac.abort();
    signal.addEventListener("abort", stop, { once: true });
    factory.start(ac.signal);
    const cleanup = setInterval(() => this.cache.cleanupExpired(), 5000);
    try {
      if (!(await factory.waitForSync(ac.signal))) return;
      this.log.info("scheduler caches synced", { nodes: this.cache.nodes.length, pending: this.queue.length });
      ac.signal.addEventListener("abort", () => this.queue.close(), { once: true });
      let slice = performance.now();
      while (!ac.signal.aborted) {
        const q = await this.queue.pop();
        if (!q) break;
        try {
          this.scheduleOne(q.key);
        } catch (e) {
          this.log.error("scheduling attempt failed", { pod: q.key, error: e as Error });
          this.queue.failed(q.key, "error");
        }
        // Let watch events and binding responses in between slices of attempts. Not after every pod: in a
        // process shared with the API server, yielding per pod makes the event loop turn over so fast that each
        // store commit (an fsync) carries only a write or two; a few milliseconds of scheduling per turn lets
        // the bindings of a slice share commits.
        if (performance.now() - slice >= SLICE_MS) {
          await new Promise<void>((r) => setImmediate(r));
          slice = performance.now();
        }
      }
    } finally {
      clearInterval(cleanup);
      signal.removeEventListener("abort", stop);
      ac.abort();
      this.queue.close();
      await this.drainBindings();
    }
  }

  private responsible(p: Pod): boolean {
    return (p.spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME) === this.name;
  }

  /**
   * The pod as the scheduler sees it. spec.priority is resolved from the PriorityClass by the Priority admission
   * plugin (as upstream, where the scheduler does not watch PriorityClasses); a pod without it has priority 0.
   */
  private withPriority(p: Pod): Pod {
    return p;
  }

  private onPod(old: Pod | undefined, p: Pod): void {
    const key = podKey(p);
    if (p.spec?.nodeName) {
      this.queue.delete(key);
      this.setNominated(key, undefined);
      this.cache.upsertPod(p);
      const terminal = p.status?.phase === "Succeeded" || p.status?.phase === "Failed";
      if (terminal || (old?.spec?.nodeName && !old.metadata?.deletionTimestamp && p.metadata?.deletionTimestamp)) {
        // Freed or freeing resources.
        if (terminal) this.queue.moveAllToActiveOrBackoff();
      } else if (!old || JSON.stringify(old.metadata?.labels) !== JSON.stringify(p.metadata?.labels)) {
        this.queue.moveAllToActiveOrBackoff(POD_SENSITIVE);
      }
      return;
    }
    if (!this.responsible(p)) return;
    if (p.metadata?.deletionTimestamp) {
      this.queue.delete(key);
      return;
    }
    if (p.spec?.schedulingGates?.length) {
      // Gated pods wait outside the queue until every gate is removed (upstream SchedulingGates).
      this.queue.delete(key);
      const c = p.status?.conditions?.find((x) => x.type === "PodScheduled");
      if (c?.reason !== "SchedulingGated") void this.setCondition(p, "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates");
      return;
    }
    const pod = this.withPriority(p);
    this.setNominated(key, pod.status?.nominatedNodeName ? makePodInfo(pod) : undefined);
    // A pod we assumed but whose binding is not yet visible is not pending.
    if (!this.cache.isAssumed(key)) this.queue.add(key, pod);
  }

  private onPodDelete(p: Pod): void {
    const key = podKey(p);
    this.queue.delete(key);
    this.setNominated(key, undefined);
    if (p.spec?.nodeName || this.cache.isAssumed(key)) {
      this.cache.removePod(key);
      this.queue.moveAllToActiveOrBackoff();
    }
  }

  private setNominated(key: string, pi: PodInfo | undefined): void {
    const prev = this.nominatedOf.get(key);
    if (prev) {
      const m = this.nominated.get(prev);
      m?.delete(key);
      if (m && m.size === 0) this.nominated.delete(prev);
      this.nominatedOf.delete(key);
    }
    const node = pi?.pod.status?.nominatedNodeName;
    if (pi && node) {
      let m = this.nominated.get(node);
      if (!m) this.nominated.set(node, (m = new Map()));
      m.set(key, pi);
      this.nominatedOf.set(key, node);
    }
  }

  private nominatedFor = (node: string): PodInfo[] | undefined => {
    const m = this.nominated.get(node);
    return m && m.size ? [...m.values()] : undefined;
  };

  /** One synchronous scheduling attempt for the pod behind key. */
  private scheduleOne(key: string): void {
    const cur = this.pods.get(key);
    if (!cur || cur.spec?.nodeName || cur.metadata?.deletionTimestamp || !this.responsible(cur) || this.cache.isAssumed(key)) {
      this.queue.done(key);
      return;
    }
    if (this.preempting.has(key)) {
      this.queue.failed(key, "error");
      return;
    }
    const pod = this.withPriority(cur);
    const pi = makePodInfo(pod);
    if (this.cache.nodes.length === 0) {
      this.stats.failedAttempts++;
      this.queue.failed(key, "error");
      void this.reportFailure(pod, "SchedulerError", NO_NODES_MSG);
      return;
    }
    // No pod is nominated anywhere (the usual case): the filters need not ask for every node.
    const r = this.algo.schedule(pi, this.cache, this.nominated.size ? this.nominatedFor : undefined);
    if (r.node) {
      this.cache.assume(pi, r.node);
      this.queue.done(key);
      this.setNominated(key, undefined);
      void this.bind(pi, r.node, delayedClaims(r.state));
      return;
    }
    this.stats.failedAttempts++;
    const diag = r.diagnosis!;
    const pre = findPreemption(this.algo, pi, r.state, diag, this.cache, DEFAULT_PLUGINS, this.nominatedFor, this.pdbs.list());
    diag.postFilterMsg = pre.message || undefined;
    const msg = fitErrorMessage(this.cache.nodes.length, diag);
    const rejectedBy = new Set([...diag.nodeToStatus.values()].map((s) => s.plugin));
    this.queue.failed(key, "unschedulable", rejectedBy);
    if (pre.candidate) {
      this.stats.preemptions++;
      // Count the pod against the node at once so lower-priority pods do not take the room being freed.
      const nominatedPod = { ...pod, status: { ...pod.status, nominatedNodeName: pre.candidate.node } };
      this.setNominated(key, makePodInfo(nominatedPod));
      void this.preempt(pod, pre.candidate);
    }
    void this.reportFailure(pod, "Unschedulable", msg, pre.candidate?.node);
  }

  private async acquireBindSlot(): Promise<void> {
    const max = this.cfg.bindConcurrency ?? 64;
    while (this.binding >= max) await new Promise<void>((r) => this.bindWaiters.push(r));
    this.binding++;
  }

  private releaseBindSlot(): void {
    this.binding--;
    this.bindWaiters.shift()?.();
  }

  private async drainBindings(): Promise<void> {
    while (this.binding > 0) await new Promise<void>((r) => this.bindWaiters.push(r));
  }

  private async bind(pi: PodInfo, node: string, delayed: PersistentVolumeClaim[] = []): Promise<void> {
    const { namespace, name, uid } = pi.pod.metadata!;
    await this.acquireBindSlot();
    try {
      if (delayed.length) {
        try {
          await preBindVolumes(this.client, this.pvcs, delayed, node, () => {
            const cur = this.pods.get(pi.key);
            return !!cur && cur.metadata?.uid === uid && !cur.metadata?.deletionTimestamp;
          });
        } catch (e) {
          this.rollback(pi.key);
          this.requeueIfPending(pi.key);
          void this.recorder.event(podRef(pi.pod), "Warning", "FailedScheduling", `running PreBind plugin "VolumeBinding": ${(e as Error).message}`);
          return;
        }
      }
      await this.client.resource(refs.pods, namespace).createSubresource(name!, "binding", {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name, namespace, uid },
        target: { apiVersion: "v1", kind: "Node", name: node },
      });
      this.cache.finishBinding(pi.key);
      this.stats.scheduled++;
      void this.recorder.event(podRef(pi.pod), "Normal", "Scheduled", `Successfully assigned ${namespace}/${name} to ${node}`);
    } catch (e) {
      this.rollback(pi.key);
      if (e instanceof ApiError && (e.code === 404 || e.code === 409)) {
        // Deleted meanwhile, or bound by someone else: the watch tells the rest.
        this.log.debug("binding not applied", { pod: pi.key, node, error: e });
        if (e.code === 409) this.requeueIfPending(pi.key);
        return;
      }
      this.log.warn("binding failed", { pod: pi.key, node, error: e as Error });
      const latest = this.pods.get(pi.key);
      if (latest && !latest.spec?.nodeName) this.queue.addBackoff(pi.key, this.withPriority(latest));
      void this.recorder.event(podRef(pi.pod), "Warning", "FailedScheduling", `Binding rejected: ${(e as Error).message}`);
    } finally {
      this.releaseBindSlot();
    }
  }

  /**
   * Undoes an assumption whose binding failed. Pods found unschedulable while it held its room may fit now, and
   * no watch event says so (the pod never was on that node; if it was bound elsewhere meanwhile, the watch may
   * already have moved it in the cache): move them back, as upstream's handleBindingCycleError does with an
   * AssignedPodDelete event.
   */
  private rollback(key: string): void {
    this.cache.forget(key);
    this.queue.moveAllToActiveOrBackoff();
  }

  private requeueIfPending(key: string): void {
    const latest = this.pods.get(key);
    if (latest && !latest.spec?.nodeName && !latest.metadata?.deletionTimestamp) this.queue.addBackoff(key, this.withPriority(latest));
  }

  /** Deletes the victims (marking them DisruptionTarget first) and records the nomination on the preemptor. */
  private async preempt(preemptor: Pod, c: Victims): Promise<void> {
    const key = podKey(preemptor);
    this.preempting.add(key);
    try {
      await this.evict(preemptor, c);
      await this.clearLowerNominations(preemptor, c.node);
    } finally {
      this.preempting.delete(key);
    }
  }

  /**
   * Lower-priority pods nominated to the same node may no longer fit there: clear their nomination so they look
   * elsewhere (upstream prepareCandidate).
   */
  private async clearLowerNominations(preemptor: Pod, node: string): Promise<void> {
    const prio = preemptor.spec?.priority ?? 0;
    const self = podKey(preemptor);
    for (const pi of this.nominatedFor(node) ?? []) {
      if (pi.key === self || pi.priority >= prio) continue;
      this.setNominated(pi.key, undefined);
      try {
        await this.client
          .resource<Pod>(refs.pods, pi.namespace)
          .patch(pi.pod.metadata!.name!, "strategic", { status: { nominatedNodeName: null } }, { subresource: "status" });
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) this.log.warn("could not clear nomination", { pod: pi.key, error: e as Error });
      }
    }
  }

  private async evict(preemptor: Pod, c: Victims): Promise<void> {
    await Promise.all(
      c.pods.map(async (v) => {
        const vp = v.pod;
        if (vp.metadata?.deletionTimestamp) return;
        const { namespace, name } = vp.metadata!;
        const podsNs = this.client.resource<Pod>(refs.pods, namespace);
        try {
          await podsNs.patch(
            name!,
            "strategic",
            {
              status: {
                conditions: [
                  {
                    type: "DisruptionTarget",
                    status: "True",
                    reason: "PreemptionByScheduler",
                    message: `${this.name}: preempting to accommodate a higher priority pod`,
                    lastTransitionTime: now(),
                  },
                ],
              },
            },
            { subresource: "status" },
          );
        } catch (e) {
          if (e instanceof ApiError && e.code === 404) return;
          this.log.warn("could not mark victim", { pod: `${namespace}/${name}`, error: e as Error });
        }
        try {
          await podsNs.delete(name!);
          void this.recorder.event(podRef(vp), "Normal", "Preempted", `Preempted by pod ${preemptor.metadata?.uid} on node ${c.node}`);
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) this.log.warn("could not delete victim", { pod: `${namespace}/${name}`, error: e as Error });
        }
      }),
    );
  }

  /** FailedScheduling event and PodScheduled=False condition (and nominatedNodeName), as upstream. */
  private async reportFailure(pod: Pod, reason: string, message: string, nominatedNode?: string): Promise<void> {
    void this.recorder.event(podRef(pod), "Warning", "FailedScheduling", message);
    await this.setCondition(pod, reason, message, nominatedNode);
  }

  private async setCondition(pod: Pod, reason: string, message: string, nominatedNode?: string): Promise<void> {
    const { namespace, name } = pod.metadata!;
    const old = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
    const sameCondition = old && old.status === "False" && old.reason === reason && old.message === message;
    const nominationChanges = nominatedNode !== undefined && nominatedNode !== pod.status?.nominatedNodeName;
    if (sameCondition && !nominationChanges) return;
    const status: Record<string, unknown> = {
      conditions: [
        {
          type: "PodScheduled",
          status: "False",
          reason,
          message,
          lastProbeTime: null,
          lastTransitionTime: old?.status === "False" && old.lastTransitionTime ? old.lastTransitionTime : now(),
        },
      ],
    };
    if (nominationChanges) status.nominatedNodeName = nominatedNode;
    try {
      await this.client.resource<Pod>(refs.pods, namespace).patch(name!, "strategic", { status }, { subresource: "status" });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) this.log.warn("could not update pod status", { pod: `${namespace}/${name}`, error: e as Error });
    }
  }
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

function podRef(p: Pod) {
  return { apiVersion: "v1", kind: "Pod", metadata: p.metadata };
}
