// Scale benchmark, kubemark-style: 1,000 hollow nodes (`kubun agent --simulate 1000`, a separate process, each node
// with its own join credentials) and 10,000 pods against a real `kubun server` process (SQLite, scheduler and
// controllers on, --disable-agent, data under <repo>/.tmp). Goals (issue 17): server RSS ≤ 1 GB, API p99 within
// upstream's SLOs (sig-scalability api_call_latency: mutating single-object calls ≤ 1 s, GET ≤ 1 s, namespace-scoped
// LIST ≤ 5 s, cluster-scoped LIST ≤ 30 s) — measured both by this load generator and by the server's own latency
// histogram, which also covers the hollow kubelets' calls — and node heartbeats never late: every node Lease renewal
// (every 10 s) and NodeStatus report (every 5 min) is watched, and the largest gap is compared with the interval.
// Phases: nodes join; 10,000 pods are created by 25 clients while 4 readers GET/LIST; all pods bound and Running; then
// a steady phase (a NodeStatus period, so every node reports at least once while watched) with the readers and a
// light patch load. `bun run bench:scale [--quick] [--nodes 1000] [--pods 10000] [--steady 330]`
import "../test/helpers/tmpdir.ts"; // first: temp dirs go under <repo>/.tmp
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { startServerProcess, cpuSeconds, rssMiB } from "../test/ha/server-process.ts";
import { bucketPercentile, histogramByClass, histogramOf, percentile } from "./lib/latency.ts";
import { readWatchEvents } from "./lib/watchstream.ts";
import { report, type Figure } from "./lib/report.ts";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const num = (name: string, def: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const NODES = num("nodes", quick ? 100 : 1000);
const PODS = num("pods", quick ? 1000 : 10_000);
const STEADY_S = num("steady", quick ? 30 : 330);
// --trace DIR: a per-second series (phase, the server's /livez time, Lease renewals late by the renewTime they
// carry, NodeStatus reports, the hollow process's connections to the server and how many are new, the netns's
// listen-queue overflows and SYN retransmits) and the hollow nodes' own late-renewal lines, to line causes up.
const traceIdx = argv.indexOf("--trace");
const TRACE_DIR = traceIdx >= 0 ? argv[traceIdx + 1]! : undefined;
const CREATORS = 25;
const READERS = 4;
const LEASE_INTERVAL_S = 10; // kubelet's node lease renewal
const STATUS_INTERVAL_S = 300; // kubelet's nodeStatusReportFrequency while nothing changes
const NS = "scale";
const repo = join(import.meta.dir, "..");
const progress = (msg: string) => process.stderr.write(`[bench:scale] ${msg}\n`);
const json = { "Content-Type": "application/json" };

const server = await startServerProcess({ env: { KUBUN_LOG_LEVEL: "warn" }, startTimeoutMs: 120_000 });
const agentDir = mkdtempSync(join(tmpdir(), "kubun-scale-agent-"));
writeFileSync(join(agentDir, "config.yaml"), "");
let agent: ReturnType<typeof Bun.spawn> | undefined;
const stopAll = new AbortController();
const cleanup = async () => {
  stopAll.abort();
  agent?.kill("SIGKILL");
  await agent?.exited;
  await server.cleanup();
  rmSync(agentDir, { recursive: true, force: true });
};
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => void cleanup().finally(() => process.exit(130)));
const api = server.api;

async function must(r: Response, want: number[] = [200, 201]): Promise<any> {
  const body = await r.text();
  if (!want.includes(r.status)) throw new Error(`HTTP ${r.status}: ${body.slice(0, 300)}`);
  return body ? JSON.parse(body) : undefined;
}

/** Streams a watch; calls onEvent for each event (with its arrival time) until the signal aborts. */
async function watch(path: string, onEvent: (type: string, obj: any, at: number) => void): Promise<void> {
  const r = await api(path, { signal: stopAll.signal });
  if (!r.ok) throw new Error(`watch ${path}: HTTP ${r.status}`);
  try {
    await readWatchEvents(r, (ev, at) => onEvent(ev.type, ev.object, at));
  } catch (e) {
    if (!stopAll.signal.aborted) throw e;
  }
}

