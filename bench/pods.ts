// Pod startup latency on one real node (containerd + CNI in a test-made network namespace), image present:
// created → Running as observed through a watch, for 1, 10 and 30 pods created at once; plus the agent's RSS
// idle and with 30 pods. Upstream's SLO: p99 ≤ 5 s.  Run: bun run bench/pods.ts
import "../test/helpers/tmpdir.ts"; // first: the helpers below make their temp dirs under <repo>/.tmp
import { readFileSync } from "node:fs";
import { refs } from "../internal/client/refs.ts";
import { busyboxPod, startEnv, waitFor } from "../test/kubelet/setup.ts";
import { report, type Figure } from "./lib/report.ts";

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

const env = await startEnv(["bench-node"]);
const pods = env.client.resource(refs.pods, "default");
const node = env.nodes[0]!;
const results: Record<string, unknown>[] = [];
try {
  await Bun.sleep(5000);
  const idle = rssMiB(node.proc!.pid);
  for (const n of process.argv.includes("--quick") ? [1, 10] : [1, 10, 30]) {
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
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const name = `b${n}-${i}`;
        created.set(name, performance.now());
        await pods.create(busyboxPod(name, node.name, "exec sleep 3600"));
      }),
    );
    await waitFor(`${n} pods Running`, () => running.size >= n, 300_000, 100);
    const lat = [...created].map(([name, t]) => running.get(name)! - t);
    const row: Record<string, unknown> = { pods: n, p50_ms: Math.round(pct(lat, 50)), p99_ms: Math.round(pct(lat, 99)), max_ms: Math.round(Math.max(...lat)) };
    if (n === 30) row.agent_rss_mib_with_30_pods = rssMiB(node.proc!.pid);
    results.push(row);
    ac.abort();
    await watching;
    await Promise.all([...created.keys()].map((name) => pods.delete(name, { gracePeriodSeconds: 0 }).catch(() => {})));
    await waitFor("pods deleted", async () => (await pods.list()).items.length === 0, 300_000, 500);
  }
  console.log(JSON.stringify({ agent_rss_mib_idle: idle, results }, null, 2));
  const figures: Figure[] = results.map((r: any) => ({
    id: r.pods === 1 ? "pods.1.p99" : `pods.${r.pods}.max`,
    label: r.pods === 1 ? "one pod: created → Running" : `${r.pods} pods at once: last one Running`,
    value: r.pods === 1 ? r.p99_ms : r.max_ms,
    unit: "ms",
    better: "lower",
    note: `p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms`,
  }));
  figures.push({ id: "pods.agent-rss", label: "agent RSS, idle", value: idle, unit: "MiB", better: "lower" });
  report("pods", figures);
  console.table(results);
} finally {
  await env.cleanup();
}
process.exit(0);
