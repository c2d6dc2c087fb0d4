// The kubelet's pod loop: watch the pods bound to this node, keep a record per pod (checkpointed on disk),
// and step each pod toward its spec — network, volumes, init containers in order, app containers with restart
// policy and back-off, probes, status — through the Runtime and Network interfaces.
// A relist of the runtime (as upstream's PLEG) notices exits and adopts containers started by a previous run.
// The API is reached only through internal/client; quantities and well-known names come from internal/api.
import type { Container, Pod, PodStatus } from "kubernetes-types/core/v1";
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "../client/client.ts";
import { createEventRecorder, type EventRecorder } from "../client/events.ts";
import { Informer } from "../client/informer.ts";
import { refs } from "../client/refs.ts";
import { ApiError } from "../client/types.ts";
import { WorkQueue } from "../client/workqueue.ts";
import type { Network } from "../cni/types.ts";
import { logger } from "../log/log.ts";
import { quantityValue } from "../api/quantity.ts";
import type { ContainerSpec, Runtime } from "../runtime/types.ts";
import { traced } from "../runtime/run.ts";
import { Checkpoints } from "./checkpoint.ts";
import { buildEnv, ConfigError, expand } from "./env.ts";
import { buildPodStatus } from "./pod-status.ts";
import { ProbeWorker, runProbe, type ProbeKind } from "./probes.ts";
import { containerRecord, podKey, type ContainerRecord, type PodRecord, type Termination } from "./records.ts";
import { apiRefs, type PodRefs } from "./refs.ts";
import { setupVolumes, teardownVolumes } from "./volumes.ts";
import { sweepLeftovers } from "./sweep.ts";
import { removePodCgroup } from "./podcgroups.ts";
import { Slots } from "./slots.ts";
import { availableParallelism } from "node:os";

const log = logger("kubelet");

export const LABEL_POD_UID = "io.kubun.pod-uid";
export const LABEL_POD_NAME = "io.kubun.pod-name";
export const LABEL_POD_NAMESPACE = "io.kubun.pod-namespace";
export const LABEL_CONTAINER = "io.kubun.container-name";
export const LABEL_RESTART = "io.kubun.restart-count";
export const LABEL_STARTED = "io.kubun.started-at";
export const LABEL_ATTEMPT = "io.kubun.attempt";

const BACKOFF_START = 10;
const BACKOFF_MAX = 300;
/** A container that ran this long without exiting gets its back-off reset (upstream: 10 min). */
const BACKOFF_RESET_MS = 600_000;

export interface KubeletOptions {
  client: Client;
  nodeName: string;
  hostIP: () => string;
  runtime: Runtime;
  network: Network;
  /** <data-dir>/agent */
  agentDir: string;
  /** Root of container logs, default /var/log/pods */
  podLogDir?: string;
  clusterDNS?: string;
  clusterDomain?: string;
  nodeAllocatable?: () => Record<string, string>;
  /** Relist period of the runtime, default 60 s: exits are pushed by containerd's events, the relist is the safety net. */
  relistMs?: number;
  refs?: PodRefs;
  cgroupRoot?: string;
}

/** The pod's network could not be set up (FailedCreatePodSandBox), as opposed to a container's own failure. */
class SandboxError extends Error {
  constructor(readonly netError: Error) {
    super(netError.message);
  }
}

export class Kubelet {
  readonly records = new Map<string, PodRecord>();
  private queue = new WorkQueue<string>();
  private informer: Informer<Pod>;
  private recorder: EventRecorder;
  private checkpoints: Checkpoints;
  private refs: PodRefs;
  private podLogDir: string;
  /** cgroup parent of every pod: <cgroupRoot>/pod<uid>/<container id> (read by stats/). */
  readonly cgroupRoot: string;
  private relistTimer?: ReturnType<typeof setInterval>;
  private gapTimer?: ReturnType<typeof setTimeout>;
  private relisting?: Promise<void>;
  private relistAgain = false;
  private stopped = false;
  private exitWaiters = new Map<string, (() => void)[]>();
  /** Containers being reaped (after their exit event or by a relist): one reap each. */
  private reaping = new Map<string, Promise<void>>();
  /** When each container was reaped: a relist whose listing began earlier still saw it and must leave it alone. */
  private reapedAt = new Map<string, number>();
  /** Containers whose exit event came while this process was still starting them: reaped once started. */
  private exitedWhileStarting = new Set<string>();
  /** Pod syncs that start something running at once: 4 per core (8 on a 2-core node), the rest queue in order. */
  readonly starts = new Slots(Math.max(4, 4 * availableParallelism()));
  /** When this process started each container: a relist that began earlier cannot have seen it. */
  private startedLocally = new Map<string, number>();
  /** Resolves once the first relist has adopted what a previous run left. */
  readonly ready: Promise<void>;
  private markReady!: () => void;

  constructor(private opts: KubeletOptions) {
    this.podLogDir = opts.podLogDir ?? "/var/log/pods";
    this.cgroupRoot = opts.cgroupRoot ?? "/kubun";
    this.checkpoints = new Checkpoints(join(opts.agentDir, "pods"));
    this.refs = opts.refs ?? apiRefs(opts.client);
    this.recorder = createEventRecorder(opts.client, { component: "kubelet", host: opts.nodeName });
    this.informer = new Informer<Pod>(opts.client.resource<Pod>(refs.pods), {
      fieldSelector: `spec.nodeName=${opts.nodeName}`,
      name: "kubelet-pods",
      maxBackoffMs: 5000,
    });
    this.ready = new Promise((r) => (this.markReady = r));
  }

  // ---- lifecycle ----