/** Seconds a process's main thread has waited on a run queue (Linux schedstat). */
const schedWaitS = (pid: number) => Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]) / 1e9;
const figures: Figure[] = [];
let hollowLog = (_line: string) => {};
/** The trace's row for the current second. */
interface TraceRow { t: string; phase: string; livezMs: number; late: number; lateMaxS: number; statusReports: number; conns: number; newConns: number; listenOverflows: number; synRetrans: number }
const trace = new Map<number, TraceRow>();
const sec = (): TraceRow => {
  const k = Math.floor(Date.now() / 1000);
  let r = trace.get(k);
  if (!r) trace.set(k, (r = { t: new Date(k * 1000).toISOString().slice(11, 19), phase, livezMs: 0, late: 0, lateMaxS: 0, statusReports: 0, conns: 0, newConns: 0, listenOverflows: 0, synRetrans: 0 }));
  return r;
};
const hollowLines: string[] = [];
/** TcpExt counters of this network namespace (the server, the hollow nodes and this process share it). */
const tcpExt = (): Record<string, number> => {
  const lines = readFileSync("/proc/net/netstat", "utf8").split("\n").filter((l) => l.startsWith("TcpExt:"));
  const [names, values] = [lines[0]!.split(/\s+/), lines[1]!.split(/\s+/)];
  return Object.fromEntries(names.map((n, i) => [n, Number(values[i])]));
};
const tcp0 = tcpExt();
let phase = "join";
let peakRss = 0;
// The server's responsiveness, to tell a late renewal lost in the server (its event loop stopped, e.g. on the disk)
// from one lost in the hollow nodes: /livez (exempt from flow control) every 200 ms, the slowest answer and when.
const stall = { ms: 0, where: "" };
void (async () => {
  await Bun.sleep(0);
  while (!stopAll.signal.aborted) {
    const t = performance.now();
    try {
      await (await api("/livez", { signal: stopAll.signal })).text();
    } catch {
      // stopping
    }
    const ms = performance.now() - t;
    sec().livezMs = Math.max(sec().livezMs, Math.round(ms));
    if (ms > stall.ms && !stopAll.signal.aborted) Object.assign(stall, { ms, where: `${phase}, ${new Date().toISOString().slice(11, 19)}` });
    await Bun.sleep(200);
  }
})();
/** Seconds in which every task on the machine waited for the disk (PSI "full"), to tell a slow disk from a slow server. */
const ioFullS = () => {
  try {
    return Number(/full .*total=(\d+)/.exec(readFileSync("/proc/pressure/io", "utf8"))?.[1] ?? 0) / 1e6;
  } catch {
    return 0;
  }
};
const ioFull0 = ioFullS();
const rssTimer = setInterval(() => {
  try {
    peakRss = Math.max(peakRss, rssMiB(server.pid));
  } catch {
    // exited
  }
}, 500);

