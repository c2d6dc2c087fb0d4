// Samples CPU and memory of the node, each pod and each running container every interval (default 10 s, as
// cAdvisor's housekeeping), keeping only the last two samples of each so that CPU rates (nano-cores) can be
// computed from the cumulative counters. /metrics/resource, /metrics and /stats/summary render the latest
// sample; nothing is read from the kernel per request.
import { detectCgroups, readCgroup, readNode, type CgroupLayout, type CpuMem, type NodeUsage } from "./cgroups.ts";

export interface RunningContainer {
  name: string;
  /** containerd id: the cgroup is <cgroupRoot>/pod<uid>/<id>. */
  id: string;
  startedAt?: string;
}

export interface RunningPod {
  uid: string;
  name: string;
  namespace: string;
  startTime?: string;
  containers: RunningContainer[];
}

export interface Point<T extends CpuMem = CpuMem> {
  /** Sample time, ms since the epoch. */
  time: number;
  usage: T;
  /** CPU rate since the previous sample of the same cgroup, in nano-cores (absent after the first sample). */
  nanoCores?: number;
}

export interface ContainerStats {
  name: string;
  startTime?: string;
  point: Point;
}

export interface PodStats {
  uid: string;
  name: string;
  namespace: string;
  startTime?: string;
  point?: Point;
  containers: ContainerStats[];
}

export interface StatsSnapshot {
  node?: Point<NodeUsage>;
  pods: PodStats[];
}

export interface CollectorOptions {
  /** The pods the kubelet runs right now. */
  pods: () => RunningPod[];
  /** The kubelet's cgroup parent of pods, e.g. /kubun. */
  cgroupRoot: string;
  intervalMs?: number;
  layout?: CgroupLayout;
  /** /proc, for tests. */
  proc?: string;
}

export const DEFAULT_STATS_INTERVAL_MS = 10_000;

function rate<T extends CpuMem>(prev: Point<T> | undefined, time: number, usage: T): number | undefined {
  // A counter that went backwards is a new cgroup under an old key (restart): no rate until the next sample.
  if (!prev || time <= prev.time || usage.cpuNs < prev.usage.cpuNs) return undefined;
  return Math.round(((usage.cpuNs - prev.usage.cpuNs) * 1000) / (time - prev.time));
}

export class StatsCollector {
  private readonly layout: CgroupLayout;
  /** Latest point per cgroup path (and "node"); entries of vanished cgroups are dropped at each sample. */
  private points = new Map<string, Point<any>>();
  private snapshot: StatsSnapshot = { pods: [] };
  private timer?: ReturnType<typeof setInterval>;
  /** CPU time this collector spent sampling (ms), for the benchmark and the kubelet's own /metrics. */
  sampleCpuMs = 0;
  samples = 0;

  constructor(private o: CollectorOptions) {
    this.layout = o.layout ?? detectCgroups();
  }

  start(): void {
    if (this.timer) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.o.intervalMs ?? DEFAULT_STATS_INTERVAL_MS);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  latest(): StatsSnapshot {
    return this.snapshot;
  }

  /** Takes one sample of everything now (also called by the timer). */
  sample(): StatsSnapshot {
    const cpu0 = process.cpuUsage();
    const next = new Map<string, Point<any>>();
    const take = <T extends CpuMem>(key: string, usage: T | undefined, time: number): Point<T> | undefined => {
      if (!usage) return undefined;
      const p: Point<T> = { time, usage, nanoCores: rate(this.points.get(key), time, usage) };
      next.set(key, p);
      return p;
    };
    const now = Date.now();
    const node = take("node", readNode(this.o.proc), now);
    const pods: PodStats[] = [];
    for (const pod of this.o.pods()) {
      const base = `${this.o.cgroupRoot}/pod${pod.uid}`;
      const containers: ContainerStats[] = [];
      for (const c of pod.containers) {
        const point = take(`${base}/${c.id}`, readCgroup(this.layout, `${base}/${c.id}`), Date.now());
        if (point) containers.push({ name: c.name, startTime: c.startedAt, point });
      }
      const point = take(base, readCgroup(this.layout, base), Date.now());
      if (!point && !containers.length) continue;
      pods.push({ uid: pod.uid, name: pod.name, namespace: pod.namespace, startTime: pod.startTime, point, containers });
    }
    this.points = next;
    this.snapshot = { node, pods };
    const d = process.cpuUsage(cpu0);
    this.sampleCpuMs += (d.user + d.system) / 1000;
    this.samples++;
    return this.snapshot;
  }
}
