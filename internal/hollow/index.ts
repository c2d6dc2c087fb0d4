// Hollow nodes, as kubemark: N fake kubelets in one process that register Nodes, renew their Leases, and report
// pods bound to them Running and Ready without running anything. One shared pod watch (spec.nodeName!=) and one
// node watch serve all of them, so 1,000 nodes cost two watches plus a Lease renewal per node every 10 s.

import type { Lease } from "kubernetes-types/coordination/v1";
import type { Node, Pod } from "kubernetes-types/core/v1";
import { createClient, type Client } from "../client/client.ts";
import { Informer, sleep } from "../client/informer.ts";
import { refs } from "../client/refs.ts";
import { ApiError, type ClientConfig } from "../client/types.ts";
import { WorkQueue } from "../client/workqueue.ts";
import { logger, type Logger } from "../log/log.ts";
import { PodIPs } from "./ipam.ts";
import { heartbeatTimeoutMs, jitter, NodeLease } from "../nodelease/controller.ts";
import { LoopWatch } from "./loopwatch.ts";
import { CallLimiter, limitedClient } from "./limiter.ts";
import { nodeConditions, nodeObject, nowRFC3339, podStatus, type HollowNodeShape } from "./objects.ts";

export interface HollowOptions {
  count: number;
  /** Node names are `${prefix}-${i}`; default "hollow-node". */
  prefix?: string;
  signal: AbortSignal;
  cpu?: string;
  memory?: string;
  pods?: number;
  ephemeralStorage?: string;
  /** Extra labels (e.g. a zone) per node index. */
  labels?: (i: number) => Record<string, string> | undefined;
  taints?: (i: number) => HollowNodeShape["taints"] | undefined;
  /** Node IP reported in addresses and as pods' hostIP. */
  nodeIP?: string;
  leaseDurationSeconds?: number;
  /** Lease renewal period (kubelet: 10 s). */
  renewIntervalSeconds?: number;
  /** Full node status report period (kubelet nodeStatusReportFrequency: 5 min while nothing changes). */
  statusReportSeconds?: number;
  /** How often each node compares its status with the stored one (kubelet nodeStatusUpdateFrequency: 10 s). */
  statusUpdateSeconds?: number;
  /** Pod status writers in parallel. */
  workers?: number;
  /**
   * Per-node credentials (e.g. from joinCluster for each node name), for clusters whose Node authorizer lets a
   * node write only its own Node, Lease and pods. Without it every node writes with `cfg` (admin in tests).
   */
  credentialsFor?: (nodeName: string) => Promise<ClientConfig>;
  log?: Logger;
}

export interface HollowNodes extends Promise<void> {
  /** Resolves when every node is registered with its Lease. */
  ready: Promise<void>;
  names: string[];
  /** Stops heartbeats and pod handling for a node, as if its kubelet died. */
  stopNode(name: string): void;
  /** Resumes a stopped node (kubelet restarted). */
  startNode(name: string): void;
}

/** Pods may ask a hollow kubelet to finish after a while (for Jobs): seconds, and exit code (default 0). */
export const RUN_SECONDS_ANNOTATION = "kubun.io/hollow-run-seconds";
export const EXIT_CODE_ANNOTATION = "kubun.io/hollow-exit-code";


interface HollowNode {
  name: string;
  index: number;
  stopped: boolean;
  lease: NodeLease;
  podCIDR?: string;
  ips: PodIPs;
  started: Map<string, string>; // pod uid → startTime
  startedMs: Map<string, number>; // pod uid → exact start (startTime has only second precision)
  /** Stops this node's Lease loop (its kubelet stopped). */
  renewing?: AbortController;
  statusTimer?: ReturnType<typeof setTimeout>;
  /** Its clients, built on `client` (or the shared one): see HollowRun.clients. */
  clients?: { base: Client; bulk: Client; lease: Client; status: Client };
  /** performance.now() of the last NodeStatus report that the server took. */
  lastStatusReport: number;
  readySince: string;
  /** A status report that puts Ready back to True is under way. */
  restoring?: boolean;
  /** Writes as this node (when per-node credentials are used). */
  client?: Client;
}

const mib = (bytes: number) => Math.round(bytes / 1048576);

export function runHollowNodes(cfg: ClientConfig, opts: HollowOptions): HollowNodes {
  const client = createClient({ userAgent: "kubun-hollow", ...cfg });
  const log = opts.log ?? logger("hollow");
  const prefix = opts.prefix ?? "hollow-node";
  const nodes = new Map<string, HollowNode>();
  for (let i = 0; i < opts.count; i++) {
    const name = `${prefix}-${i}`;
    nodes.set(name, { name, index: i, stopped: false, ips: new PodIPs(i), started: new Map(), startedMs: new Map(), readySince: nowRFC3339(), lastStatusReport: 0 } as HollowNode);
  }
  let resolveReady!: () => void;
  let rejectReady!: (e: unknown) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => {});
  const run = new HollowRun(client, opts, log, nodes);
  const done = run.main(resolveReady, rejectReady) as HollowNodes;
  done.ready = ready;
  done.names = [...nodes.keys()];
  done.stopNode = (name) => run.stopNode(name);
  done.startNode = (name) => run.startNode(name);
  return done;
}

