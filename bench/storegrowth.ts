// Store growth benchmark: a simulated month of a small cluster's lease and event churn against the SQLite store, as
// the server opens it (openSqliteStore with the server's defaults: WAL, 1 KiB pages, Leases volatile, compaction
// keeping 5 min / 1,000 revisions, Events with the API server's 1 h TTL). Goals (issue 17): the database (file + WAL
// + shm) stays ≤ 50 MB, and no write stalls > 100 ms.
// `bun run bench:storegrowth [--quick] [--days 30] [--nodes 10] [--events-per-second 0.5] [--step 20]`
//
// How the month is simulated: the store takes its time from Date.now() — event expiry (TTL) and the compactor's
// "5 minutes ago" both do — so this process replaces Date.now() with a simulated clock and advances it `--step`
// simulated seconds at a time. Each step issues every write that falls due in those seconds — node Lease renewals
// (every 10 s per node), leader-election Lease renewals (3 controllers, every 2 s), NodeStatus updates (every 5 min
// per node), Event creates and Event count updates (aggregated repeats, a third of the event writes) — all at once,
// as concurrent clients would, so the same number of writes as a real month reaches the store, only faster. The
// timers that would fire in those seconds are run as the server runs them, concurrently with the next step's writes:
// the TTL sweep (store.expireNow(), what the expiry timer does) every step and a compaction pass
// (store.compactNow(), the compactor's 60 s tick) every simulated minute. Every write's latency is measured on the
// real clock (a write's latency includes the group commit it shares with the writes of its step).
import "../test/helpers/jitpolicy.ts"; // first of all: kubun's JIT options for the components this process runs
import "../test/helpers/tmpdir.ts"; // first: temp dirs go under <repo>/.tmp
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "../internal/store/sqlite/index.ts";
import { percentile, Samples } from "./lib/latency.ts";
import { report } from "./lib/report.ts";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const num = (name: string, def: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const DAYS = num("days", quick ? 2 : 30);
const NODES = num("nodes", 10);
const CONTROLLERS = 3; // kube-controller-manager, kube-scheduler, kubun's own leader-elected loops
const EVENTS_PER_S = num("events-per-second", 0.5);
const STEP_S = num("step", 20);
const EVENT_TTL_S = 3600;
const progress = (msg: string) => process.stderr.write(`[bench:storegrowth] ${msg}\n`);

// The simulated clock (see the header).
const realNow = Date.now.bind(Date);
const SIM_START = Date.UTC(2026, 0, 1);
let simNow = SIM_START;
Date.now = () => simNow;

const dir = mkdtempSync(join(tmpdir(), "kubun-storegrowth-"));
const path = join(dir, "state.db");
const store = openSqliteStore(path);
const inspect = new Database(path, { readonly: true });

function diskBytes(): number {
  let n = 0;
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) n += statSync(f).size;
  return n;
}
function pages(): { pages: number; free: number } {
  const pages = inspect.query<{ page_count: number }, []>("PRAGMA page_count").get()!.page_count;
  const free = inspect.query<{ freelist_count: number }, []>("PRAGMA freelist_count").get()!.freelist_count;
  return { pages, free };
}

// Objects of realistic size (what the API server stores: JSON with managedFields).
const pad = (n: number) => "x".repeat(n);
const leaseValue = (name: string, ns: string) =>
  JSON.stringify({ kind: "Lease", apiVersion: "coordination.k8s.io/v1", metadata: { name, namespace: ns, uid: crypto.randomUUID(), managedFields: [{ manager: "kubelet", operation: "Update", fieldsV1: { "f:spec": { "f:holderIdentity": {}, "f:renewTime": {} } } }] }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date(simNow).toISOString() } });
const nodeValue = (name: string) => JSON.stringify({ kind: "Node", apiVersion: "v1", metadata: { name, labels: { "kubernetes.io/hostname": name } }, status: { conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: new Date(simNow).toISOString() }], images: pad(2500), nodeInfo: pad(600) } });
const eventValue = (name: string, count: number) => JSON.stringify({ kind: "Event", apiVersion: "v1", metadata: { name, namespace: "default", uid: crypto.randomUUID() }, involvedObject: { kind: "Pod", name: name.split(".")[0], namespace: "default", uid: crypto.randomUUID() }, reason: "BackOff", message: `Back-off restarting failed container app in pod ${name.split(".")[0]} ${pad(120)}`, source: { component: "kubelet", host: "node-1" }, count, firstTimestamp: new Date(simNow).toISOString(), lastTimestamp: new Date(simNow).toISOString(), type: "Warning" });

