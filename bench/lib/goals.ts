// What each benchmark figure is judged against: the goal from issue 17's table (on a 2-core machine) and the
// upstream yardstick it is anchored to. Keyed by the figure ids the benchmarks report (bench/lib/report.ts).
// ratio = figure / goal for "higher is better", goal / figure for "lower is better": ≥ 1 means the goal is met.

export interface Goal {
  goal?: number;
  /** How the goal reads in the table, e.g. "≥ 2,000/s". */
  goalText?: string;
  /** Upstream's (or k3s's) figure for the same thing. */
  upstream?: string;
}

export const AREAS: Record<string, string> = {
  store: "Store (SQLite vs etcd 3.4, same workload)",
  api: "API server",
  crd: "CRDs and ConfigMaps",
  scheduler: "Scheduler",
  pods: "Pod start-up on one real node",
  footprint: "Footprint",
  metrics: "Resource metrics (kubelet)",
  edge: "Edge outages",
  ingress: "Ingress proxy (vs a direct pod hit; Traefik not installable here)",
  scale: "Scale: 1,000 hollow nodes + 10,000 pods (kubemark-style)",
  storegrowth: "Store growth: a simulated month of lease and event churn",
  release: "This checkout vs the previous release (same load generator, back to back)",
};

const SLO_MUTATING = "upstream SLO: p99 ≤ 1 s (mutating calls)";
const SLO_LIST = "upstream SLO: p99 ≤ 5 s (namespace list)";
const SCHED_PERF = "scheduler_perf: 680–810 pods/s";