  async run(signal: AbortSignal): Promise<void> {
    for (const rec of this.checkpoints.loadAll()) {
      for (const c of Object.values(rec.containers)) c.running = false; // the relist tells what still runs
      this.records.set(rec.uid, rec);
    }
    log.info("loaded pod checkpoints", { pods: this.records.size });
    this.opts.runtime.onExit((id) => this.onRuntimeExit(id));
    // Exits missed while the event stream was down (containerd restarted): one relist once it is back. The stream
    // reports a gap when it ends and again when it is subscribed anew, so the relist waits for the last of them.
    this.opts.runtime.onEventGap(() => {
      clearTimeout(this.gapTimer);
      this.gapTimer = setTimeout(() => this.triggerRelist(), 1500);
    });
    await this.relist();
    this.markReady();
    this.informer.addEventHandler({
      onAdd: (p) => this.onPod(p),
      onUpdate: (_o, p) => this.onPod(p),
      onDelete: (p) => this.onPodGone(p),
    });
    void this.informer.run(signal);
    void this.informer.synced.then(() => {
      this.forgetVanished();
      // Pods the API still has (finished ones keep their logs) and pods we still run are ours; the rest is leftover.
      const keep = new Set([...this.records.keys(), ...this.informer.list().map((p) => p.metadata!.uid!)]);
      return sweepLeftovers({ keep, network: this.opts.network, podsDir: join(this.opts.agentDir, "pods"), podLogDir: this.podLogDir, cgroupRoot: this.cgroupRoot, log });
    });
    for (const uid of this.records.keys()) this.queue.add(uid);
    // One worker per pod, as upstream's pod workers (up to 64 pods synced at once): a pod waiting out its grace
    // period never holds up another pod's start. Syncs that start something are bounded by `starts`.
    for (let i = 0; i < 64; i++) void this.worker();
    // Upstream's evented PLEG relists every 300 s beside its event stream. Each of ours costs two `ctr` processes:
    // every 10 s that was over a third of an idle node's CPU (bench:footprint, 2.9 → 1.8 % of a core).
    this.relistTimer = setInterval(() => this.triggerRelist(), this.opts.relistMs ?? 60_000);
    // Periodic resync: refresh statuses, volumes, and retry anything that failed without a requeue.
    const resync = setInterval(() => {
      for (const uid of this.records.keys()) this.queue.add(uid);
    }, 30_000);
    await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
    this.stopped = true;
    clearInterval(this.relistTimer);
    clearTimeout(this.gapTimer);
    clearInterval(resync);
    this.queue.shutDown();
    for (const rec of this.records.values()) for (const c of Object.values(rec.containers)) this.stopProbes(c);
  }

  private async worker(): Promise<void> {
    for (;;) {
      const uid = await this.queue.get();
      if (uid === undefined) return;
      try {
        await this.syncPod(uid);
      } catch (e) {
        log.error("pod sync failed", { uid, error: e });
        this.queue.addAfter(uid, 5000);
      } finally {
        this.queue.done(uid);
      }
    }
  }

  // ---- API side ----

  private onPod(p: Pod): void {
    const uid = p.metadata!.uid!;
    let rec = this.records.get(uid);
    if (!rec) {
      void traced(`seen ${uid}`, async () => {});
      // A pod already finished before we saw it (e.g. agent reinstalled): leave it alone.
      if (p.status?.phase === "Succeeded" || p.status?.phase === "Failed") return;
      rec = { uid, pod: p, containers: {}, initDone: !(p.spec?.initContainers?.length) };
      for (const c of p.spec?.initContainers ?? []) rec.containers[c.name] = containerRecord(c.name, true);
      for (const c of p.spec?.containers ?? []) rec.containers[c.name] = containerRecord(c.name, false);
      this.records.set(uid, rec);
      this.checkpoints.save(rec);
    } else {
      const wasDeleting = !!rec.pod.metadata?.deletionTimestamp;
      rec.pod = p;
      if (!wasDeleting && p.metadata?.deletionTimestamp) this.checkpoints.save(rec);
    }
    this.queue.add(uid);
  }

  private onPodGone(p: Pod): void {
    const rec = this.records.get(p.metadata!.uid!);
    if (!rec) return;
    rec.apiGone = true;
    this.queue.add(rec.uid);
  }

  /** After the first full list: pods we have records of that the API no longer has were deleted meanwhile. */
  private forgetVanished(): void {
    const live = new Set(this.informer.list().map((p) => p.metadata!.uid!));
    for (const rec of this.records.values())
      if (!live.has(rec.uid)) {
        rec.apiGone = true;
        this.queue.add(rec.uid);
      }
  }

  private event(rec: PodRecord, type: "Normal" | "Warning", reason: string, message: string, container?: string): void {
    const ref: any = { apiVersion: "v1", kind: "Pod", namespace: rec.pod.metadata!.namespace, name: rec.pod.metadata!.name, uid: rec.uid };
    if (container) {
      const init = rec.pod.spec?.initContainers?.some((c) => c.name === container);
      ref.fieldPath = `spec.${init ? "initContainers" : "containers"}{${container}}`;
    }
    void this.recorder.event(ref, type, reason, message);
  }

  // ---- runtime relist (PLEG) ----

  private triggerRelist(): void {
    if (this.stopped) return;
    if (this.relisting) {
      this.relistAgain = true;
      return;
    }
    this.relisting = this.relist()
      .catch((e) => log.warn("relist failed", { error: e }))
      .finally(() => {
        this.relisting = undefined;
        if (this.relistAgain) {
          this.relistAgain = false;
          this.triggerRelist();
        }
      });
  }

  private async relist(): Promise<void> {
    const listedAt = performance.now();
    const list = await this.opts.runtime.list();
    // Removing and reaping take a few commands each: containers that exited together (a deleted ReplicaSet, a node
    // drained) are cleaned up side by side, one per core at a time.
    const cleanups: (() => Promise<void>)[] = [];
    for (const c of list) {
      const uid = c.labels[LABEL_POD_UID];
      if (!uid) continue;
      const rec = this.records.get(uid);
      const name = c.labels[LABEL_CONTAINER]!;
      const cr = rec?.containers[name];
      if (!rec || !cr) {
        // Not ours any more (pod gone while we were away): stop it.
        log.info("removing orphaned container", { id: c.id, uid });
        cleanups.push(() => this.opts.runtime.remove(c.id).catch((e) => log.warn("remove failed", { id: c.id, error: e })));
        continue;
      }
      if (c.state === "running") {
        if (cr.id !== c.id || !cr.running) {
          // Adopted: started by a previous agent run.
          cr.id = c.id;
          cr.running = true;
          cr.waiting = undefined;
          cr.startedAt = c.labels[LABEL_STARTED] ?? cr.startedAt;
          cr.restartCount = Number(c.labels[LABEL_RESTART] ?? cr.restartCount);
          cr.attempts = Math.max(cr.attempts, Number(c.labels[LABEL_ATTEMPT] ?? 0) + 1);
          log.info("adopted running container", { pod: podKey(rec.pod), container: name, id: c.id });
          this.startProbes(rec, cr);
          this.queue.add(uid);
        }
      } else if (c.state === "exited") {
        // Reaped after its exit event since this listing began: what was listed is gone already.
        if ((this.reapedAt.get(c.id) ?? -1) >= listedAt) continue;
        cleanups.push(() => this.reap(rec, cr, c.id, c.labels[LABEL_STARTED]));
      }
    }
    for (const [id, at] of this.reapedAt) if (at < listedAt) this.reapedAt.delete(id); // no later listing can hold these
    const pool = new Slots(availableParallelism());
    for (const r of await Promise.allSettled(cleanups.map((fn) => pool.run(fn)))) if (r.status === "rejected") throw r.reason;
    // Containers we believed running but the runtime no longer has (e.g. containerd state lost).
    const ids = new Set(list.map((c) => c.id));
    for (const rec of this.records.values())
      for (const cr of Object.values(rec.containers))
        if (cr.running && cr.id && !ids.has(cr.id) && !this.reaping.has(cr.id) && (this.startedLocally.get(cr.id) ?? 0) < listedAt) this.onContainerExit(rec, cr, cr.id, 255, false, new Date(), cr.startedAt, "ContainerStatusUnknown");
  }

