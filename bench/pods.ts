// Pod startup latency on one real node (containerd + CNI in a test-made network namespace), image present:
// created → Running as observed through a watch, for one pod (five times, one at a time), 10 pods at once and 30 at once
// (three times); plus the agent's RSS idle and with 30 pods. Upstream's SLO: p99 ≤ 5 s.  Run: bun run bench/pods.ts [--quick | --rows 1,30]
// Wall time on a shared machine is noisy, so each row also reports what a pod start costs whatever the load:
// the commands the agent spawned per pod (KUBUN_TRACE_RUN), and CPU per pod of the agent (with the commands
// it waited for), of containerd, and of this process (API server + watch).
import "../test/helpers/jitpolicy.ts"; // first of all: kubun's JIT options for the components this process runs
import "../test/helpers/tmpdir.ts"; // first: the helpers below make their temp dirs under <repo>/.tmp
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { refs } from "../internal/client/refs.ts";
import { REPO_TMP } from "../test/helpers/tmpdir.ts";
import { busyboxPod, shimProcesses, startEnv, waitFor } from "../test/kubelet/setup.ts";
import { percentile } from "./lib/latency.ts";
import { machineCpu, processCpuMs } from "./lib/machine.ts";
import { report, type Figure } from "./lib/report.ts";

const pct = percentile;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

/** The shims of this node's containers (and the runc they waited for): CPU ms and RSS MiB, summed. */
function shims(ns: string): { cpu: number; rss: number; count: number } {
  let cpu = 0;
  let rss = 0;
  let count = 0;
  for (const { pid } of shimProcesses(ns)) {
    try {
      cpu += processCpuMs(pid);
      rss += rssMiB(pid);
      count++;
    } catch {} // exited meanwhile
  }
  return { cpu, rss, count };
}
const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// The agent inherits this: one line per command it spawns.
const trace = process.env.KUBUN_TRACE_RUN ?? join(REPO_TMP, `bench-pods-trace-${process.pid}.log`);
const ownTrace = !process.env.KUBUN_TRACE_RUN;
process.env.KUBUN_TRACE_RUN = trace;
/** Commands (not "=" marks) that ended in [from, to] (epoch ms). */
function commandsBetween(from: number, to: number): number {
  if (!existsSync(trace)) return 0;
  let n = 0;
  for (const l of readFileSync(trace, "utf8").split("\n")) {
    const [t, , c] = l.split(" ");
    if (c && c !== "=" && Number(t) >= from && Number(t) <= to) n++;
  }
  return n;
}