class HollowRun {
  private ip: string;
  private shape: (i: number) => HollowNodeShape;
  private pods!: Informer<Pod>;
  private queue = new WorkQueue<string>({ name: "hollow-pods" });
  private finishTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private nodeInformer?: Informer<Node>;
  /** Aborted when the run ends (the caller's signal or a failure). */
  private signal!: AbortSignal;
  /** Every node's calls share one fetch client: Lease renewals go first (limiter.ts). */
  private calls = new CallLimiter();
  /** Stalls of this process's event loop, to explain a late renewal. */
  private loop = new LoopWatch(100, 500, (s) =>
    this.log.warn("hollow event loop stalled", { ms: Math.round(s.ms), heapMiB: [mib(s.heapBefore), mib(s.heapAfter)] }),
  );

  constructor(
    private client: Client,
    private opts: HollowOptions,
    private log: Logger,
    private nodes: Map<string, HollowNode>,
  ) {
    this.ip = opts.nodeIP ?? "127.0.0.1";
    this.shape = (i) => ({
      cpu: opts.cpu ?? "4",
      memory: opts.memory ?? "16Gi",
      pods: opts.pods ?? 110,
      ephemeralStorage: opts.ephemeralStorage ?? "100Gi",
      labels: opts.labels?.(i),
      taints: opts.taints?.(i),
      ip: this.ip,
    });
    for (const hn of nodes.values()) {
      const leases = () => this.clients(hn).lease.resource<Lease>(refs.leases, "kube-node-lease");
      hn.lease = new NodeLease({ name: hn.name, leases, durationSeconds: opts.leaseDurationSeconds ?? 40, log, stopped: () => hn.stopped });
    }
  }

  async main(resolveReady: () => void, rejectReady: (e: unknown) => void): Promise<void> {
    const signal = this.opts.signal;
    const ac = new AbortController();
    const stop = () => ac.abort();
    signal.addEventListener("abort", stop, { once: true });
    this.signal = ac.signal;
    this.loop.start();
    try {
      await this.registerAll(ac.signal);
      if (ac.signal.aborted) return;
      resolveReady();
      this.log.info("hollow nodes registered", { count: this.nodes.size });
      const nodeInformer = (this.nodeInformer = new Informer<Node>(this.client.resource(refs.nodes), { name: "hollow-nodes", log: this.log.child("informer") }));
      nodeInformer.addEventHandler({
        onAdd: (n) => this.onNode(n),
        onUpdate: (_o, n) => this.onNode(n),
      });
      this.pods = new Informer<Pod>(this.client.resource(refs.pods), {
        fieldSelector: "spec.nodeName!=",
        name: "hollow-pods",
        log: this.log.child("informer"),
      });
      const enqueue = (p: Pod) => {
        if (this.nodes.has(p.spec?.nodeName ?? "")) this.queue.add(`${p.metadata!.namespace}/${p.metadata!.name}`);
      };
      this.pods.addEventHandler({
        onAdd: enqueue,
        onUpdate: (_o, p) => enqueue(p),
        onDelete: (p) => {
          const hn = this.nodes.get(p.spec?.nodeName ?? "");
          if (!hn || !p.metadata?.uid) return;
          hn.ips.release(p.metadata.uid);
          hn.started.delete(p.metadata.uid);
          hn.startedMs.delete(p.metadata.uid);
        },
      });
      void nodeInformer.run(ac.signal);
      void this.pods.run(ac.signal);
      await this.queue.runWorkers(this.opts.workers ?? 16, (k) => this.syncPod(k), ac.signal);
    } catch (e) {
      rejectReady(e);
      if (!ac.signal.aborted) throw e;
    } finally {
      signal.removeEventListener("abort", stop);
      ac.abort();
      this.loop.stop();
      this.queue.shutDown();
      for (const hn of this.nodes.values()) this.stopTimers(hn);
      for (const t of this.finishTimers.values()) clearTimeout(t);
    }
  }

  private async registerAll(signal: AbortSignal): Promise<void> {
    const list = [...this.nodes.values()];
    let next = 0;
    const worker = async () => {
      while (next < list.length && !signal.aborted) {
        const hn = list[next++]!;
        await this.register(hn, signal);
      }
    };
    await Promise.all(Array.from({ length: Math.min(32, list.length) }, worker));
  }