  /**
   * containerd reported that a container's task exited: reap that one container, as upstream's evented PLEG does,
   * instead of relisting every container (two `ctr` processes per exit). One this process is still starting is
   * reaped once started; one it has no record of (an orphan, an earlier attempt) is left to a relist.
   */
  private onRuntimeExit(id: string): void {
    if (this.stopped) return;
    if (this.startedLocally.get(id) === Number.POSITIVE_INFINITY) {
      this.exitedWhileStarting.add(id);
      return;
    }
    for (const rec of this.records.values())
      for (const cr of Object.values(rec.containers))
        if (cr.id === id && cr.running) {
          this.reapInBackground(rec, cr, id);
          return;
        }
    this.triggerRelist();
  }

  private reapInBackground(rec: PodRecord, cr: ContainerRecord, id: string): void {
    void this.reap(rec, cr, id).catch((e) => log.warn("reap failed; the next relist retries", { id, error: e }));
  }

  /** Removes an exited container and records its exit; concurrent calls for one container share the first. */
  private reap(rec: PodRecord, cr: ContainerRecord, id: string, startedLabel?: string): Promise<void> {
    const inFlight = this.reaping.get(id);
    if (inFlight) return inFlight;
    const p = (async () => {
      const exit = await this.opts.runtime.reap(id);
      if (cr.id === id || !cr.id) this.onContainerExit(rec, cr, id, exit.exitCode, exit.oomKilled, exit.finishedAt, startedLabel);
      this.reapedAt.set(id, performance.now());
      for (const w of this.exitWaiters.get(id) ?? []) w();
      this.exitWaiters.delete(id);
    })().finally(() => this.reaping.delete(id));
    this.reaping.set(id, p);
    return p;
  }