const latencies = new Samples();
/** The slowest write of the current step, and the worst of (slowest write − time this process waited for a CPU). */
let stepMax = 0;
let worstNet = 0;
let stepsNetOver100 = 0;
/** ms this process's main thread has waited on a run queue (Linux schedstat): the machine's load, not the store. */
const cpuWaitMs = () => Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[1]) / 1e6;
let compactionOn = false;
let sweepOn = false;
const stallsWith = { compaction: 0, sweep: 0, neither: 0 };
/** Runs a background pass with its flag set. */
const passMs = { compaction: [] as number[], sweep: [] as number[] };
const flagged = (kind: keyof typeof passMs, set: (on: boolean) => void, p: () => Promise<void>) => async () => {
  set(true);
  const t = performance.now();
  try {
    await p();
  } finally {
    passMs[kind].push(performance.now() - t);
    set(false);
  }
};
let durableWrites = 0;
let volatileWrites = 0;
/** Writes to one key go one after the other (as one client renewing its Lease); each write's latency is recorded. */
const keyChains = new Map<string, Promise<unknown>>();
function timed<T>(key: string, p: () => Promise<T>): Promise<T> {
  const run = async () => {
    const t = performance.now();
    const during = { compaction: compactionOn, sweep: sweepOn };
    const v = await p();
    const l = performance.now() - t;
    latencies.push(l);
    stepMax = Math.max(stepMax, l);
    if (l > 100) {
      // What else ran: a stall the store causes shows up beside its compaction pass or TTL sweep.
      during.compaction ||= compactionOn;
      during.sweep ||= sweepOn;
      stallsWith[during.compaction ? "compaction" : during.sweep ? "sweep" : "neither"]++;
    }
    return v;
  };
  const next = (keyChains.get(key) ?? Promise.resolve()).then(run);
  const tail = next.catch(() => {});
  keyChains.set(key, tail);
  // Forget the key once its last write is done (event keys are new every time: the map would keep them all).
  void tail.then(() => keyChains.get(key) === tail && keyChains.delete(key));
  return next;
}

// Keys and current revisions of what is renewed/updated.
const leaseRev = new Map<string, number>();
const nodeRev = new Map<string, number>();
/** Recent events that may be repeated (count update), with their revision and count. */
const recentEvents: { key: string; rev: number; count: number; at: number }[] = [];
let eventSeq = 0;

async function renewLease(key: string, name: string, ns: string): Promise<void> {
  const kv = await timed(key, () => (leaseRev.get(key) === undefined ? store.create(key, leaseValue(name, ns)) : store.update(key, leaseValue(name, ns), leaseRev.get(key)!)));
  leaseRev.set(key, kv.modRevision);
  volatileWrites++;
}
async function updateNode(name: string): Promise<void> {
  const key = `/registry/minions/${name}`;
  const kv = await timed(key, () => (nodeRev.get(key) === undefined ? store.create(key, nodeValue(name)) : store.update(key, nodeValue(name), nodeRev.get(key)!)));
  nodeRev.set(key, kv.modRevision);
  durableWrites++;
}
async function writeEvent(): Promise<void> {
  // A third of event writes repeat a recent event (upstream's EventCorrelator bumps count on the same object).
  const live = recentEvents.filter((e) => simNow - e.at < EVENT_TTL_S * 1000 - 60_000);
  if (live.length > 0 && eventSeq % 3 === 2) {
    const e = live[eventSeq++ % live.length]!;
    const kv = await timed(e.key, () => store.update(e.key, eventValue(e.key.split("/").pop()!, ++e.count), e.rev, EVENT_TTL_S));
    e.rev = kv.modRevision;
  } else {
    const name = `app-${eventSeq % 200}.${(eventSeq++).toString(16)}`;
    const key = `/registry/events/default/${name}`;
    const kv = await timed(key, () => store.create(key, eventValue(name, 1), EVENT_TTL_S));
    recentEvents.push({ key, rev: kv.modRevision, count: 1, at: simNow });
    if (recentEvents.length > 50) recentEvents.shift();
  }
  durableWrites++;
}