  private api(hn: HollowNode): Client {
    return this.clients(hn).bulk;
  }

  /**
   * A node's clients, on its own credentials once it has them: `bulk` for registration and pod status; `lease` and
   * `status` through a heartbeat client with a timeout, as upstream's kubelet sends its Lease renewals and node
   * status (min(nodeStatusUpdateFrequency, lease duration)), so a call the server never answers is abandoned and
   * retried (through the next server of a pool) instead of holding the node's heartbeats until its Lease expires.
   * Lease renewals are this process's first class of calls; status reports wait with the bulk (limiter.ts).
   */
  private clients(hn: HollowNode): NonNullable<HollowNode["clients"]> {
    const base = hn.client ?? this.client;
    if (hn.clients?.base !== base) {
      const timeoutMs = heartbeatTimeoutMs((this.opts.statusUpdateSeconds ?? 10) * 1000, this.opts.leaseDurationSeconds ?? 40);
      const timed = createClient({ ...base.config, timeoutMs });
      hn.clients = {
        base,
        bulk: limitedClient(base, this.calls, "bulk"),
        lease: limitedClient(timed, this.calls, "heartbeat"),
        status: limitedClient(timed, this.calls, "bulk"),
      };
    }
    return hn.clients;
  }

  /** Creates (or takes over) the Node and its Lease, retrying until the API answers. */
  private async register(hn: HollowNode, signal: AbortSignal): Promise<void> {
    let backoff = 200;
    while (!signal.aborted) {
      try {
        if (this.opts.credentialsFor && !hn.client) {
          hn.client = createClient({ userAgent: "kubun-hollow", ...(await this.opts.credentialsFor(hn.name)) });
        }
        const nodesApi = this.api(hn).resource<Node>(refs.nodes);
        const want = nodeObject(hn.name, this.shape(hn.index));
        let node: Node;
        try {
          node = await nodesApi.create(want);
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 409)) throw e;
          node = await nodesApi.get(hn.name);
        }
        hn.podCIDR = node.spec?.podCIDR;
        // Status may be dropped on create (as for other kinds); write it through the status subresource.
        await nodesApi.patch(hn.name, "merge", { status: want.status }, { subresource: "status" });
        hn.lastStatusReport = performance.now();
        await hn.lease.sync(signal);
        if (!signal.aborted) this.startHeartbeats(hn);
        return;
      } catch (e) {
        this.log.warn("node registration failed, retrying", { node: hn.name, error: e as Error });
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }

  /**
   * Starts a node's two kubelet loops as soon as its Lease exists (as each kubelet does on its own), so the first
   * renewal comes one period after registration — not after every other node has registered too:
   * - Lease: renewed every renewInterval after the previous pass ended, jittered by up to 4 % (upstream
   *   wait.JitterUntil(sync, renewInterval, 0.04, sliding)).
   * - NodeStatus: checked every nodeStatusUpdateFrequency (10 s, same jitter); posted when the stored status differs
   *   (Ready not True) or nodeStatusReportFrequency has passed since the last report (upstream tryUpdateNodeStatus).
   */
  private startHeartbeats(hn: HollowNode, syncNow = false): void {
    this.stopTimers(hn);
    const renewing = (hn.renewing = new AbortController());
    const signal = this.signal;
    const every = (this.opts.renewIntervalSeconds ?? 10) * 1000;
    void hn.lease.run(AbortSignal.any([signal, renewing.signal]), {
      renewIntervalMs: every,
      syncNow,
      stallBetween: (from, to) => this.loop.worstBetween(from, to),
    });
    const update = (this.opts.statusUpdateSeconds ?? 10) * 1000;
    const report = (this.opts.statusReportSeconds ?? 300) * 1000;
    const check = async () => {
      if (hn.stopped || signal.aborted) return;
      const stored = this.nodeInformer?.get(hn.name);
      const ready = stored?.status?.conditions?.find((c) => c.type === "Ready");
      if (stored && ready && ready.status !== "True") this.onNode(stored);
      else if (performance.now() - hn.lastStatusReport >= report) await this.reportStatus(hn);
      if (!hn.stopped && !signal.aborted) hn.statusTimer = setTimeout(check, jitter(update));
    };
    hn.statusTimer = setTimeout(check, jitter(update));
  }

  private stopTimers(hn: HollowNode): void {
    hn.renewing?.abort();
    if (hn.statusTimer) clearTimeout(hn.statusTimer);
    hn.renewing = hn.statusTimer = undefined;
  }

