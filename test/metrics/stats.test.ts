// The kubelet's cgroup readers on fake cgroup v1 and v2 trees and a fake /proc (working set = usage minus
// inactive file pages, CPU rates from two samples), the Prometheus text and Summary renderers, and the API
// server's parser of that text (label escaping, timestamps).
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/tmpdir.ts";
import { detectCgroups, readCgroup, readNode } from "../../internal/kubelet/stats/cgroups.ts";
import { StatsCollector } from "../../internal/kubelet/stats/collector.ts";
import { renderResourceMetrics, renderSummary } from "../../internal/kubelet/stats/render.ts";
import { parseResourceMetrics } from "../../internal/apiserver/metricsapi/promtext.ts";
import { cpuQuantity, goDuration, memoryQuantity } from "../../internal/apiserver/metricsapi/format.ts";

const dir = tempDir("kubun-stats-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function put(path: string, text: string) {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
}

test("cgroup v2: cpu.stat usage_usec, memory.current minus inactive_file", () => {
  const base = join(dir, "v2");
  put(join(base, "cgroup.controllers"), "cpu memory\n");
  const cg = join(base, "kubun/podU/c1");
  put(join(cg, "cpu.stat"), "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n");
  put(join(cg, "memory.current"), "10485760\n");
  put(join(cg, "memory.stat"), "anon 4194304\nfile 6291456\ninactive_file 2097152\nactive_file 1\npgfault 42\npgmajfault 3\n");
  const layout = detectCgroups(base);
  expect(layout.version).toBe(2);
  expect(readCgroup(layout, "/kubun/podU/c1")).toEqual({ cpuNs: 2_500_000_000, usageBytes: 10485760, workingSetBytes: 8388608, rssBytes: 4194304, pageFaults: 42, majorPageFaults: 3 });
  expect(readCgroup(layout, "/kubun/podU/gone")).toBeUndefined();
});

test("cgroup v1: cpuacct.usage, memory.usage_in_bytes minus total_inactive_file", () => {
  const base = join(dir, "v1");
  put(join(base, "cpuacct/cpuacct.usage"), "1\n");
  put(join(base, "cpuacct/kubun/podU/c1/cpuacct.usage"), "123456789\n");
  put(join(base, "memory/kubun/podU/c1/memory.usage_in_bytes"), "5000000\n");
  put(join(base, "memory/kubun/podU/c1/memory.stat"), "cache 1\nrss 2\ntotal_rss 3000000\ntotal_inactive_file 1000000\ntotal_pgfault 7\ntotal_pgmajfault 1\n");
  const layout = detectCgroups(base);
  expect(layout.version).toBe(1);
  expect(readCgroup(layout, "/kubun/podU/c1")).toEqual({ cpuNs: 123456789, usageBytes: 5000000, workingSetBytes: 4000000, rssBytes: 3000000, pageFaults: 7, majorPageFaults: 1 });
});

test("node usage from /proc/stat and /proc/meminfo", () => {
  const proc = join(dir, "proc");
  put(join(proc, "stat"), "cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 1 1 1 1 1 1 1 1 0 0\n");
  put(join(proc, "meminfo"), "MemTotal:       1000 kB\nMemFree:         200 kB\nMemAvailable:    500 kB\nInactive(file):  100 kB\nAnonPages:       300 kB\n");
  put(join(proc, "vmstat"), "pgfault 9\npgmajfault 2\n");
  const n = readNode(proc);
  expect(n.cpuNs).toBe((100 + 5 + 50 + 3 + 2 + 1) * 10_000_000);
  expect(n).toMatchObject({ usageBytes: 800 * 1024, workingSetBytes: 700 * 1024, availableBytes: 500 * 1024, rssBytes: 300 * 1024, pageFaults: 9, majorPageFaults: 2 });
});

test("collector rates, Prometheus text and Summary; the API server's parser reads the text back", async () => {
  const base = join(dir, "v2");
  const cg = join(base, "kubun/podU/c1");
  const pod = join(base, "kubun/podU");
  put(join(pod, "cpu.stat"), "usage_usec 3000000\n");
  put(join(pod, "memory.current"), "20000000\n");
  const c = new StatsCollector({
    pods: () => [{ uid: "U", name: 'we"b', namespace: "default", startTime: "2026-01-01T00:00:00Z", containers: [{ name: "c1", id: "c1", startedAt: "2026-01-01T00:00:01Z" }] }],
    cgroupRoot: "/kubun",
    layout: detectCgroups(base),
    proc: join(dir, "proc"),
  });
  c.sample();
  expect(c.latest().pods[0]!.containers[0]!.point.nanoCores).toBeUndefined();
  await Bun.sleep(50);
  put(join(cg, "cpu.stat"), "usage_usec 2550000\n"); // +50 ms of CPU
  const s = c.sample();
  const p = s.pods[0]!.containers[0]!.point;
  expect(p.nanoCores).toBeGreaterThan(0);
  expect(p.nanoCores).toBeLessThanOrEqual(1_000_000_000 * 1.1);
  const text = renderResourceMetrics(s);
  expect(text).toContain('container_cpu_usage_seconds_total{container="c1",namespace="default",pod="we\\"b"} 2.55 ');
  expect(text).toContain('container_start_time_seconds{container="c1",namespace="default",pod="we\\"b"} 1767225601 ');
  expect(text).toContain('pod_memory_working_set_bytes{namespace="default",pod="we\\"b"} 20000000 ');
  const parsed = parseResourceMetrics(text);
  const cpu = parsed.find((x) => x.name === "container_cpu_usage_seconds_total")!;
  expect(cpu.labels).toEqual({ container: "c1", namespace: "default", pod: 'we"b' });
  expect(cpu.value).toBe(2.55);
  expect(cpu.timestamp).toBe(p.time);
  expect(parsed.find((x) => x.name === "node_memory_working_set_bytes")!.value).toBe(700 * 1024);
  const sum: any = renderSummary(s, "n1", "2026-01-01T00:00:00Z");
  expect(sum.node.nodeName).toBe("n1");
  expect(sum.pods[0].podRef).toEqual({ name: 'we"b', namespace: "default", uid: "U" });
  expect(sum.pods[0].containers[0].cpu.usageCoreNanoSeconds).toBe(2_550_000_000);
  expect(sum.pods[0].memory.workingSetBytes).toBe(20000000);
});

test("metrics-server's quantity and duration texts", () => {
  expect(cpuQuantity(0)).toBe("0");
  expect(cpuQuantity(1_000_000)).toBe("1m");
  expect(cpuQuantity(2_000_000_000)).toBe("2");
  expect(cpuQuantity(123_456_789)).toBe("123456789n");
  expect(cpuQuantity(5_000)).toBe("5u");
  expect(memoryQuantity(1024 * 1024 * 3)).toBe("3Mi");
  expect(memoryQuantity(1000)).toBe("1000");
  expect(goDuration(15_002)).toBe("15.002s");
  expect(goDuration(60_500)).toBe("1m0.5s");
  expect(goDuration(250)).toBe("250ms");
});