/** How many times something with `period` seconds falls due in (from, to], for an offset phase. */
const due = (from: number, to: number, period: number, phase: number) => Math.floor((to - phase) / period) - Math.floor((from - phase) / period);

const totalS = DAYS * 86400;
const samples: { day: number; bytes: number; pages: number; free: number }[] = [];
let maxBytes = 0;
let compacting: Promise<void> = Promise.resolve();
let expiring: Promise<void> = Promise.resolve();
let eventDebt = 0;
// The disk's own fsync stalls, measured beside the run by another process (bench/lib/fsyncprobe.ts).
const probe = Bun.spawn([process.execPath, join(import.meta.dir, "lib", "fsyncprobe.ts"), join(dir, "fsync-probe")], { stdout: "pipe", stderr: "inherit" });
async function probeResult(): Promise<{ count: number; p99Ms: number; maxMs: number; over100: number } | undefined> {
  probe.kill("SIGTERM");
  try {
    return JSON.parse(await new Response(probe.stdout as ReadableStream).text());
  } catch {
    return undefined;
  }
}
const t0 = realNow();
progress(`simulating ${DAYS} days: ${NODES} nodes, ${CONTROLLERS} leader-election leases, ${EVENTS_PER_S} events/s (1 h TTL), steps of ${STEP_S} s`);
try {
  for (let s = 0; s < totalS; s += STEP_S) {
    const from = s;
    const to = s + STEP_S;
    simNow = SIM_START + to * 1000;
    const writes: Promise<void>[] = [];
    for (let n = 0; n < NODES; n++) {
      const name = `node-${n}`;
      for (let k = due(from, to, 10, n % 10); k > 0; k--) writes.push(renewLease(`/registry/coordination.k8s.io/leases/kube-node-lease/${name}`, name, "kube-node-lease"));
      if (due(from, to, 300, (n * 29) % 300) > 0 || s === 0) writes.push(updateNode(name));
    }
    for (let c = 0; c < CONTROLLERS; c++) {
      for (let k = due(from, to, 2, c % 2); k > 0; k--) writes.push(renewLease(`/registry/coordination.k8s.io/leases/kube-system/controller-${c}`, `controller-${c}`, "kube-system"));
    }
    eventDebt += EVENTS_PER_S * STEP_S;
    for (; eventDebt >= 1; eventDebt--) writes.push(writeEvent());
    // The server's timers, concurrent with the writes: the TTL sweep, and the compactor's tick every minute.
    expiring = expiring.then(flagged("sweep", (on) => (sweepOn = on), () => store.expireNow()));
    if (due(from, to, 60, 0) > 0) compacting = compacting.then(flagged("compaction", (on) => (compactionOn = on), () => store.compactNow()));
    stepMax = 0;
    const wait0 = cpuWaitMs();
    await Promise.all(writes);
    const net = stepMax - (cpuWaitMs() - wait0);
    worstNet = Math.max(worstNet, net);
    if (net > 100) stepsNetOver100++;
    if (due(from, to, 3600, 0) > 0) {
      await Promise.all([compacting, expiring]);
      const bytes = diskBytes();
      maxBytes = Math.max(maxBytes, bytes);
      if (due(from, to, 86400, 0) > 0) {
        Bun.gc(true); // the heap figure is what stays live, not garbage not yet collected
        const p = pages();
        samples.push({ day: to / 86400, bytes, ...p });
        progress(`day ${(to / 86400).toFixed(0)}: ${(bytes / 1e6).toFixed(2)} MB on disk (${p.pages} pages, ${p.free} free), ${durableWrites} durable + ${volatileWrites} lease writes, heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB, RSS ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB, ${((realNow() - t0) / 1000).toFixed(0)} s`);
      }
    }
  }
  await Promise.all([compacting, expiring]);
  const realS = (realNow() - t0) / 1000;
  const disk = await probeResult();
  const diskText = disk ? `the disk alone (4 KiB write + fsync every 20 ms in another process, same time): p99 ${disk.p99Ms.toFixed(1)} ms, slowest ${disk.maxMs.toFixed(0)} ms, ${disk.over100} of ${disk.count.toLocaleString("en-US")} fsyncs > 100 ms` : "disk probe failed";
  const finalBytes = diskBytes();
  maxBytes = Math.max(maxBytes, finalBytes);
  const sorted = latencies.sorted();
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
  const worst = sorted[sorted.length - 1] ?? 0;
  const firstStall = sorted.findIndex((l) => l > 100);
  const stalls = firstStall < 0 ? 0 : sorted.length - firstStall;
  const mb = (b: number) => (b / 1e6).toFixed(2) + " MB";
  // What is left: log rows (live keys + retained history) and the memory the store holds (volatile Lease history).
  const rows = inspect.query<{ n: number }, []>("SELECT count(*) AS n FROM kine").get()!.n;
  const heapMB = process.memoryUsage().heapUsed / 1e6;
  const first = samples[0];
  const last = samples[samples.length - 1];
  const load = loadavg().map((x) => x.toFixed(2)).join(" ");
  console.log(`kubun SQLite store, ${DAYS} simulated days in ${realS.toFixed(0)} s; ${cpus().length} CPUs, load ${load}${quick ? ", --quick" : ""}`);
  console.log("| measure | result |\n|---|---|");
  console.log(`| writes | ${durableWrites.toLocaleString("en-US")} durable (events, node status) + ${volatileWrites.toLocaleString("en-US")} Lease renewals |`);
  console.log(`| database on disk (file + WAL + shm) | largest ${mb(maxBytes)}, at the end ${mb(finalBytes)} |`);
  console.log(`| after day 1 → at the end | ${first ? mb(first.bytes) : "?"} → ${last ? mb(last.bytes) : "?"} (${last?.pages} pages of 1 KiB, ${last?.free} on the freelist) |`);
  console.log(`| left at the end | ${rows.toLocaleString("en-US")} log rows; ${store.volatileKeyCount} Lease keys in memory; heap ${heapMB.toFixed(0)} MB |`);
  const passText = (xs: number[]) => `${xs.length.toLocaleString("en-US")}, p99 ${percentile(xs, 99).toFixed(1)} ms, longest ${Math.max(0, ...xs).toFixed(1)} ms`;
  console.log(`| background passes (wall time, concurrent with writes) | compaction ${passText(passMs.compaction)}; TTL sweep ${passText(passMs.sweep)} |`);
  console.log(`| disk baseline | ${diskText} |`);
  console.log(`| write latency | p50 ${q(0.5).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms, p99.99 ${q(0.9999).toFixed(1)} ms, worst ${worst.toFixed(1)} ms; ${stalls} writes > 100 ms (${stallsWith.compaction} during a compaction pass, ${stallsWith.sweep} during a TTL sweep, ${stallsWith.neither} beside neither); less the time this process waited for a CPU: worst ${worstNet.toFixed(1)} ms, ${stepsNetOver100} steps > 100 ms |`);
  const growth = first && last && last !== first ? `day 1 ${mb(first.bytes)} → day ${last.day.toFixed(0)} ${mb(last.bytes)}` : "";
  report("storegrowth", [
    { id: "storegrowth.db-size", label: `database size, ${DAYS} simulated days of lease and event churn (largest)`, value: maxBytes / 1e6, unit: "MB", better: "lower", note: `${growth ? `${growth}; ` : ""}${durableWrites.toLocaleString("en-US")} durable + ${volatileWrites.toLocaleString("en-US")} Lease writes; ${rows.toLocaleString("en-US")} log rows left, heap ${heapMB.toFixed(0)} MB` },
    { id: "storegrowth.worst-write", label: "slowest write during the churn", value: worst, unit: "ms", better: "lower", note: `p99 ${q(0.99).toFixed(2)} ms; ${stalls} writes > 100 ms (${stallsWith.compaction} during compaction, ${stallsWith.sweep} during a TTL sweep, ${stallsWith.neither} beside neither); less the time the process waited for a CPU (machine load, schedstat): worst ${worstNet.toFixed(1)} ms; ${diskText}; load ${load}` },
  ]);
} finally {
  probe.kill("SIGKILL");
  Date.now = realNow;
  inspect.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