  private onContainerExit(rec: PodRecord, cr: ContainerRecord, id: string, exitCode: number, oom: boolean, finishedAt: Date, startedAt?: string, reasonOverride?: string): void {
    this.stopProbes(cr);
    this.startedLocally.delete(id);
    const reason = reasonOverride ?? (oom ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error");
    const t: Termination = { exitCode, reason, startedAt: startedAt ?? cr.startedAt, finishedAt: finishedAt.toISOString().replace(/\.\d+Z$/, "Z"), containerID: id };
    const message = this.terminationMessage(rec, cr, exitCode);
    if (message) t.message = message;
    if (cr.terminated) cr.previous = cr.terminated;
    cr.terminated = t;
    cr.running = false;
    cr.ready = false;
    cr.started = false;
    // Back-off: upstream restarts the first time at once, then waits 10 s, doubling to 5 min; a container that
    // ran for 10 minutes starts over.
    const ranMs = startedAt ? finishedAt.getTime() - new Date(startedAt).getTime() : 0;
    if (ranMs > BACKOFF_RESET_MS) cr.backoffSeconds = undefined;
    const delay = cr.backoffSeconds;
    cr.backoffUntil = delay ? finishedAt.getTime() + delay * 1000 : undefined;
    cr.backoffSeconds = delay ? Math.min(delay * 2, BACKOFF_MAX) : BACKOFF_START;
    log.info("container exited", { pod: podKey(rec.pod), container: cr.name, exitCode, reason });
    this.checkpoints.save(rec);
    this.queue.add(rec.uid);
  }

  /** The container's termination-log, or (FallbackToLogsOnError) the tail of its log on failure, as upstream. */
  private terminationMessage(rec: PodRecord, cr: ContainerRecord, exitCode: number): string | undefined {
    let msg = "";
    try {
      if (cr.termFile) msg = readFileSync(cr.termFile, "utf8").slice(0, 4096);
    } catch {}
    const c = this.containerSpec(rec, cr.name);
    if (!msg && exitCode !== 0 && c?.terminationMessagePolicy === "FallbackToLogsOnError" && cr.logFile) {
      try {
        const lines = readFileSync(cr.logFile, "utf8").trimEnd().split("\n").slice(-80);
        msg = lines.map((l) => l.split(" ").slice(3).join(" ")).join("\n").slice(-2048);
      } catch {}
    }
    return msg || undefined;
  }

  /**
   * Resolves true once the signalled container has exited and was reaped (its exit event leads there), false
   * after `timeoutMs`. Without the event within 2 s (the event stream was down, or the task ended before the
   * signal and its event went unseen) a relist asks containerd.
   */
  private waitExit(cr: ContainerRecord, id: string, timeoutMs: number): Promise<boolean> {
    if (cr.id !== id || !cr.running) return Promise.resolve(true); // reaped meanwhile
    const reaping = this.reaping.get(id);
    if (reaping) return reaping.then(() => true, () => false);
    return new Promise((resolve) => {
      const done = (exited: boolean) => {
        clearTimeout(timer);
        clearTimeout(noEvent);
        resolve(exited);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      const noEvent = setTimeout(() => this.triggerRelist(), 2000);
      const list = this.exitWaiters.get(id) ?? [];
      list.push(() => done(true));
      this.exitWaiters.set(id, list);
    });
  }

  // ---- pod sync ----

  private podDir(uid: string): string {
    return this.checkpoints.podDir(uid);
  }

  private async syncPod(uid: string): Promise<void> {
    const rec = this.records.get(uid);
    if (!rec || this.stopped) return;
    const pod = rec.pod;
    if (rec.apiGone || pod.metadata?.deletionTimestamp) return this.terminatePod(rec);
    if (rec.phase) {
      await this.killAll(rec, 0);
      // A finished pod gives its address back (its status keeps showing it, as upstream) and its cgroup.
      if (!rec.netReleased) {
        if (!pod.spec?.hostNetwork) await this.opts.network.teardown(uid).catch((e) => log.warn("network teardown failed", { error: e }));
        this.removePodCgroup(uid);
        rec.netReleased = true;
        this.checkpoints.save(rec);
      }
      return this.updateStatus(rec);
    }
    // A sync that starts something (the sandbox, a container) takes one of the start slots for its duration;
    // one that only refreshes a running pod's status does not, nor does a termination waiting out its grace.
    const starting = (!pod.spec?.hostNetwork && !rec.ips) || Object.values(rec.containers).some((c) => !c.running && !(c.terminated && c.init && c.terminated.exitCode === 0));
    const statusDue = starting ? await this.starts.run(() => this.syncRunning(rec)) : await this.syncRunning(rec);
    // The status of a sync that went through is written once its start slot is given back: an API round trip is
    // no start work, and the next pod's start need not wait for it.
    if (statusDue) await this.updateStatus(rec);
  }

  /** Steps a pod that is not terminating toward its spec; true when its status is still to be written. */
  private async syncRunning(rec: PodRecord): Promise<boolean | void> {
    const { uid, pod } = rec;
    rec.startTime ??= new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const spec = pod.spec!;
    // Network. A namespace that is gone (the node rebooted, or `kubun killall` ran) is a dead sandbox: as upstream,
    // its address is released and a new one made; the containers then restart in it.
    if (!spec.hostNetwork && rec.ips && rec.netnsPath && !existsSync(rec.netnsPath)) {
      log.info("pod network namespace is gone; making a new one", { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, netns: rec.netnsPath });
      await this.opts.network.teardown(uid).catch((e) => log.warn("network teardown failed", { error: e }));
      rec.ips = undefined;
      rec.netnsPath = undefined;
    }
    const needNetwork = !spec.hostNetwork && !rec.ips;
    // A new pod's network, volumes and images are made ready side by side: volumes wait for the address only
    // when the downward API shows it, and image lookups are shared with the container starts that follow.
    // Unless the pod shows its own address (env or downward API), its first container is also created (snapshot,
    // container record, task) while the CNI plugins run, and started only once the network is up: the
    // container's process never runs without its network, and a pod start no longer waits for one then the other.
    let volumesEarly: Promise<Map<string, string>> | undefined;
    /** The network being set up beside the containers' creation; settled before this sync returns. */
    let pendingNet: Promise<void> | undefined;
    if (needNetwork) {
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) if (c.image) void this.opts.runtime.getImage(c.image).catch(() => {});
      const showsPodIP = JSON.stringify(spec).includes("status.podIP");
      if (!JSON.stringify(spec.volumes ?? []).includes("status.podIP")) {
        volumesEarly = this.podVolumes(rec);
        volumesEarly.catch(() => {}); // handled below
      }
      let namespaceMade!: (netnsPath: string) => void;
      const madeNamespace = new Promise<string>((r) => (namespaceMade = r));
      const setup = traced(`network ${uid}`, () =>
        this.opts.network.setup({
          uid,
          namespace: pod.metadata!.namespace!,
          name: pod.metadata!.name!,
          portMappings: [...(spec.initContainers ?? []), ...spec.containers].flatMap((c) =>
            (c.ports ?? []).filter((p) => p.hostPort).map((p) => ({ hostPort: p.hostPort!, containerPort: p.containerPort, protocol: (p.protocol ?? "TCP").toLowerCase() as any, hostIP: p.hostIP })),
          ),
          onNamespace: namespaceMade,
        }),
      );
      const recorded = setup.then(
        (net) => {
          rec.ips = net.ips;
          rec.netnsPath = net.netnsPath;
          this.checkpoints.save(rec);
        },
        (e) => {
          rec.netnsPath = undefined;
          throw new SandboxError(e as Error);
        },
      );
      recorded.catch(() => {}); // handled where awaited
      try {
        if (showsPodIP) await recorded;
        else {
          rec.netnsPath = await Promise.race([madeNamespace, setup.then((n) => n.netnsPath)]);
          // /etc/hosts gets the pod's address (written in place: the container's bind mount keeps the file).
          pendingNet = recorded.then(() => this.writeEtcFiles(rec));
          pendingNet.catch(() => {}); // handled where awaited
        }
      } catch (e) {
        return this.sandboxFailed(rec, e instanceof SandboxError ? e.netError : e, volumesEarly);
      }
    }
    try {
      return await this.syncContainers(rec, volumesEarly, pendingNet);
    } catch (e) {
      if (!(e instanceof SandboxError)) throw e;
      return this.sandboxFailed(rec, e.netError, volumesEarly);
    } finally {
      // Never leave a CNI ADD running behind a finished sync: the next sync would start another for this pod.
      await pendingNet?.catch(() => {});
    }
  }

  private async sandboxFailed(rec: PodRecord, e: unknown, volumesEarly?: Promise<unknown>): Promise<void> {
    await volumesEarly?.catch(() => {});
    this.event(rec, "Warning", "FailedCreatePodSandBox", `Failed to create pod sandbox: ${(e as Error).message}`);
    await this.updateStatus(rec);
    this.queue.addAfter(rec.uid, 5000);
  }

  /** Volumes, /etc files, init containers then app containers; `pendingNet` (if any) gates the first start and every status. */
  private async syncContainers(rec: PodRecord, volumesEarly: Promise<Map<string, string>> | undefined, pendingNet: Promise<void> | undefined): Promise<boolean | void> {
    const { uid } = rec;
    const spec = rec.pod.spec!;
    const updateStatus = async () => {
      await pendingNet;
      return this.updateStatus(rec);
    };
    // Volumes and the pod's /etc files.
    let volumes: Map<string, string>;
    try {
      volumes = await (volumesEarly ?? this.podVolumes(rec));
      this.writeEtcFiles(rec);
    } catch (e) {
      this.event(rec, "Warning", "FailedMount", `MountVolume.SetUp failed: ${(e as Error).message}`);
      for (const cr of Object.values(rec.containers)) if (!cr.running && !cr.terminated) cr.waiting = { reason: "ContainerCreating" };
      await updateStatus();
      this.queue.addAfter(uid, 5000);
      return;
    }
    const policy = spec.restartPolicy ?? "Always";
    // Init containers, one at a time, each to success.
    if (!rec.initDone) {
      for (const c of spec.initContainers ?? []) {
        const cr = (rec.containers[c.name] ??= containerRecord(c.name, true));
        if (cr.running) return updateStatus();
        if (cr.terminated?.exitCode === 0) continue;
        if (cr.terminated && policy === "Never") {
          rec.phase = "Failed";
          this.checkpoints.save(rec);
          return updateStatus();
        }
        await this.startContainer(rec, c, cr, volumes, pendingNet);
        return updateStatus();
      }
      rec.initDone = true;
      this.checkpoints.save(rec);
    }
    for (const c of spec.containers) {
      const cr = (rec.containers[c.name] ??= containerRecord(c.name, false));
      if (cr.running) continue;
      if (cr.terminated) {
        const restart = policy === "Always" || (policy === "OnFailure" && cr.terminated.exitCode !== 0);
        if (!restart) continue;
      }
      await this.startContainer(rec, c, cr, volumes, pendingNet);
    }
    await pendingNet;
    const phase = buildPodStatus(rec, this.opts.hostIP(), undefined).phase;
    if (phase === "Succeeded" || phase === "Failed") {
      rec.phase = phase;
      this.checkpoints.save(rec);
    }
    return true; // the caller writes the status
  }

  /** The pod's volumes by name; content volumes are refreshed at most once a minute (API load, disk writes). */
  private async podVolumes(rec: PodRecord): Promise<Map<string, string>> {
    if (rec.volumes && Date.now() - (rec.volumesAt ?? 0) < 60_000) return new Map(Object.entries(rec.volumes));
    const volumes = await traced(`volumes ${rec.uid}`, () => setupVolumes(this.podWithIPs(rec), { podDir: this.podDir(rec.uid), refs: this.refs, nodeAllocatable: this.opts.nodeAllocatable?.() ?? {} }));
    rec.volumes = Object.fromEntries(volumes);
    rec.volumesAt = Date.now();
    return volumes;
  }

  /** The pod as env and downward API see it: with the IPs this kubelet assigned, before status says so. */
  private podWithIPs(rec: PodRecord): Pod {
    const hostIP = this.opts.hostIP();
    const ips = rec.pod.spec?.hostNetwork ? [hostIP] : (rec.ips ?? []);
    return {
      ...rec.pod,
      status: { ...rec.pod.status, hostIP, hostIPs: [{ ip: hostIP }], podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) },
    };
  }