const env = await startEnv(["bench-node"]);
const pods = env.client.resource(refs.pods, "default");
const node = env.nodes[0]!;
const results: Record<string, unknown>[] = [];
try {
  await Bun.sleep(5000);
  const idle = rssMiB(node.proc!.pid);
  // --rows 30 (or 1,30): only those rows, for back-to-back comparisons.
  const rowsArg = process.argv[process.argv.indexOf("--rows") + 1];
  const rows = process.argv.includes("--rows") && rowsArg ? rowsArg.split(",").map(Number) : process.argv.includes("--quick") ? [1, 10] : [1, 10, 30];
  for (const n of rows) {
    // One pod at a time is timed five times and 30 at once three times (each on a quiet node, the pods removed before
    // the next): one start is one sample of a noisy figure. The median is the figure; every sample is in the note.
    const repeats = n === 1 ? 5 : n === 30 ? 3 : 1;
    const lat: number[] = [];
    const lastRunning: number[] = [];
    let rss: Record<string, number> | undefined;
    const cpuSum = [0, 0, 0, 0];
    const machineSum = { total: 0, idle: 0 };
    let commands = 0;
    const deleted: number[] = [];
    let deleteCommands = 0;
    const deleteCpu = [0, 0];
    let load = "";
    let sh = shims(node.namespace);
    for (let rep = 0; rep < repeats; rep++) {
      const created = new Map<string, number>();
      const running = new Map<string, number>();
      const ac = new AbortController();
      const watching = (async () => {
        for await (const ev of pods.watch({ signal: ac.signal })) {
          const p: any = ev.object;
          if (p?.status?.phase === "Running" && !running.has(p.metadata.name)) running.set(p.metadata.name, performance.now());
        }
      })().catch(() => {});
      await Bun.sleep(200);
      load ||= readFileSync("/proc/loadavg", "utf8").split(" ")[0]!;
      const t0 = Date.now();
      const cpu0 = [processCpuMs(node.proc!.pid, "self"), processCpuMs(node.proc!.pid, "children"), processCpuMs(env.world.containerd.pid), selfCpuMs()];
      const machine0 = machineCpu();
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const name = `b${n}-${rep}-${i}`;
          created.set(name, performance.now());
          await pods.create(busyboxPod(name, node.name, "exec sleep 3600"));
        }),
      );
      await waitFor(`${n} pods Running`, () => running.size >= n, 300_000, 20);
      const cpu1 = [processCpuMs(node.proc!.pid, "self"), processCpuMs(node.proc!.pid, "children"), processCpuMs(env.world.containerd.pid), selfCpuMs()];
      const machine1 = machineCpu();
      commands += commandsBetween(t0, Date.now());
      sh = shims(node.namespace);
      for (let k = 0; k < 4; k++) cpuSum[k]! += cpu1[k]! - cpu0[k]!;
      machineSum.total += machine1.total - machine0.total;
      machineSum.idle += machine1.idle - machine0.idle;
      const these = [...created].map(([name, t]) => running.get(name)! - t);
      lat.push(...these);
      lastRunning.push(Math.max(...these));
      if (n === 30 && !rss) rss = { agent_rss_mib_with_30_pods: rssMiB(node.proc!.pid), shims_rss_mib_with_30_pods: sh.rss };
      ac.abort();
      await watching;
      // Deletion is timed too (not a goal): from the deletes until the node is clean.
      const d0 = Date.now();
      const dcpu0 = [processCpuMs(node.proc!.pid, "self"), processCpuMs(node.proc!.pid, "children")];
      await Promise.all([...created.keys()].map((name) => pods.delete(name, { gracePeriodSeconds: 0 }).catch(() => {})));
      // Each start is measured on a quiet node: the agent has finished tearing the previous pods down
      // (containers, snapshots, namespaces), so their clean-up does not compete with the next start. The pods'
      // network namespaces go last, so they are watched (cheaply) before containerd is asked once.
      await waitFor("pods' namespaces removed", () => !readdirSync("/var/run/netns").some((ns) => ns.startsWith(`${node.netns}-`)), 300_000, 20);
      await waitFor("node cleaned up", async () => !(await env.world.ctr(node.namespace, ["containers", "ls", "-q"])).trim(), 300_000, 200);
      const dcpu1 = [processCpuMs(node.proc!.pid, "self"), processCpuMs(node.proc!.pid, "children")];
      deleted.push(Date.now() - d0);
      deleteCommands += commandsBetween(d0, Date.now());
      deleteCpu[0]! += dcpu1[0]! - dcpu0[0]!;
      deleteCpu[1]! += dcpu1[1]! - dcpu0[1]!;
      await waitFor("pods deleted", async () => (await pods.list()).items.length === 0, 300_000, 500);
    }
    const started = n * repeats;
    results.push({
      pods: n,
      starts: started,
      p50_ms: Math.round(pct(lat, 50)),
      p99_ms: Math.round(pct(lat, 99)),
      max_ms: Math.round(Math.max(...lat)),
      all_ms: n === 1 && repeats > 1 ? lat.map(Math.round) : undefined,
      last_running_ms: lastRunning.map(Math.round),
      load_1m: Number(load),
      commands_per_pod: Math.round((commands / started) * 10) / 10,
      agent_cpu_ms_per_pod: Math.round(cpuSum[0]! / started),
      commands_cpu_ms_per_pod: Math.round(cpuSum[1]! / started),
      containerd_cpu_ms_per_pod: Math.round(cpuSum[2]! / started),
      server_cpu_ms_per_pod: Math.round(cpuSum[3]! / started),
      shim_cpu_ms_per_pod: Math.round(sh.cpu / Math.max(1, sh.count)),
      machine_idle_pct: Math.round((100 * machineSum.idle) / Math.max(1, machineSum.total)),
      deleted_clean_ms: deleted,
      delete_commands_per_pod: Math.round((deleteCommands / started) * 10) / 10,
      delete_agent_cpu_ms_per_pod: Math.round(deleteCpu[0]! / started),
      delete_commands_cpu_ms_per_pod: Math.round(deleteCpu[1]! / started),
      ...rss,
    });
  }
  console.log(JSON.stringify({ agent_rss_mib_idle: idle, results }, null, 2));
  const figures: Figure[] = results.map((r: any) => ({
    id: r.pods === 1 ? "pods.1.p50" : `pods.${r.pods}.max`,
    label: r.pods === 1 ? `one pod: created → Running (median of ${r.starts}, one at a time)` : `${r.pods} pods at once: last one Running${r.last_running_ms.length > 1 ? ` (median of ${r.last_running_ms.length})` : ""}`,
    value: r.pods === 1 ? r.p50_ms : Math.round(percentile(r.last_running_ms, 50)),
    unit: "ms",
    better: "lower",
    note: `${r.all_ms ? `each: ${r.all_ms.join(", ")} ms` : r.last_running_ms.length > 1 ? `median of ${r.last_running_ms.length} (${r.last_running_ms.join(", ")} ms); all pods p50 ${r.p50_ms} ms` : `p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms`}; per pod: ${r.commands_per_pod} commands, CPU agent ${r.agent_cpu_ms_per_pod} ms + its commands ${r.commands_cpu_ms_per_pod} ms, containerd ${r.containerd_cpu_ms_per_pod} ms, shim+runc ${r.shim_cpu_ms_per_pod} ms, API ${r.server_cpu_ms_per_pod} ms; machine idle ${r.machine_idle_pct} %; load ${r.load_1m}`,
  }));
  for (const r of results as any[])
    if (r.pods > 1)
      figures.push({
        id: `pods.${r.pods}.deleted`,
        label: `${r.pods} pods deleted at once: node clean (containers, snapshots, namespaces)${r.deleted_clean_ms.length > 1 ? ` (median of ${r.deleted_clean_ms.length})` : ""}`,
        value: Math.round(percentile(r.deleted_clean_ms, 50)),
        unit: "ms",
        better: "lower",
        note: `${r.deleted_clean_ms.length > 1 ? `each: ${r.deleted_clean_ms.join(", ")} ms; ` : ""}per pod: ${r.delete_commands_per_pod} commands, CPU agent ${r.delete_agent_cpu_ms_per_pod} ms + its commands ${r.delete_commands_cpu_ms_per_pod} ms`,
      });
  figures.push({ id: "pods.agent-rss", label: "agent RSS, idle", value: idle, unit: "MiB", better: "lower" });
  report("pods", figures);
  console.table(results);
} finally {
  // A stopped (not killed) agent writes its profile when run with KUBUN_AGENT_BUN_FLAGS=--cpu-prof.
  if (process.env.KUBUN_AGENT_BUN_FLAGS) await node.stop();
  await env.cleanup();
  if (ownTrace) rmSync(trace, { force: true });
}
process.exit(0);
