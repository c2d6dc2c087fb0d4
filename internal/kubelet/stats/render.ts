// The latest sample in upstream kubelet's two formats: Prometheus text of /metrics/resource (the series
// metrics-server scrapes, with upstream's names, HELP texts and labels) and the Summary API JSON of /stats/summary
// (k8s.io/kubelet/pkg/apis/stats/v1alpha1: node, pods, containers; cpu and memory).
import type { CpuMem } from "./cgroups.ts";
import type { Point, StatsSnapshot } from "./collector.ts";

/** Prometheus label value escaping: backslash, double quote and newline. */
function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function num(v: number): string {
  return String(v);
}

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge";
  lines: string[];
}

/** Text exposition format 0.0.4 of the resource metrics, as upstream's /metrics/resource. */
export function renderResourceMetrics(s: StatsSnapshot, scrapeError = false): string {
  const fam = (name: string, help: string, type: Family["type"]): Family => ({ name, help: `[STABLE] ${help}`, type, lines: [] });
  const cCpu = fam("container_cpu_usage_seconds_total", "Cumulative cpu time consumed by the container in core-seconds", "counter");
  const cMem = fam("container_memory_working_set_bytes", "Current working set of the container in bytes", "gauge");
  const cStart = fam("container_start_time_seconds", "Start time of the container since unix epoch in seconds", "gauge");
  const nCpu = fam("node_cpu_usage_seconds_total", "Cumulative cpu time consumed by the node in core-seconds", "counter");
  const nMem = fam("node_memory_working_set_bytes", "Current working set of the node in bytes", "gauge");
  const pCpu = fam("pod_cpu_usage_seconds_total", "Cumulative cpu time consumed by the pod in core-seconds", "counter");
  const pMem = fam("pod_memory_working_set_bytes", "Current working set of the pod in bytes", "gauge");
  const err = fam("resource_scrape_error", "1 if there was an error while getting container metrics, 0 otherwise", "gauge");
  const add = (f: Family, labels: string, v: number, t: number) => f.lines.push(`${f.name}${labels} ${num(v)} ${t}`);
  const cpuSec = (p: Point) => p.usage.cpuNs / 1e9;
  if (s.node) {
    add(nCpu, "", cpuSec(s.node), s.node.time);
    add(nMem, "", s.node.usage.workingSetBytes, s.node.time);
  }
  // Upstream sorts series by their labels; namespace, then pod, then container keeps the same order.
  const pods = [...s.pods].sort((a, b) => (a.namespace + "\0" + a.name < b.namespace + "\0" + b.name ? -1 : 1));
  for (const p of pods) {
    const pl = `namespace="${esc(p.namespace)}",pod="${esc(p.name)}"`;
    for (const c of [...p.containers].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const l = `{container="${esc(c.name)}",${pl}}`;
      add(cCpu, l, cpuSec(c.point), c.point.time);
      add(cMem, l, c.point.usage.workingSetBytes, c.point.time);
      if (c.startTime) add(cStart, l, Date.parse(c.startTime) / 1000, c.point.time);
    }
    if (p.point) {
      add(pCpu, `{${pl}}`, cpuSec(p.point), p.point.time);
      add(pMem, `{${pl}}`, p.point.usage.workingSetBytes, p.point.time);
    }
  }
  err.lines.push(`${err.name} ${scrapeError ? 1 : 0}`);
  let out = "";
  for (const f of [cCpu, cMem, cStart, nCpu, nMem, pCpu, pMem, err]) {
    out += `# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`;
    for (const l of f.lines) out += l + "\n";
  }
  return out;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

function cpuStats(p: Point): Record<string, unknown> {
  return { time: iso(p.time), ...(p.nanoCores !== undefined ? { usageNanoCores: p.nanoCores } : {}), usageCoreNanoSeconds: p.usage.cpuNs };
}

function memStats(u: CpuMem, time: number, available?: number): Record<string, unknown> {
  return {
    time: iso(time),
    ...(available !== undefined ? { availableBytes: available } : {}),
    usageBytes: u.usageBytes,
    workingSetBytes: u.workingSetBytes,
    rssBytes: u.rssBytes,
    pageFaults: u.pageFaults,
    majorPageFaults: u.majorPageFaults,
  };
}

/** The Summary API (stats/v1alpha1) of the latest sample, with the cpu and memory sections. */
export function renderSummary(s: StatsSnapshot, nodeName: string, nodeStart: string): Record<string, unknown> {
  return {
    node: {
      nodeName,
      startTime: nodeStart,
      ...(s.node ? { cpu: cpuStats(s.node), memory: memStats(s.node.usage, s.node.time, s.node.usage.availableBytes) } : {}),
    },
    pods: s.pods.map((p) => ({
      podRef: { name: p.name, namespace: p.namespace, uid: p.uid },
      ...(p.startTime ? { startTime: p.startTime } : {}),
      containers: p.containers.map((c) => ({
        name: c.name,
        ...(c.startTime ? { startTime: c.startTime } : {}),
        cpu: cpuStats(c.point),
        memory: memStats(c.point.usage, c.point.time),
      })),
      ...(p.point ? { cpu: cpuStats(p.point), memory: memStats(p.point.usage, p.point.time) } : {}),
    })),
  };
}