  private writeEtcFiles(rec: PodRecord): void {
    const dir = this.podDir(rec.uid);
    const pod = rec.pod;
    const hostname = (pod.spec?.hostname ?? pod.metadata!.name!).slice(0, 63);
    const ip = rec.ips?.[0];
    const fqdn = pod.spec?.subdomain ? `${hostname}.${pod.spec.subdomain}.${pod.metadata!.namespace}.svc.${this.opts.clusterDomain ?? "cluster.local"}` : "";
    const hosts = `# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${ip ? `${ip}\t${fqdn ? fqdn + "\t" : ""}${hostname}\n` : ""}`;
    const ns = pod.metadata!.namespace!;
    const domain = this.opts.clusterDomain ?? "cluster.local";
    let resolv: string;
    const policy = pod.spec?.dnsPolicy ?? "ClusterFirst";
    if (policy === "Default" || (pod.spec?.hostNetwork && policy !== "ClusterFirstWithHostNet")) {
      try {
        resolv = readFileSync("/etc/resolv.conf", "utf8");
      } catch {
        resolv = "";
      }
    } else if (policy === "None") {
      const c = pod.spec?.dnsConfig ?? {};
      resolv = `${(c.nameservers ?? []).map((n) => `nameserver ${n}`).join("\n")}\n${c.searches?.length ? `search ${c.searches.join(" ")}\n` : ""}`;
    } else {
      resolv = `search ${ns}.svc.${domain} svc.${domain} ${domain}\nnameserver ${this.opts.clusterDNS ?? "10.43.0.10"}\noptions ndots:5\n`;
    }
    const write = (name: string, text: string) => {
      const f = join(dir, name);
      try {
        if (readFileSync(f, "utf8") === text) return;
      } catch {}
      writeFileSync(f, text);
    };
    mkdirSync(dir, { recursive: true });
    write("etc-hosts", hosts);
    write("resolv.conf", resolv);
    write("hostname", hostname + "\n");
  }

  private logDir(rec: PodRecord, container: string): string {
    const m = rec.pod.metadata!;
    return join(this.podLogDir, `${m.namespace}_${m.name}_${rec.uid}`, container);
  }

  private async ensureImage(rec: PodRecord, c: Container, cr: ContainerRecord): Promise<string | undefined> {
    const image = c.image!;
    const policy = c.imagePullPolicy ?? (/:latest$|^[^:@]*$/.test(image.split("/").pop()!) ? "Always" : "IfNotPresent");
    let info = await this.opts.runtime.getImage(image);
    if (info && policy !== "Always") {
      // Upstream reports this on every start; the event recorder folds the repeats.
      this.event(rec, "Normal", "Pulled", `Container image "${image}" already present on machine`, c.name);
      return info.id;
    }
    if (policy === "Never") {
      cr.waiting = { reason: "ErrImageNeverPull", message: `Container image "${image}" is not present with pull policy of Never` };
      this.event(rec, "Warning", "ErrImageNeverPull", cr.waiting.message!, c.name);
      return undefined;
    }
    if (cr.backoffUntil && cr.waiting?.reason === "ErrImagePull" && Date.now() < cr.backoffUntil) {
      cr.waiting = { reason: "ImagePullBackOff", message: `Back-off pulling image "${image}"` };
      this.queue.addAfter(rec.uid, cr.backoffUntil - Date.now());
      return undefined;
    }
    this.event(rec, "Normal", "Pulling", `Pulling image "${image}"`, c.name);
    const t0 = Date.now();
    try {
      info = await this.opts.runtime.pullImage(image, { auth: await this.pullAuth(rec.pod, image) });
      this.event(rec, "Normal", "Pulled", `Successfully pulled image "${image}" in ${Date.now() - t0}ms`, c.name);
      return info.id;
    } catch (e) {
      // An image we already have still runs when the registry is unreachable (edge nodes go offline).
      if (info) return info.id;
      const msg = `Failed to pull image "${image}": ${(e as Error).message}`;
      this.event(rec, "Warning", "Failed", msg, c.name);
      this.event(rec, "Warning", "Failed", "Error: ErrImagePull", c.name);
      cr.waiting = { reason: "ErrImagePull", message: msg };
      const d = cr.backoffSeconds ?? BACKOFF_START;
      cr.backoffUntil = Date.now() + d * 1000;
      cr.backoffSeconds = Math.min(d * 2, BACKOFF_MAX);
      this.queue.addAfter(rec.uid, d * 1000);
      return undefined;
    }
  }