try {
  const metricsText0 = await (await api("/metrics")).text();
  const metrics0 = histogramByClass(metricsText0);
  const leasePuts0 = histogramOf(metricsText0, "PUT", "leases");
  await must(await api("/api/v1/namespaces", { method: "POST", headers: json, body: JSON.stringify({ metadata: { name: NS } }) }));

  // Heartbeats, watched from before the nodes exist. Lease: gaps between successive renewTimes (set by the node when
  // it renews) and between their arrivals here. NodeStatus: gaps between Ready heartbeats; NotReady transitions.
  const leaseLast = new Map<string, { renew: number; at: number }>();
  let leaseGapMax = 0;
  let leaseArrivalGapMax = 0;
  let leaseRenewals = 0;
  // Which phase the largest gap ended in, and how many renewals were late (> interval + 1 s): tells a slow first
  // renewal after joining from one lost under the create burst.
  let leaseGapWhere = "";
  let leaseLate = 0;
  const leaseGaps: number[] = [];
  const leaseRv = (await must(await api("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases?limit=1"))).metadata.resourceVersion;
  void watch(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases?watch=1&resourceVersion=${leaseRv}&allowWatchBookmarks=false`, (type, obj, at) => {
    if (type !== "ADDED" && type !== "MODIFIED") return;
    const renew = Date.parse(obj.spec?.renewTime ?? "");
    const prev = leaseLast.get(obj.metadata.name);
    if (prev && renew > prev.renew) {
      const gap = (renew - prev.renew) / 1000;
      leaseGaps.push(gap);
      if (gap > leaseGapMax) leaseGapWhere = `${obj.metadata.name}, ${phase}, ${new Date().toISOString().slice(11, 19)}`;
      leaseGapMax = Math.max(leaseGapMax, gap);
      if (gap > LEASE_INTERVAL_S + 1) {
        leaseLate++;
        sec().late++;
        sec().lateMaxS = Math.max(sec().lateMaxS, gap);
      }
      leaseArrivalGapMax = Math.max(leaseArrivalGapMax, (at - prev.at) / 1000);
      leaseRenewals++;
    }
    if (!prev || renew > prev.renew) leaseLast.set(obj.metadata.name, { renew, at });
  });
  // What the hollow nodes say about their own late renewals (where the time went) and their event loop's stalls.
  const lateTold = { count: 0, prevCallMs: 0, sleepMs: 0, timerLateMs: 0, beforeStampMs: 0, loopStallMs: 0, when: new Set<string>() };
  const loopStalls: { ms: number; heapMiB: number[]; at: string; phase: string }[] = [];
  hollowLog = (line: string) => {
    if (!line.startsWith("{")) return;
    let l: any;
    try {
      l = JSON.parse(line);
    } catch {
      return;
    }
    if (l.msg === "node lease renewed late") {
      lateTold.count++;
      for (const k of ["prevCallMs", "sleepMs", "timerLateMs", "beforeStampMs", "loopStallMs"] as const) lateTold[k] = Math.max(lateTold[k], l[k] ?? 0);
      lateTold.when.add(`${phase} ${String(l.ts).slice(11, 19)}`);
    } else if (l.msg === "hollow event loop stalled") loopStalls.push({ ms: l.ms, heapMiB: l.heapMiB, at: String(l.ts).slice(11, 19), phase });
  };
  const nodeBeat = new Map<string, number>();
  const nodeReady = new Set<string>();
  let statusGapMax = 0;
  let statusReports = 0;
  let notReadyTransitions = 0;
  const nodeRv = (await must(await api("/api/v1/nodes?limit=1"))).metadata.resourceVersion;
  void watch(`/api/v1/nodes?watch=1&resourceVersion=${nodeRv}&allowWatchBookmarks=false`, (type, obj) => {
    if (type === "DELETED") return;
    const name = obj.metadata.name as string;
    const ready = (obj.status?.conditions ?? []).find((c: any) => c.type === "Ready");
    if (!ready) return;
    if (ready.status === "True") nodeReady.add(name);
    else if (nodeReady.delete(name)) notReadyTransitions++;
    const beat = Date.parse(ready.lastHeartbeatTime ?? "");
    const prev = nodeBeat.get(name);
    if (prev !== undefined && beat > prev) {
      sec().statusReports++;
      statusGapMax = Math.max(statusGapMax, (beat - prev) / 1000);
      statusReports++;
    }
    if (prev === undefined || beat > prev) nodeBeat.set(name, beat);
  });

  // 1. The hollow nodes join, as a separate process.
  progress(`${NODES} hollow nodes joining`);
  const j0 = performance.now();
  agent = Bun.spawn(
    [process.execPath, join(repo, "cmd", "kubun.ts"), "agent", "--server", server.url, "--token", server.joinToken, "--data-dir", agentDir, "--simulate", String(NODES), "--node-name", "hollow"],
    { cwd: repo, stdout: "ignore", stderr: "pipe", env: { ...process.env, KUBUN_CONFIG_FILE: join(agentDir, "config.yaml"), KUBUN_LOG_LEVEL: "warn" } },
  );
  let agentErr = "";
  void (async () => {
    const dec = new TextDecoder();
    let partial = "";
    for await (const c of agent!.stderr as ReadableStream<Uint8Array>) {
      const text = dec.decode(c, { stream: true });
      agentErr = (agentErr + text).slice(-20_000);
      const lines = (partial + text).split("\n");
      partial = lines.pop()!;
      for (const l of lines) {
        hollowLog(l);
        if (TRACE_DIR && l.includes("late")) hollowLines.push(l);
      }
    }
  })();
  while (nodeReady.size < NODES) {
    if (agent.exitCode !== null) throw new Error(`hollow agent exited ${agent.exitCode}: ${agentErr.slice(-2000)}`);
    if (performance.now() - j0 > 900_000) throw new Error(`only ${nodeReady.size}/${NODES} nodes Ready after 15 min`);
    await Bun.sleep(250);
  }
  const joinS = (performance.now() - j0) / 1000;
  // The hollow process's connections to the server, once a second (ss), and how many are new since the last look.
  const serverPort = new URL(server.url).port;
  let lastPorts = new Set<string>();
  const connTimer = TRACE_DIR
    ? setInterval(() => {
        const out = Bun.spawnSync(["ss", "-tnpH", "state", "established", `( dport = :${serverPort} )`]).stdout.toString();
        const ports = new Set(out.split("\n").filter((l) => l.includes(`pid=${agent!.pid},`)).map((l) => l.trim().split(/\s+/)[2]!));
        const row = sec();
        const ext = tcpExt();
        row.conns = ports.size;
        row.newConns = [...ports].filter((p) => !lastPorts.has(p)).length;
        row.listenOverflows = (ext.ListenOverflows ?? 0) - (tcp0.ListenOverflows ?? 0);
        row.synRetrans = (ext.TCPSynRetrans ?? 0) - (tcp0.TCPSynRetrans ?? 0);
        lastPorts = ports;
      }, 1000)
    : undefined;
  const agentCpu0 = cpuSeconds(agent.pid);
  const agentWait0 = schedWaitS(agent.pid);
  const serverWait0 = schedWaitS(server.pid);
  progress(`${NODES} nodes Ready in ${joinS.toFixed(1)} s; server RSS ${rssMiB(server.pid).toFixed(0)} MiB`);
  for (let i = 0; !(await api(`/api/v1/namespaces/${NS}/serviceaccounts/default`)).ok; i++) {
    if (i > 300) throw new Error("default ServiceAccount never appeared");
    await Bun.sleep(100);
  }

  // Pods as the user sees them: bound, Running.
  const bound = new Set<string>();
  const running = new Set<string>();
  /** Pods deleted during the run: only the taint manager deletes here (NoExecute after NotReady), i.e. evictions. */
  const evicted = new Set<string>();
  const podRv = (await must(await api(`/api/v1/namespaces/${NS}/pods?limit=1`))).metadata.resourceVersion;
  void watch(`/api/v1/namespaces/${NS}/pods?watch=1&resourceVersion=${podRv}&allowWatchBookmarks=false`, (type, obj) => {
    if (type === "DELETED") return void evicted.add(obj.metadata.name);
    if (obj.spec?.nodeName) bound.add(obj.metadata.name);
    if (obj.status?.phase === "Running") running.add(obj.metadata.name);
  });

  // Readers through the whole run: GET a node, GET a pod, LIST a namespace's pods (limit 500), LIST nodes (limit 500).
  const lat = { mutating: [] as number[], get: [] as number[], listNs: [] as number[], listCluster: [] as number[] };
  let created = 0;
  let readersOn = true;
  const timedCall = async (into: number[], path: string, init?: RequestInit, want?: number[]) => {
    const t = performance.now();
    await must(await api(path, init), want);
    into.push(performance.now() - t);
  };
  const readers = Array.from({ length: READERS }, async (_, r) => {
    for (let k = r; readersOn; k++) {
      const n = Math.floor(Math.random() * NODES);
      if (k % 4 === 0) await timedCall(lat.get, `/api/v1/nodes/hollow-${n}`);
      else if (k % 4 === 1 && created > 0) await timedCall(lat.get, `/api/v1/namespaces/${NS}/pods/scale-${Math.floor(Math.random() * created)}`, undefined, [200, 404]);
      else if (k % 4 === 2) await timedCall(lat.listNs, `/api/v1/namespaces/${NS}/pods?limit=500`);
      else await timedCall(lat.listCluster, `/api/v1/nodes?limit=500`);
      await Bun.sleep(100);
    }
  });

  // 2. 10,000 pods from 25 clients.
  phase = "creates";
  progress(`creating ${PODS} pods (${CREATORS} clients, ${READERS} readers)`);
  const podBody = (name: string) =>
    JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, labels: { app: "scale", group: String(Number(name.split("-")[1]) % 100) } },
      spec: { containers: [{ name: "app", image: "registry.k8s.io/pause:3.10", resources: { requests: { cpu: "10m", memory: "16Mi" } } }] },
    });
  const c0 = performance.now();
  const cpu0 = cpuSeconds(server.pid);
  let next = 0;
  await Promise.all(
    Array.from({ length: CREATORS }, async () => {
      while (next < PODS) {
        const name = `scale-${next++}`;
        await timedCall(lat.mutating, `/api/v1/namespaces/${NS}/pods`, { method: "POST", headers: json, body: podBody(name) }, [201]);
        created++;
      }
    }),
  );
  const createS = (performance.now() - c0) / 1000;
  progress(`${PODS} pods created in ${createS.toFixed(1)} s; waiting for all Running`);
  phase = "pods starting";
  const settled = () => new Set([...running, ...evicted]).size;
  while (settled() < PODS) {
    if (performance.now() - c0 > 1_800_000) throw new Error(`only ${bound.size} bound, ${running.size} Running after 30 min`);
    await Bun.sleep(200);
  }
  const runningS = (performance.now() - c0) / 1000;
  const cpuPerPod = ((cpuSeconds(server.pid) - cpu0) * 1000) / PODS;
  progress(`all ${PODS - evicted.size} Running (${evicted.size} evicted) ${runningS.toFixed(1)} s after the first create; server RSS ${rssMiB(server.pid).toFixed(0)} MiB`);

  // 3. Steady phase: readers go on, plus a light patch load (10/s), while every node heartbeats.
  phase = "steady";
  progress(`steady phase, ${STEADY_S} s`);
  const s0 = performance.now();
  while (performance.now() - s0 < STEADY_S * 1000) {
    const i = Math.floor(Math.random() * PODS);
    await timedCall(lat.mutating, `/api/v1/namespaces/${NS}/pods/scale-${i}`, { method: "PATCH", headers: { "Content-Type": "application/merge-patch+json" }, body: JSON.stringify({ metadata: { annotations: { touched: String(Date.now()) } } }) }, [200, 404]);
    await Bun.sleep(100);
  }
  readersOn = false;
  await Promise.all(readers);
  // NodeStatus: a node whose last report is older than the interval at the end is late too.
  const now = Date.now();
  let statusAgeMax = 0;
  for (const beat of nodeBeat.values()) statusAgeMax = Math.max(statusAgeMax, (now - beat) / 1000);
  const metricsText1 = await (await api("/metrics")).text();
  const metrics1 = histogramByClass(metricsText1);
  // Where a late renewal lost its time: in the server (its histogram of Lease PUTs) or in the hollow nodes' process
  // (1,000 kubelets on one event loop: its CPU, and the time it waited for a CPU).
  const leasePuts1 = histogramOf(metricsText1, "PUT", "leases");
  const leaseP99 = bucketPercentile(leasePuts0, leasePuts1, 99).le;
  const leaseMax = bucketPercentile(leasePuts0, leasePuts1, 100).le;
  const agentCpu = cpuSeconds(agent!.pid) - agentCpu0;
  const agentWait = schedWaitS(agent!.pid) - agentWait0;
  // A /livez stall while the server's main thread waited for a CPU is the machine's load, not the server's work.
  const serverWait = schedWaitS(server.pid) - serverWait0;
  const runS = (performance.now() - j0) / 1000;
  const rssEnd = rssMiB(server.pid);
  const notReadyAtEnd = NODES - nodeReady.size;
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  peakRss = Math.max(peakRss, hwm, rssEnd);

  const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1)) + " ms";
  const inServer = (cls: string) => {
    const b = bucketPercentile(metrics0.get(cls), metrics1.get(cls), 99);
    return `in-server p99 ≤ ${b.le * 1000} ms of ${b.count.toLocaleString("en-US")} calls`;
  };
  const worstStall = loopStalls.reduce((a, b) => (b.ms > a.ms ? b : a), { ms: 0, heapMiB: [0, 0], at: "", phase: "" });
  const toldNote = `the hollow nodes logged ${lateTold.count} late renewals${lateTold.count ? ` (${[...lateTold.when].slice(0, 4).join(", ")}): at most ${lateTold.prevCallMs} ms in the previous PUT, ${lateTold.timerLateMs} ms of timer lateness, ${lateTold.beforeStampMs} ms before the stamp, their event loop stalled up to ${lateTold.loopStallMs} ms meanwhile` : ""}; event-loop stalls ≥ 0.5 s: ${loopStalls.length}${loopStalls.length ? `, the worst ${worstStall.ms} ms (${worstStall.phase}, ${worstStall.at}; JS heap ${worstStall.heapMiB[0]} → ${worstStall.heapMiB[1]} MiB)` : ""}`;
  const load = loadavg().map((x) => x.toFixed(2)).join(" ");
  const tag = `${NODES.toLocaleString("en-US")} nodes, ${PODS.toLocaleString("en-US")} pods`;
  figures.push(
    { id: "scale.rss", label: `server RSS, peak (${tag})`, value: peakRss, unit: "MiB", better: "lower", note: `${rssEnd.toFixed(0)} MiB at the end` },
    { id: "scale.mutating.p99", label: "mutating calls p99 (pod create/patch)", value: percentile(lat.mutating, 99), unit: "ms", better: "lower", note: `${lat.mutating.length} calls, p50 ${ms(percentile(lat.mutating, 50))}; ${inServer("mutating")} (incl. the nodes' Lease and status writes)` },
    { id: "scale.get.p99", label: "GET p99 (node, pod)", value: percentile(lat.get, 99), unit: "ms", better: "lower", note: `${lat.get.length} calls; ${inServer("get")}` },
    { id: "scale.list-ns.p99", label: "namespace LIST p99 (pods, limit 500)", value: percentile(lat.listNs, 99), unit: "ms", better: "lower", note: `${lat.listNs.length} calls` },
    { id: "scale.list-cluster.p99", label: "cluster LIST p99 (nodes, limit 500)", value: percentile(lat.listCluster, 99), unit: "ms", better: "lower", note: `${lat.listCluster.length} calls; LIST ${inServer("list")}` },
    { id: "scale.lease-gap", label: `largest node Lease renewal gap (interval ${LEASE_INTERVAL_S} s)`, value: leaseGapMax, unit: "s", better: "lower", note: `${leaseRenewals.toLocaleString("en-US")} renewals, ${leaseLate} later than ${LEASE_INTERVAL_S + 1} s, the largest (${leaseGapWhere}); p99 gap ${percentile(leaseGaps, 99).toFixed(2)} s; largest gap between arrivals at a watcher ${leaseArrivalGapMax.toFixed(2)} s; ${notReadyTransitions} NotReady transitions, ${notReadyAtEnd} nodes NotReady at the end, ${evicted.size} pods evicted; in the server a Lease PUT took p99 ≤ ${leaseP99 * 1000} ms, the slowest ≤ ${leaseMax * 1000} ms; the server's /livez answered in ${(stall.ms / 1000).toFixed(2)} s at the slowest (${stall.where}) and its main thread waited ${serverWait.toFixed(0)} s for a CPU; the machine's tasks all waited for the disk ${(ioFullS() - ioFull0).toFixed(1)} s in all; the hollow nodes' process used ${((100 * agentCpu) / runS).toFixed(0)} % of a core and waited ${agentWait.toFixed(0)} s for a CPU over ${runS.toFixed(0)} s; ${toldNote}` },
    { id: "scale.status-gap", label: `largest NodeStatus report gap (interval ${STATUS_INTERVAL_S} s)`, value: Math.max(statusGapMax, statusAgeMax), unit: "s", better: "lower", note: `${statusReports.toLocaleString("en-US")} reports watched; oldest report at the end ${statusAgeMax.toFixed(0)} s old` },
    { id: "scale.evicted", label: "pods evicted (NotReady nodes' NoExecute taints)", value: evicted.size, unit: "pods", better: "lower", note: `${notReadyTransitions} NotReady transitions during the run` },
    { id: "scale.running", label: `${PODS.toLocaleString("en-US")} pods created → all Running`, value: runningS, unit: "s", better: "lower", note: `created in ${createS.toFixed(1)} s (${(PODS / createS).toFixed(0)}/s); nodes joined in ${joinS.toFixed(1)} s; server CPU ${cpuPerPod.toFixed(2)} ms per pod (create + bind + status)` },
  );
  console.log(`kubun scale: ${tag} (hollow, separate process), ${cpus().length} CPUs, load ${load}${quick ? ", --quick" : ""}`);
  console.log("| figure | value | notes |\n|---|---:|---|");
  for (const f of figures) console.log(`| ${f.label} | ${f.value.toFixed(f.unit === "s" ? 2 : 0)} ${f.unit} | ${f.note ?? ""} |`);
  report("scale", figures);
  if (TRACE_DIR) {
    clearInterval(connTimer);
    mkdirSync(TRACE_DIR, { recursive: true });
    const rows = [...trace.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
    writeFileSync(join(TRACE_DIR, "series.tsv"), [Object.keys(rows[0]!).join("\t"), ...rows.map((r) => Object.values(r).join("\t"))].join("\n") + "\n");
    writeFileSync(join(TRACE_DIR, "hollow-late.jsonl"), hollowLines.join("\n") + "\n");
    progress(`trace written to ${TRACE_DIR}`);
  }
} finally {
  clearInterval(rssTimer);
  await cleanup();
}
process.exit(0);