export const GOALS: Record<string, Goal> = {
  "api.create.1.rate": { upstream: SLO_MUTATING },
  "api.create.10.rate": { upstream: SLO_MUTATING },
  "api.create.50.rate": { goal: 2000, goalText: "≥ 2,000/s", upstream: SLO_MUTATING },
  "api.create.50.p99": { goal: 50, goalText: "≤ 50 ms", upstream: SLO_MUTATING },
  "api.create.50.cpu": { goal: 0.5, goalText: "≤ 0.5 ms/pod" },
  "api.list.whole": { goal: 300, goalText: "≤ 300 ms", upstream: SLO_LIST },
  "api.list.paged": { goal: 300, goalText: "≤ 300 ms", upstream: SLO_LIST },
  "api.table.first-page": { upstream: SLO_LIST },
  "api.watch.p99": { goal: 5000, goalText: "≤ 5 s", upstream: "no upstream SLO yet" },
  "api.rss": { goal: 1024, goalText: "≤ 1 GB", upstream: "" },
  "crd.configmap.rate": { goal: 3000, goalText: "≥ 3,000/s", upstream: SLO_MUTATING },
  "crd.configmap.p99": { goal: 30, goalText: "≤ 30 ms", upstream: SLO_MUTATING },
  "crd.customobject.rate": { upstream: SLO_MUTATING },
  "crd.small.established": { upstream: "" },
  "crd.big.established": { upstream: "" },
  "scheduler.100.1000": { goal: 1000, goalText: "≥ 1,000 pods/s", upstream: SCHED_PERF },
  "scheduler.1000.1000": { goal: 1000, goalText: "≥ 1,000 pods/s", upstream: SCHED_PERF },
  "scheduler.100.5000": { goal: 1000, goalText: "≥ 1,000 pods/s", upstream: SCHED_PERF },
  "scheduler.1000.5000": { goal: 1000, goalText: "≥ 1,000 pods/s", upstream: SCHED_PERF },
  "scheduler.deployment.100.1000": { upstream: "" },
  "pods.1.p50": { goal: 250, goalText: "≤ 250 ms", upstream: "upstream SLO: p99 ≤ 5 s pod start-up" },
  "pods.10.max": { upstream: "upstream SLO: p99 ≤ 5 s pod start-up" },
  "pods.30.max": { goal: 2500, goalText: "≤ 2.5 s", upstream: "upstream SLO: p99 ≤ 5 s pod start-up" },
  "pods.agent-rss": { upstream: "" },
  "footprint.readyz": { goal: 0.5, goalText: "≤ 0.5 s", upstream: "k3s: ~10–30 s" },
  "footprint.node-ready": { goal: 1, goalText: "≤ 1 s", upstream: "k3s: ~30–60 s" },
  "footprint.idle-rss": { goal: 120, goalText: "≤ 120 MB (whole node incl. containerd)", upstream: "k3s: ~1,200–1,400 MB" },
  "footprint.idle-writes": { goal: 1, goalText: "≤ 1 MB/h", upstream: "k3s: 25–40 MB/h" },
  "footprint.idle-cpu": { upstream: "k3s docs (resource profiling): 3 % of a core for an agent, 5–6 % for a server (x86, 2.9 GHz)" },
  "metrics.core-share": { goal: 1, goalText: "< 1 % of a core", upstream: "" },
  "edge.dns-after-restart": { upstream: "" },
  "edge.failover-watch": { goal: 5, goalText: "< 5 s", upstream: "" },
  // The Lease's renewTime gap across a server's SIGKILL, judged as bench:scale's (renewInterval 10 s + 1 s).
  "edge.failover-lease": { goal: 11, goalText: "≤ 11 s (10 s + 1 s)", upstream: "kubelet: Lease renewed every 10 s; NotReady after 40 s" },
  "edge.node-ready-after-server": { goal: 10, goalText: "≤ 10 s (one heartbeat)", upstream: "" },
  "scale.rss": { goal: 1024, goalText: "≤ 1 GB", upstream: "" },
  "scale.mutating.p99": { goal: 1000, goalText: "≤ 1 s", upstream: SLO_MUTATING },
  "scale.get.p99": { goal: 1000, goalText: "≤ 1 s", upstream: "upstream SLO: p99 ≤ 1 s (single-object reads)" },
  "scale.list-ns.p99": { goal: 5000, goalText: "≤ 5 s", upstream: SLO_LIST },
  "scale.list-cluster.p99": { goal: 30_000, goalText: "≤ 30 s", upstream: "upstream SLO: p99 ≤ 30 s (cluster list)" },
  // Never late: a renewal comes one interval (+ up to 4 % jitter, as upstream's lease controller) after the previous
  // one finished, plus at most the API's 1 s p99.
  "scale.lease-gap": { goal: 11, goalText: "≤ 11 s (10 s + 1 s)", upstream: "kubelet: Lease renewed every 10 s; NotReady after 40 s" },
  // The kubelet checks its status every nodeStatusUpdateFrequency (10 s, wait.JitterUntil jitter 0.04, sliding) and
  // posts it when it changed or when nodeStatusReportFrequency (5 min) has passed since the last post
  // (kubernetes/kubernetes pkg/kubelet/kubelet_node_status.go tryUpdateNodeStatus; the loop in kubelet.go Run), so
  // an unchanged node's reports are up to 300 + 10.4 s apart upstream too.
  "scale.status-gap": { goal: 311, goalText: "≤ 311 s (300 s + a 10 s check + 1 s)", upstream: "kubelet: nodeStatusReportFrequency 5 min, checked every nodeStatusUpdateFrequency 10 s (kubelet_node_status.go tryUpdateNodeStatus)" },
  "scale.evicted": { goal: 0, goalText: "none", upstream: "" },
  "scale.running": { upstream: "upstream SLO: p99 ≤ 5 s pod start-up (per pod)" },
  "storegrowth.db-size": { goal: 50, goalText: "≤ 50 MB", upstream: "etcd: 2 GB quota, defragmented by hand" },
  "storegrowth.worst-write": { goal: 100, goalText: "≤ 100 ms", upstream: "" },
};

/** ≥ 1: the goal is met. */
export function ratio(value: number, goal: number | undefined, better: "higher" | "lower"): number | undefined {
  if (goal === undefined || !Number.isFinite(value) || value < 0) return undefined;
  if (value === 0) return better === "lower" ? Infinity : 0;
  return better === "higher" ? value / goal : goal / value;
}
