// What resource metrics cost the kubelet with 30 pods on a real node (containerd + CNI in a test-made network
// namespace): CPU time and allocation of one sample of every cgroup (the collector runs one per 10 s), of rendering
// /metrics/resource and /stats/summary (one scrape per 15 s from the API server), the resulting share of a core, and
// the agent's RSS and whole CPU use over a minute at the default intervals (pod loop included). Goal: well under 1 % of a core.
// Run: bun run bench:metrics   (--samples N, default 200; --quick: 20 samples, a 10 s agent window)
import "../test/helpers/jitpolicy.ts"; // first of all: kubun's JIT options for the components this process runs
import "../test/helpers/tmpdir.ts"; // first: the helpers below make their temp dirs under <repo>/.tmp
import { readdirSync, readFileSync } from "node:fs";
import { refs } from "../internal/client/refs.ts";
import { detectCgroups } from "../internal/kubelet/stats/cgroups.ts";
import { DEFAULT_STATS_INTERVAL_MS, StatsCollector, type RunningPod } from "../internal/kubelet/stats/collector.ts";
import { renderResourceMetrics, renderSummary } from "../internal/kubelet/stats/render.ts";
import { DEFAULT_SCRAPE_INTERVAL_MS } from "../internal/apiserver/metricsapi/scraper.ts";
import { busyboxPod, startEnv, waitFor } from "../test/kubelet/setup.ts";
import { processCpuMs } from "./lib/machine.ts";
import { report } from "./lib/report.ts";

const QUICK = process.argv.includes("--quick");
const SAMPLES = Number(process.argv[process.argv.indexOf("--samples") + 1]) || (QUICK ? 20 : 200);
const PODS = 30;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const env = await startEnv(["metrics-bench"]);
const node = env.nodes[0]!;
const pods = env.client.resource(refs.pods, "default");
try {
  await Promise.all(Array.from({ length: PODS }, (_, i) => pods.create(busyboxPod(`m${i}`, node.name, "exec sleep 3600"))));
  await waitFor(`${PODS} pods Running`, async () => (await pods.list()).items.filter((p: any) => p.status?.phase === "Running").length === PODS, 300_000, 500);

  // The collector as the kubelet runs it, over the node's real pod cgroups (<cgroupRoot>/pod<uid>/<container id>).
  const cgroupRoot = `/${node.namespace}`;
  const layout = detectCgroups();
  const running: RunningPod[] = (await pods.list()).items.map((p: any) => ({
    uid: p.metadata.uid,
    name: p.metadata.name,
    namespace: "default",
    startTime: p.status.startTime,
    containers: readdirSync(`${layout.cpuRoot}${cgroupRoot}/pod${p.metadata.uid}`, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => ({ name: "main", id: d.name })),
  }));
  const collector = new StatsCollector({ pods: () => running, cgroupRoot, layout });
  for (let i = 0; i < 20; i++) collector.sample(); // warm-up (JIT)
  const c0 = cpuNow();
  const t0 = performance.now();
  for (let i = 0; i < SAMPLES; i++) collector.sample();
  const sampleCpuMs = (cpuNow() - c0) / SAMPLES;
  const sampleWallMs = (performance.now() - t0) / SAMPLES;
  const snap = collector.latest();
  const cgroups = snap.pods.reduce((n, p) => n + p.containers.length + (p.point ? 1 : 0), 1);
  const c1 = cpuNow();
  let bytes = 0;
  for (let i = 0; i < SAMPLES; i++) bytes = renderResourceMetrics(snap).length;
  const renderCpuMs = (cpuNow() - c1) / SAMPLES;
  const c2 = cpuNow();
  for (let i = 0; i < SAMPLES; i++) JSON.stringify(renderSummary(snap, node.name, new Date().toISOString()));
  const summaryCpuMs = (cpuNow() - c2) / SAMPLES;
  const coreShare = sampleCpuMs / DEFAULT_STATS_INTERVAL_MS + renderCpuMs / DEFAULT_SCRAPE_INTERVAL_MS;

  // The agent itself over a minute at the default intervals, scraped by the API server every 15 s.
  await Bun.sleep(5000);
  const pid = node.proc!.pid;
  const a0 = processCpuMs(pid, "self");
  const w0 = performance.now();
  await Bun.sleep(QUICK ? 10_000 : 60_000);
  const agentCpuShare = (processCpuMs(pid, "self") - a0) / (performance.now() - w0);
  const scrape = await env.cluster.api(`/api/v1/nodes/${node.name}/proxy/metrics/resource`);
  const scraped = (await scrape.text()).split("\n").filter((l) => l.startsWith("container_cpu_usage_seconds_total{")).length;

  const result = {
    pods: PODS,
    cgroups_per_sample: cgroups,
    cgroup_version: layout.version,
    sample_cpu_ms: +sampleCpuMs.toFixed(3),
    sample_wall_ms: +sampleWallMs.toFixed(3),
    render_metrics_resource_cpu_ms: +renderCpuMs.toFixed(3),
    metrics_resource_bytes: bytes,
    render_summary_cpu_ms: +summaryCpuMs.toFixed(3),
    collection_share_of_a_core_pct: +(coreShare * 100).toFixed(4),
    goal_under_1pct: coreShare < 0.01,
    agent_cpu_share_pct_total_60s: +(agentCpuShare * 100).toFixed(2),
    agent_rss_mib: rssMiB(pid),
    containers_in_live_scrape: scraped,
  };
  console.log(JSON.stringify(result, null, 2));
  report("metrics", [
    { id: "metrics.core-share", label: "resource metrics collection, 30 pods: share of a core", value: coreShare * 100, unit: "%", better: "lower", note: `sample ${result.sample_cpu_ms} ms CPU, render ${result.render_metrics_resource_cpu_ms} ms` },
    { id: "metrics.agent-cpu", label: "agent CPU, 30 pods, default intervals", value: agentCpuShare * 100, unit: "% of a core", better: "lower" },
    { id: "metrics.agent-rss", label: "agent RSS, 30 pods", value: result.agent_rss_mib, unit: "MiB", better: "lower" },
  ]);
} finally {
  await env.cleanup();
}
process.exit(0);
