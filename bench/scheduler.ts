// Scheduler benchmark: pods scheduled per second and time until 1,000 and 5,000 pods are bound on 100 and 1,000
// hollow nodes (all pods pending before the scheduler starts, timed from its start), against an in-process control plane; plus the time for a 1,000-replica Deployment to be fully
// Available (with the controller manager). `bun run bench:scheduler [--quick] [--plan 1000:5000]`.
// Prints a Markdown table; control-plane data dirs live under <repo>/.tmp and are removed afterwards.
// The hollow nodes run in their own process, as kubemark's do (`--in-process-hollow` keeps them in this one); the
// control plane and the scheduler share this process, as in `kubun server`.

import "../test/helpers/jitpolicy.ts"; // first of all: kubun's JIT options for the components this process runs
import { tempDir } from "../test/helpers/tmpdir.ts";
import { readFileSync, rmSync } from "node:fs";
import type { Pod } from "kubernetes-types/core/v1";
import { ApiError, createClient, Informer, refs, type Client } from "../internal/client/index.ts";
import { runHollowNodes } from "../internal/hollow/index.ts";
import { spawnHollowNodes } from "../internal/hollow/subprocess.ts";
import { setLevel } from "../internal/log/log.ts";
import { processCpuMs } from "./lib/machine.ts";
import { report } from "./lib/report.ts";
import { startScheduler, type Scheduler } from "../internal/scheduler/index.ts";
import { startControlPlane } from "../internal/server/controlplane.ts";

setLevel((process.env.KUBUN_LOG_LEVEL as any) ?? "warn");
const quick = process.argv.includes("--quick");
const inProcessHollow = process.argv.includes("--in-process-hollow");

/** Hollow nodes in a child process (default) or in this one; resolves `ready`, `stop()` ends them. */
function startHollow(cfg: Parameters<typeof runHollowNodes>[0], count: number, signal: AbortSignal): { ready: Promise<void>; stop(): Promise<unknown>; pid?: number } {
  if (inProcessHollow) {
    const h = runHollowNodes(cfg, { count, prefix: "bench", signal, pods: 110 });
    return { ready: h.ready, stop: () => Promise.allSettled([h]) };
  }
  return spawnHollowNodes(cfg, { count, prefix: "bench", pods: 110 }, process.env.KUBUN_LOG_LEVEL ?? "warn");
}

interface Row {
  scenario: string;
  nodes: number;
  pods: number;
  createSeconds: number;
  bindSeconds: number;
  podsPerSecond: number;
  note?: string;
}

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

async function ensureServiceAccount(c: Client): Promise<void> {
  try {
    await c.resource(refs.serviceaccounts, "default").create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } });
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 409)) throw e;
  }
}

/** Creates survive a dropped connection: retried, and AlreadyExists means an earlier try got through. */
async function createRetrying(api: { create(p: Pod): Promise<Pod> }, p: Pod): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await api.create(p);
      return;
    } catch (e) {
      if (e instanceof ApiError && e.code === 409) return;
      if (attempt >= 10) throw e;
      await Bun.sleep(200 * (attempt + 1));
    }
  }
}

function benchPod(i: number): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `bench-${i}`, namespace: "default", labels: { app: "bench" } },
    spec: {
      automountServiceAccountToken: false,
      containers: [{ name: "c", image: "registry.k8s.io/pause:3.10", resources: { requests: { cpu: "10m", memory: "16Mi" } } }],
    },
  };
}