  /** Periodic node status (Ready with a fresh heartbeat), as the kubelet's nodeStatusReportFrequency. */
  private async reportStatus(hn: HollowNode): Promise<void> {
    if (hn.stopped) return;
    const at = performance.now();
    try {
      await this.clients(hn)
        .status.resource<Node>(refs.nodes)
        .patch(hn.name, "strategic", { status: { conditions: nodeConditions(nowRFC3339(), hn.readySince) } }, { subresource: "status" });
      hn.lastStatusReport = at;
    } catch (e) {
      this.log.debug("node status update failed", { node: hn.name, error: e as Error });
    }
  }

  stopNode(name: string): void {
    const hn = this.nodes.get(name);
    if (!hn) throw new Error(`no hollow node ${name}`);
    hn.stopped = true;
    this.stopTimers(hn);
    this.log.info("hollow node stopped", { node: name });
  }

  startNode(name: string): void {
    const hn = this.nodes.get(name);
    if (!hn) throw new Error(`no hollow node ${name}`);
    if (!hn.stopped) return;
    hn.stopped = false;
    hn.readySince = nowRFC3339();
    this.startHeartbeats(hn, true);
    void this.reportStatus(hn);
    // Catch up on pods that changed while it was down.
    for (const p of this.pods?.values() ?? []) if (p.spec?.nodeName === name) this.queue.add(`${p.metadata!.namespace}/${p.metadata!.name}`);
  }

  private onNode(n: Node): void {
    const hn = this.nodes.get(n.metadata?.name ?? "");
    if (!hn) return;
    hn.podCIDR = n.spec?.podCIDR;
    // The kubelet compares the status it would report with the stored one every 10 s (nodeStatusUpdateFrequency) and
    // posts at once when they differ, so Ready set to Unknown by the node lifecycle controller after a late heartbeat
    // is back to True within seconds — not at the next 5-minute report, by when NoExecute taints evict the pods.
    const ready = n.status?.conditions?.find((c) => c.type === "Ready");
    if (hn.stopped || !ready || ready.status === "True" || hn.restoring) return;
    hn.restoring = true;
    hn.readySince = nowRFC3339();
    void this.reportStatus(hn).finally(() => (hn.restoring = false));
  }

  /** Moves one pod toward what a kubelet would report: running and ready, or gone when deleted. */
  private async syncPod(key: string): Promise<void> {
    const pod = this.pods.get(key);
    if (!pod) return;
    const hn = this.nodes.get(pod.spec?.nodeName ?? "");
    if (!hn || hn.stopped) return;
    const { namespace, name, uid } = pod.metadata!;
    const api = this.api(hn).resource<Pod>(refs.pods, namespace);
    if (pod.metadata?.deletionTimestamp) {
      // Containers "stopped" at once: confirm the deletion as the kubelet does.
      try {
        await api.delete(name!, { gracePeriodSeconds: 0, preconditions: { uid } });
      } catch (e) {
        if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
      }
      return;
    }
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") return;
    const runSeconds = Number(pod.metadata?.annotations?.[RUN_SECONDS_ANNOTATION]);
    const exitCode = Number(pod.metadata?.annotations?.[EXIT_CODE_ANNOTATION] ?? 0);
    let started = hn.started.get(uid!) ?? pod.status?.startTime;
    if (!hn.startedMs.has(uid!)) hn.startedMs.set(uid!, started ? Date.parse(started) : Date.now());
    const startMs = hn.startedMs.get(uid!)!;
    const due = Number.isFinite(runSeconds) && runSeconds >= 0 && Date.now() - startMs >= runSeconds * 1000;
    const ready = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    if (phase === "Running" && ready && started && pod.status?.podIP) {
      hn.started.set(uid!, started);
      this.scheduleFinish(key, startMs, runSeconds, hn);
      if (!due) return;
    }
    started ??= nowRFC3339(new Date(startMs));
    hn.started.set(uid!, started);
    const podIP = pod.spec?.hostNetwork ? this.ip : (pod.status?.podIP ?? hn.ips.assign(uid!, hn.podCIDR));
    const finished = due;
    const status = podStatus(pod, this.ip, podIP, started, finished ? exitCode : undefined);
    try {
      // Merge patch: the hollow kubelet owns every list it writes here, and it is cheaper for the server.
      await api.patch(name!, "merge", { status }, { subresource: "status" });
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return;
      throw e;
    }
    if (finished) hn.ips.release(uid!);
    else this.scheduleFinish(key, startMs, runSeconds, hn);
  }

  private scheduleFinish(key: string, startMs: number, runSeconds: number, hn: HollowNode): void {
    if (!Number.isFinite(runSeconds) || runSeconds < 0) return;
    const wait = startMs + runSeconds * 1000 - Date.now();
    if (wait <= 0 || this.finishTimers.has(key)) return;
    const t = setTimeout(() => {
      this.finishTimers.delete(key);
      if (!hn.stopped) this.queue.add(key);
    }, wait);
    this.finishTimers.set(key, t);
  }
}