  /** Credentials for the image's registry from the pod's imagePullSecrets (kubernetes.io/dockerconfigjson). */
  private async pullAuth(pod: Pod, image: string): Promise<string | undefined> {
    const first = image.split("/")[0]!;
    const host = image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost") ? first : "docker.io";
    for (const ref of pod.spec?.imagePullSecrets ?? []) {
      try {
        const s = await this.refs.secret(pod.metadata!.namespace!, ref.name!);
        const raw = s?.data?.[".dockerconfigjson"] ?? s?.data?.[".dockercfg"];
        if (!raw) continue;
        const cfg = JSON.parse(Buffer.from(raw, "base64").toString());
        const auths: Record<string, any> = cfg.auths ?? cfg;
        for (const [k, v] of Object.entries(auths)) {
          const h = k.replace(/^https?:\/\//, "").split("/")[0]!;
          const same = h === host || (host === "docker.io" && /(^|\.)docker\.io$/.test(h));
          if (!same) continue;
          if (v.auth) return Buffer.from(v.auth, "base64").toString();
          if (v.username) return `${v.username}:${v.password ?? ""}`;
        }
      } catch (e) {
        log.warn("unreadable imagePullSecret", { secret: ref.name, error: e });
      }
    }
    return undefined;
  }

  private async startContainer(rec: PodRecord, c: Container, cr: ContainerRecord, volumes: Map<string, string>, pendingNet?: Promise<void>): Promise<void> {
    const pod = rec.pod;
    if (cr.terminated && cr.backoffUntil && Date.now() < cr.backoffUntil) {
      const secs = cr.backoffSeconds ? cr.backoffSeconds / 2 : BACKOFF_START;
      cr.waiting = { reason: "CrashLoopBackOff", message: `back-off ${Math.round(secs)}s restarting failed container=${c.name} pod=${pod.metadata!.name}_${pod.metadata!.namespace}(${rec.uid})` };
      this.event(rec, "Warning", "BackOff", "Back-off restarting failed container", c.name);
      this.queue.addAfter(rec.uid, cr.backoffUntil - Date.now() + 10);
      return;
    }
    const imageID = await traced(`image ${rec.uid}`, () => this.ensureImage(rec, c, cr));
    if (!imageID) return;
    cr.imageID = imageID;
    let env: string[];
    try {
      env = await traced(`env ${rec.uid}`, () => buildEnv(this.podWithIPs(rec), c, this.refs, this.opts.nodeAllocatable?.() ?? {}));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      cr.waiting = { reason: "CreateContainerConfigError", message: e.message };
      this.event(rec, "Warning", "Failed", `Error: ${e.message}`, c.name);
      this.queue.addAfter(rec.uid, 5000);
      return;
    }
    const vars = new Map(env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)] as [string, string]));
    const sc = { ...(pod.spec?.securityContext ?? {}), ...(c.securityContext ?? {}) } as any;
    const attempt = cr.attempts;
    const restartCount = attempt === 0 ? 0 : cr.restartCount + 1;
    const id = `${rec.uid.slice(0, 13)}-${c.name.slice(0, 40)}-${attempt}`;
    const mounts: ContainerSpec["mounts"] = [];
    for (const m of c.volumeMounts ?? []) {
      const src = volumes.get(m.name);
      if (!src) {
        cr.waiting = { reason: "CreateContainerConfigError", message: `volume "${m.name}" not found` };
        return;
      }
      const sub = m.subPath ?? (m.subPathExpr ? expand(m.subPathExpr, vars) : "");
      if (sub) mkdirSync(join(src, sub), { recursive: true });
      // A claim mounted readOnly in the pod's volume list is read-only in every container.
      const claimReadOnly = !!pod.spec?.volumes?.find((v) => v.name === m.name)?.persistentVolumeClaim?.readOnly;
      mounts.push({ source: sub ? join(src, sub) : src, destination: m.mountPath, readOnly: !!m.readOnly || claimReadOnly });
    }
    const dir = this.podDir(rec.uid);
    const has = (p: string) => mounts.some((m) => m.destination === p);
    if (!has("/etc/hosts")) mounts.push({ source: join(dir, "etc-hosts"), destination: "/etc/hosts" });
    if (!has("/etc/resolv.conf")) mounts.push({ source: join(dir, "resolv.conf"), destination: "/etc/resolv.conf" });
    if (!has("/etc/hostname")) mounts.push({ source: join(dir, "hostname"), destination: "/etc/hostname" });
    // Termination message: a per-instance file the container may write; read when it exits.
    const termPath = c.terminationMessagePath ?? "/dev/termination-log";
    let termFile: string | undefined;
    if (termPath && !has(termPath)) {
      termFile = join(dir, "containers", c.name, `${attempt}-termination-log`);
      mkdirSync(join(dir, "containers", c.name), { recursive: true });
      writeFileSync(termFile, "", { mode: 0o666 });
      chmodSync(termFile, 0o666);
      mounts.push({ source: termFile, destination: termPath });
    }
    const limits = c.resources?.limits ?? {};
    const requests = c.resources?.requests ?? {};
    const logDir = this.logDir(rec, c.name);
    mkdirSync(logDir, { recursive: true });
    // Keep the current and the previous instance's log, as upstream.
    for (const f of readdirSync(logDir)) {
      const n = Number(f.split(".")[0]);
      if (Number.isFinite(n) && n < restartCount - 1) rmSync(join(logDir, f), { force: true });
    }
    const startedAt = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const spec: ContainerSpec = {
      id,
      image: c.image!,
      labels: {
        [LABEL_POD_UID]: rec.uid,
        [LABEL_POD_NAME]: pod.metadata!.name!,
        [LABEL_POD_NAMESPACE]: pod.metadata!.namespace!,
        [LABEL_CONTAINER]: c.name,
        [LABEL_RESTART]: String(restartCount),
        [LABEL_ATTEMPT]: String(attempt),
        [LABEL_STARTED]: startedAt,
      },
      command: c.command?.map((a) => expand(a, vars)),
      args: c.args?.map((a) => expand(a, vars)),
      env,
      workingDir: c.workingDir,
      uid: sc.runAsUser,
      gid: sc.runAsGroup,
      supplementalGroups: pod.spec?.securityContext?.supplementalGroups,
      readOnlyRootfs: !!sc.readOnlyRootFilesystem,
      privileged: !!sc.privileged,
      capAdd: sc.capabilities?.add,
      capDrop: sc.capabilities?.drop,
      mounts,
      netnsPath: pod.spec?.hostNetwork ? undefined : rec.netnsPath,
      hostname: pod.spec?.hostNetwork ? undefined : (pod.spec?.hostname ?? pod.metadata!.name!).slice(0, 63),
      cgroupPath: `${this.cgroupRoot}/pod${rec.uid}/${id}`,
      shimGroup: rec.uid,
      memoryLimitBytes: limits.memory ? Math.ceil(quantityValue(limits.memory)) : undefined,
      cpuQuotaUs: limits.cpu ? Math.max(1000, Math.ceil(quantityValue(limits.cpu) * 100_000)) : undefined,
      cpuShares: requests.cpu ?? limits.cpu ? Math.max(2, Math.floor(quantityValue((requests.cpu ?? limits.cpu)!) * 1024)) : undefined,
      logPath: join(logDir, `${restartCount}.log`),
      stdin: !!c.stdin,
      tty: !!c.tty,
    };
    if (sc.runAsNonRoot && (spec.uid === undefined || spec.uid === 0)) {
      cr.waiting = { reason: "CreateContainerConfigError", message: "container has runAsNonRoot and image will run as root" };
      this.event(rec, "Warning", "Failed", `Error: ${cr.waiting.message}`, c.name);
      return;
    }
    try {
      this.startedLocally.set(id, Number.POSITIVE_INFINITY);
      await traced(`start ${id}`, () => this.opts.runtime.start(spec, { beforeStart: pendingNet }));
      this.startedLocally.set(id, performance.now());
    } catch (e) {
      this.startedLocally.delete(id);
      this.exitedWhileStarting.delete(id);
      if (e instanceof SandboxError) throw e; // the pod's network failed, not this container
      cr.waiting = { reason: "CreateContainerError", message: (e as Error).message };
      this.event(rec, "Warning", "Failed", `Error: ${(e as Error).message}`, c.name);
      // Failed starts back off like crashes.
      const d = cr.backoffSeconds ?? BACKOFF_START;
      cr.backoffSeconds = Math.min(d * 2, BACKOFF_MAX);
      this.queue.addAfter(rec.uid, d * 1000);
      return;
    }
    // Recorded once this sync's continuation has sent the status it leads to (a timer runs after it): the pod's
    // Running status is not queued behind its own events at the API server.
    setTimeout(() => {
      this.event(rec, "Normal", "Created", `Created container ${c.name}`, c.name);
      this.event(rec, "Normal", "Started", `Started container ${c.name}`, c.name);
    }, 0);
    cr.attempts = attempt + 1;
    cr.termFile = termFile;
    cr.logFile = spec.logPath;
    cr.id = id;
    cr.running = true;
    cr.waiting = undefined;
    cr.startedAt = startedAt;
    cr.restartCount = restartCount;
    cr.ready = false;
    cr.started = false;
    this.checkpoints.save(rec);
    this.startProbes(rec, cr);
    if (this.exitedWhileStarting.delete(id)) this.reapInBackground(rec, cr, id);
    if (c.lifecycle?.postStart?.exec) {
      const p = this.opts.runtime.exec(id, c.lifecycle.postStart.exec.command ?? [], { timeoutMs: 30_000 });
      const code = await p.exited;
      if (code !== 0) {
        this.event(rec, "Warning", "FailedPostStartHook", `PostStartHook failed: exit code ${code}`, c.name);
        await this.opts.runtime.kill(id, "SIGKILL");
      }
    }
  }

  // ---- probes ----

  containerSpec(rec: PodRecord, name: string): Container | undefined {
    return [...(rec.pod.spec?.initContainers ?? []), ...(rec.pod.spec?.containers ?? [])].find((c) => c.name === name);
  }

  private startProbes(rec: PodRecord, cr: ContainerRecord): void {
    this.stopProbes(cr);
    const c = this.containerSpec(rec, cr.name);
    if (!c || cr.init) {
      cr.started = true;
      return;
    }
    const id = cr.id!;
    const target = () => (cr.running && cr.id === id ? { podIP: rec.ips?.[0] ?? this.opts.hostIP(), netnsPath: rec.netnsPath, containerId: id, container: c, runtime: this.opts.runtime } : undefined);
    const workers: ProbeWorker[] = [];
    cr.started = !c.startupProbe;
    cr.ready = !c.readinessProbe && cr.started;
    const mk = (kind: ProbeKind, probe: any, gate: () => boolean, onChange: (ok: boolean, msg: string) => void) => {
      const w = new ProbeWorker(kind, probe, target, gate, onChange);
      const label = kind[0]!.toUpperCase() + kind.slice(1);
      w.onFailure = (msg) => this.event(rec, "Warning", "Unhealthy", `${label} probe failed: ${msg}`, c.name);
      workers.push(w);
    };
    if (c.startupProbe)
      mk("startup", c.startupProbe, () => !cr.started, (ok, msg) => {
        if (ok) {
          cr.started = true;
          if (!c.readinessProbe) cr.ready = true;
          this.queue.add(rec.uid);
        } else this.failedProbeKill(rec, cr, c, "startup", msg);
      });
    if (c.livenessProbe)
      mk("liveness", c.livenessProbe, () => cr.started, (ok, msg) => {
        if (!ok) this.failedProbeKill(rec, cr, c, "liveness", msg);
      });
    if (c.readinessProbe)
      mk("readiness", c.readinessProbe, () => cr.started, (ok) => {
        cr.ready = ok;
        this.queue.add(rec.uid);
      });
    cr.probes = workers;
  }

  private failedProbeKill(rec: PodRecord, cr: ContainerRecord, c: Container, kind: string, msg: string): void {
    this.event(rec, "Normal", "Killing", `Container ${c.name} failed ${kind} probe, will be restarted`, c.name);
    log.info("probe failed, restarting container", { pod: podKey(rec.pod), container: c.name, kind, msg });
    const grace = rec.pod.spec?.terminationGracePeriodSeconds ?? 30;
    void this.stopContainer(rec, cr, grace).catch((e) => log.warn("kill failed", { error: e }));
  }

  private stopProbes(cr: ContainerRecord): void {
    for (const p of cr.probes ?? []) p.stop();
    cr.probes = undefined;
  }

  // ---- termination ----

  /** preStop, SIGTERM, SIGKILL after the grace period; resolves when the container has exited and was reaped. */
  private async stopContainer(rec: PodRecord, cr: ContainerRecord, graceSeconds: number): Promise<void> {
    if (!cr.running || !cr.id) return;
    const id = cr.id;
    const c = this.containerSpec(rec, cr.name);
    const deadline = Date.now() + graceSeconds * 1000;
    this.stopProbes(cr);
    const pre = c?.lifecycle?.preStop;
    if (pre && graceSeconds > 0) {
      if (pre.exec) {
        const p = this.opts.runtime.exec(id, pre.exec.command ?? [], { timeoutMs: graceSeconds * 1000 });
        const code = await p.exited;
        if (code !== 0) this.event(rec, "Warning", "FailedPreStopHook", `PreStopHook failed: exit code ${code}`, cr.name);
      } else if (pre.httpGet) {
        await runProbe({ httpGet: pre.httpGet, timeoutSeconds: graceSeconds }, { podIP: rec.ips?.[0], netnsPath: rec.netnsPath, containerId: id, container: c!, runtime: this.opts.runtime });
      } else if ((pre as any).sleep?.seconds) await Bun.sleep(Math.min((pre as any).sleep.seconds, graceSeconds) * 1000);
    }
    if (graceSeconds > 0) {
      await this.opts.runtime.kill(id, "SIGTERM");
      if (await this.waitExit(cr, id, Math.max(0, deadline - Date.now()))) return;
    }
    await this.opts.runtime.kill(id, "SIGKILL");
    await this.waitExit(cr, id, 10_000);
  }

  private async killAll(rec: PodRecord, graceSeconds: number): Promise<void> {
    const running = Object.values(rec.containers).filter((c) => c.running);
    for (const cr of running) this.event(rec, "Normal", "Killing", `Stopping container ${cr.name}`, cr.name);
    await Promise.all(running.map((cr) => this.stopContainer(rec, cr, graceSeconds)));
  }

  private async terminatePod(rec: PodRecord): Promise<void> {
    const pod = rec.pod;
    const grace = rec.apiGone ? 0 : (pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30);
    await this.killAll(rec, grace);
    // Anything left (a container that did not stop in time, a clean-up that failed): the runtime's own records say
    // which, so a normal termination asks containerd nothing more.
    for (const id of await this.opts.runtime.containersWithLabel(LABEL_POD_UID, rec.uid)) await this.opts.runtime.remove(id).catch(() => {});
    if (!pod.spec?.hostNetwork) await this.opts.network.teardown(rec.uid).catch((e) => log.warn("network teardown failed", { error: e }));
    this.removePodCgroup(rec.uid);
    await teardownVolumes(this.podDir(rec.uid));
    const m = pod.metadata!;
    rmSync(join(this.podLogDir, `${m.namespace}_${m.name}_${rec.uid}`), { recursive: true, force: true });
    if (!rec.apiGone) {
      try {
        rec.phase ??= undefined;
        await this.updateStatus(rec);
        await this.opts.client.resource(refs.pods, pod.metadata!.namespace).delete(pod.metadata!.name!, { gracePeriodSeconds: 0, preconditions: { uid: rec.uid } });
      } catch (e) {
        if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) {
          log.warn("could not delete pod object; will retry", { pod: podKey(pod), error: e });
          this.queue.addAfter(rec.uid, 5000);
          return;
        }
      }
    }
    this.checkpoints.remove(rec.uid);
    this.records.delete(rec.uid);
    log.info("pod terminated and cleaned up", { pod: podKey(pod) });
  }

  /** The pod's own cgroup, once its containers' are gone; one still busy is left to the next start's sweep. */
  private removePodCgroup(uid: string): void {
    if (!removePodCgroup(this.cgroupRoot, uid)) log.info("pod cgroup still in use; left for the next sweep", { uid });
  }

  // ---- status ----

  private async updateStatus(rec: PodRecord): Promise<void> {
    const prev = this.informer.get(podKey(rec.pod))?.status ?? rec.pod.status;
    const status: PodStatus = buildPodStatus(rec, this.opts.hostIP(), prev);
    const text = JSON.stringify(status.conditions?.map((c) => ({ ...c, lastTransitionTime: undefined }))) + JSON.stringify({ ...status, conditions: undefined });
    if (text === rec.lastStatus) return;
    try {
      await traced(`status ${rec.uid} ${status.phase}`, () =>
        this.opts.client
          .resource(refs.pods, rec.pod.metadata!.namespace)
          .patch(rec.pod.metadata!.name!, "merge", { metadata: { uid: rec.uid }, status }, { subresource: "status" }),
      );
      rec.lastStatus = text;
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return;
      log.warn("pod status update failed", { pod: podKey(rec.pod), error: e });
      this.queue.addAfter(rec.uid, 5000);
    }
  }

  // ---- lookups for the streaming server and the stats collector ----

  /** Pods with their running containers, for resource usage sampling. */
  runningPods(): { uid: string; name: string; namespace: string; startTime?: string; containers: { name: string; id: string; startedAt?: string }[] }[] {
    const out = [];
    for (const rec of this.records.values()) {
      const containers = Object.values(rec.containers)
        .filter((c) => c.running && c.id)
        .map((c) => ({ name: c.name, id: c.id!, startedAt: c.startedAt }));
      if (!containers.length) continue;
      out.push({ uid: rec.uid, name: rec.pod.metadata?.name ?? "", namespace: rec.pod.metadata?.namespace ?? "", startTime: rec.startTime, containers });
    }
    return out;
  }

  findPod(namespace: string, name: string): PodRecord | undefined {
    for (const rec of this.records.values()) if (rec.pod.metadata?.namespace === namespace && rec.pod.metadata?.name === name) return rec;
    return undefined;
  }

  /** The running container's id, or undefined. */
  containerId(rec: PodRecord, container?: string): { id?: string; name: string; cr?: ContainerRecord } {
    const name = container || rec.pod.metadata?.annotations?.["kubectl.kubernetes.io/default-container"] || rec.pod.spec!.containers[0]!.name;
    const cr = rec.containers[name];
    return { id: cr?.running ? cr.id : undefined, name, cr };
  }

  logPath(rec: PodRecord, container: string, previous: boolean): string | undefined {
    const cr = rec.containers[container];
    if (!cr) return undefined;
    const n = previous ? cr.restartCount - 1 : cr.restartCount;
    if (n < 0) return undefined;
    return join(this.logDir(rec, container), `${n}.log`);
  }
}