/** Starts a fresh control plane with hollow nodes and a scheduler, creates the pods, waits until all are bound. */
async function scenario(nodes: number, pods: number): Promise<Row> {
  const dir = tempDir("kubun-bench-sched-");
  const cp = await startControlPlane({ dataDir: dir, port: 0, bindAddress: "127.0.0.1", advertiseAddress: "127.0.0.1" });
  const ac = new AbortController();
  const client = createClient(cp.clientConfig);
  try {
    await ensureServiceAccount(client);
    const t0 = performance.now();
    const hollow = startHollow(cp.clientConfig, nodes, ac.signal);
    await hollow.ready;
    const nodeSeconds = (performance.now() - t0) / 1000;

    // Count bound pods from a watch, as a user would see them.
    const inf = new Informer<Pod>(client.resource(refs.pods, "default"));
    let bound = 0;
    let firstBound = 0;
    let lastBound = 0;
    const seen = new Set<string>();
    const runningSeen = new Set<string>();
    let lastRunning = 0;
    const mark = (p: Pod) => {
      if (p.status?.phase === "Running" && !runningSeen.has(p.metadata!.name!)) {
        runningSeen.add(p.metadata!.name!);
        lastRunning = performance.now();
      }
      if (p.spec?.nodeName && !seen.has(p.metadata!.name!)) {
        seen.add(p.metadata!.name!);
        bound++;
        lastBound = performance.now();
        if (!firstBound) firstBound = lastBound;
      }
    };
    inf.addEventHandler({ onAdd: mark, onUpdate: (_o, p) => mark(p) });
    void inf.run(ac.signal);
    await inf.synced;

    // As scheduler_perf and issue 17 time it: every pod is pending first, then the scheduler starts (the nodes become
    // eligible) and the clock runs until the last pod is bound — binding, Scheduled event and hollow status included.
    const podsApi = client.resource<Pod>(refs.pods, "default");
    const c0 = performance.now();
    await pool(pods, 64, (i) => createRetrying(podsApi, benchPod(i)));
    const createSeconds = (performance.now() - c0) / 1000;
    const s0 = performance.now();
    const cpu0 = process.cpuUsage();
    const hollowCpu0 = processCpuMs(hollow.pid, "self");
    let sched: Scheduler | undefined;
    const s = startScheduler(cp.componentConfig("scheduler"), { identity: "bench", signal: ac.signal, leaderElection: false, onLeading: (x) => (sched = x) });
    const deadline = Date.now() + 30 * 60_000;
    while (bound < pods && Date.now() < deadline) await Bun.sleep(20);
    const bindSeconds = (lastBound - s0) / 1000;
    // The hollow kubelets' status writes trail the bindings: wait for every pod Running too (reported in the note).
    while (runningSeen.size < pods && Date.now() < deadline) await Bun.sleep(20);
    const runningSeconds = (lastRunning - s0) / 1000;
    // The Scheduled events trail the bindings too (written off the scheduling path): wait for every one of them.
    let scheduledEvents = 0;
    let progressAt = Date.now();
    // (A recorder that dropped events never gets there: stop once nothing new arrived for 10 s.)
    while (Date.now() < deadline && Date.now() - progressAt < 10_000) {
      const evs = await client.resource<{ reason?: string }>(refs.events, "default").list();
      const n = evs.items.filter((e) => e.reason === "Scheduled").length;
      if (n > scheduledEvents) progressAt = Date.now();
      scheduledEvents = n;
      if (scheduledEvents >= pods) break;
      await Bun.sleep(250);
    }
    const eventsSeconds = (performance.now() - s0) / 1000;
    // CPU of this process (API server, scheduler, the benchmark's watch) until every pod is bound and Running and
    // every Scheduled event written: all the work the pods caused, whatever order it happened in.
    const cpu = process.cpuUsage(cpu0);
    const cpuMsPerPod = (cpu.user + cpu.system) / 1000 / pods;
    const hollowCpuMsPerPod = (processCpuMs(hollow.pid, "self") - hollowCpu0) / pods;
    const row: Row = {
      scenario: `${pods} pods / ${nodes} nodes`,
      nodes,
      pods,
      createSeconds,
      bindSeconds,
      podsPerSecond: pods / bindSeconds,
      note: `control plane + scheduler CPU ${cpuMsPerPod.toFixed(2)} ms/pod until all Running and all events written${hollow.pid ? ` (hollow nodes' process ${hollowCpuMsPerPod.toFixed(2)})` : ""}; first bound after ${((firstBound - s0) / 1000).toFixed(2)} s; all Running after ${runningSeconds.toFixed(2)} s; ${scheduledEvents} Scheduled events by ${eventsSeconds.toFixed(1)} s; nodes ready in ${nodeSeconds.toFixed(1)} s; scheduler: ${sched?.stats.scheduled ?? "?"} bound, ${sched?.stats.failedAttempts ?? "?"} failed attempts`,
    };
    ac.abort();
    await Promise.allSettled([hollow.stop(), s]);
    return row;
  } finally {
    ac.abort();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A 1,000-replica Deployment on hollow nodes, with scheduler and controller manager: time until Available. */
async function deploymentScenario(nodes: number, replicas: number): Promise<Row> {
  const { startControllerManager } = await import("../internal/controllers/index.ts");
  const dir = tempDir("kubun-bench-deploy-");
  const cp = await startControlPlane({ dataDir: dir, port: 0, bindAddress: "127.0.0.1", advertiseAddress: "127.0.0.1" });
  const ac = new AbortController();
  const client = createClient(cp.clientConfig);
  try {
    await ensureServiceAccount(client);
    const hollow = startHollow(cp.clientConfig, nodes, ac.signal);
    await hollow.ready;
    const s = startScheduler(cp.componentConfig("scheduler"), { identity: "bench", signal: ac.signal, leaderElection: false });
    const cm = startControllerManager(cp.componentConfig("controller-manager"), {
      identity: "bench",
      serviceCIDR: "10.43.0.0/16",
      clusterCIDR: "10.42.0.0/16",
      signal: ac.signal,
      leaderElection: false,
    } as any);
    const c0 = performance.now();
    await client.resource(refs.deployments, "default").create({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "big" },
      spec: {
        replicas,
        selector: { matchLabels: { app: "big" } },
        template: {
          metadata: { labels: { app: "big" } },
          spec: { automountServiceAccountToken: false, containers: [{ name: "c", image: "registry.k8s.io/pause:3.10", resources: { requests: { cpu: "10m", memory: "16Mi" } } }] },
        },
      },
    });
    const deadline = Date.now() + 30 * 60_000;
    let available = 0;
    while (Date.now() < deadline) {
      const d: any = await client.resource(refs.deployments, "default").get("big");
      available = d.status?.availableReplicas ?? 0;
      if (available >= replicas) break;
      await Bun.sleep(200);
    }
    const secs = (performance.now() - c0) / 1000;
    ac.abort();
    await Promise.allSettled([hollow.stop(), s, cm]);
    return {
      scenario: `Deployment ${replicas} replicas Available / ${nodes} nodes`,
      nodes,
      pods: replicas,
      createSeconds: 0,
      bindSeconds: secs,
      podsPerSecond: available / secs,
      note: available >= replicas ? undefined : `only ${available} available at timeout`,
    };
  } finally {
    ac.abort();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// --plan nodes:pods,nodes:pods overrides the scenarios (e.g. --plan 1000:5000).
const planArg = process.argv.indexOf("--plan");
const plan: [number, number][] = planArg > 0
  ? process.argv[planArg + 1]!.split(",").map((x) => x.split(":").map(Number) as [number, number])
  : quick
  ? [[100, 1000]]
  : [
      [100, 1000],
      [100, 5000],
      [1000, 1000],
      [1000, 5000],
    ];
const rows: Row[] = [];
for (const [n, p] of plan) {
  process.stderr.write(`scenario: ${p} pods on ${n} hollow nodes...\n`);
  rows.push(await scenario(n, p));
}
if (!quick && planArg < 0) {
  process.stderr.write("scenario: Deployment of 1000 replicas on 100 hollow nodes...\n");
  try {
    rows.push(await deploymentScenario(100, 1000));
  } catch (e) {
    process.stderr.write(`deployment scenario failed: ${(e as Error).message}\n`);
  }
}

const header = "| scenario | create pods (s) | all bound/available (s) | pods/s | notes |\n|---|---:|---:|---:|---|";
const lines = rows.map(
  (r) => `| ${r.scenario} | ${r.createSeconds ? r.createSeconds.toFixed(2) : "–"} | ${r.bindSeconds.toFixed(2)} | ${r.podsPerSecond.toFixed(0)} | ${r.note ?? ""} |`,
);
const table = [header, ...lines].join("\n");
console.log(table);
report(
  "scheduler",
  rows.map((r) => ({
    id: r.scenario.startsWith("Deployment") ? `scheduler.deployment.${r.nodes}.${r.pods}` : `scheduler.${r.nodes}.${r.pods}`,
    label: r.scenario.startsWith("Deployment") ? `${r.scenario} (from create)` : `${r.scenario}: bound/s, from scheduler start`,
    value: r.podsPerSecond,
    unit: "pods/s",
    better: "higher" as const,
    note: `${r.bindSeconds.toFixed(2)} s${r.createSeconds ? `, created in ${r.createSeconds.toFixed(2)} s before` : ""}; ${r.note ?? ""}`,
  })),
);
process.exit(0);
