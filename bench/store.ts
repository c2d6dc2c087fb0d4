// Store benchmark: kubun's SQLite store side by side with etcd 3.4 (Debian's etcd-server, started here on loopback
// ports in a temp dir and reached with the etcd3 client through kubun's etcd backend), same workload for both.
// `bun run bench:store [--scale 0.5]` — the default run takes well under two minutes.
import "../test/helpers/jitpolicy.ts"; // first of all: kubun's JIT options for the components this process runs
import "../test/helpers/tmpdir.ts"; // first: the helpers below make their temp dirs under <repo>/.tmp
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { findResource, storagePrefix } from "../internal/api/resources.ts";
import { EtcdStore } from "../internal/store/etcd/index.ts";
import { openSqliteStore } from "../internal/store/sqlite/index.ts";
import type { Store } from "../internal/store/types.ts";
import { ETCD_BIN, startEtcd } from "../test/store/fixtures/etcd.ts";
import { tempDir } from "../test/store/helpers.ts";
import { report } from "./lib/report.ts";

const scaleArg = process.argv.indexOf("--scale");
const scale = scaleArg > 0 ? Number(process.argv[scaleArg + 1]) : 1;
const N = {
  sequentialWrites: Math.round(1000 * scale),
  concurrentWrites: Math.round(10_000 * scale),
  concurrency: 64,
  reads: Math.round(20_000 * scale),
  listKeys: 10_000,
  listRuns: 10,
  watchWrites: Math.round(1000 * scale),
  leaseUpdates: Math.round(500 * scale),
};

// A Pod-sized JSON value (~1.5 KB).
const VALUE = JSON.stringify({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "bench", namespace: "default", labels: { app: "bench", tier: "x".repeat(40) } },
  spec: { containers: [{ name: "c", image: "registry.example/app:1.0", args: Array(40).fill("--flag=value") }] },
  status: { phase: "Running", conditions: Array(4).fill({ type: "Ready", status: "True", lastTransitionTime: new Date().toISOString() }) },
});

interface Result {
  name: string;
  unit: "ops/s" | "ms" | "KiB";
  value: number;
}

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Bytes a process has caused to be written to disk (/proc/<pid>/io write_bytes). */
function writeBytes(pid: number | "self"): number {
  const m = /write_bytes: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

// A Lease renewal: the most frequent write of an idle cluster, so the one that decides disk wear.
const LEASE = JSON.stringify({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: { name: "node-1", namespace: "kube-node-lease", uid: "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901" },
  spec: { holderIdentity: "node-1", leaseDurationSeconds: 40, renewTime: "2026-11-25T16:59:59.123456Z" },
});

const LEASES = findResource("coordination.k8s.io", "v1", "leases")!;

interface Target {
  store: Store;
  /** Process whose disk writes count: this one for SQLite, the etcd server for etcd. */
  pid: number | "self";
}

const pad = (i: number) => String(i).padStart(6, "0");

/** Each phase measures one thing on one store. Phases run alternately on both stores, so load changes hit both. */
const phases: ((t: Target) => Promise<Result[]>)[] = [
  async ({ store }) => {
    const t = performance.now();
    for (let i = 0; i < N.sequentialWrites; i++) await store.create(`/registry/seq/${pad(i)}`, VALUE);
    return [{ name: `sequential writes (${N.sequentialWrites})`, unit: "ops/s", value: (N.sequentialWrites / (performance.now() - t)) * 1000 }];
  },
  async ({ store }) => {
    const t = performance.now();
    await pool(N.concurrentWrites, N.concurrency, (i) => store.create(`/registry/conc/${pad(i)}`, VALUE));
    const value = (N.concurrentWrites / (performance.now() - t)) * 1000;
    return [{ name: `concurrent writes (${N.concurrentWrites}, ${N.concurrency} in flight)`, unit: "ops/s", value }];
  },
  async ({ store }) => {
    const t = performance.now();
    await pool(N.reads, N.concurrency, (i) => store.get(`/registry/conc/${pad((i * 7919) % N.concurrentWrites)}`));
    return [{ name: `reads (${N.reads}, ${N.concurrency} in flight)`, unit: "ops/s", value: (N.reads / (performance.now() - t)) * 1000 }];
  },
  async ({ store }) => {
    // List 10,000 keys (write the ones the concurrent phase did not).
    await pool(Math.max(0, N.listKeys - N.concurrentWrites), N.concurrency, (i) =>
      store.create(`/registry/conc/${pad(N.concurrentWrites + i)}`, VALUE),
    );
    const times: number[] = [];
    for (let r = 0; r < N.listRuns; r++) {
      const t = performance.now();
      const res = await store.list("/registry/conc/", { limit: N.listKeys });
      times.push(performance.now() - t);
      if (res.items.length !== N.listKeys) throw new Error(`list returned ${res.items.length} keys`);
    }
    times.sort((a, b) => a - b);
    return [{ name: `list ${N.listKeys} keys (median of ${N.listRuns})`, unit: "ms", value: percentile(times, 50) }];
  },
  async ({ store }) => {
    // Watch delivery: time from issuing a write to the watcher receiving its event.
    const sent = new Map<string, number>();
    const latencies: number[] = [];
    const ac = new AbortController();
    const start = await store.currentRevision();
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const watching = (async () => {
      for await (const batch of store.watch("/registry/watch/", { afterRevision: start, signal: ac.signal })) {
        const now = performance.now();
        for (const e of batch) {
          const t0 = sent.get(e.kv.key);
          if (t0 !== undefined) latencies.push(now - t0);
        }
        if (latencies.length >= N.watchWrites) resolveDone();
      }
    })();
    for (let i = 0; i < N.watchWrites; i++) {
      const key = `/registry/watch/${pad(i)}`;
      sent.set(key, performance.now());
      await store.create(key, VALUE);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([done, new Promise((r) => (timer = setTimeout(r, 30_000)))]);
    clearTimeout(timer);
    ac.abort();
    await watching;
    latencies.sort((a, b) => a - b);
    return [
      { name: "watch delivery latency p50", unit: "ms", value: percentile(latencies, 50) },
      { name: "watch delivery latency p99", unit: "ms", value: percentile(latencies, 99) },
    ];
  },
  async ({ store, pid }) => {
    // Disk bytes written per Lease renewal (sequential updates of one key): under the key the API server stores
    // Leases at (which kubun's SQLite store keeps in memory, volatile.ts; etcd writes every key), and under a key
    // outside any volatile prefix, to compare what one durable write of the same object costs each store.
    const perUpdate = async (key: string) => {
      let lease = await store.create(key, LEASE);
      const before = writeBytes(pid);
      for (let i = 0; i < N.leaseUpdates; i++) lease = await store.update(lease.key, LEASE, lease.modRevision);
      return (writeBytes(pid) - before) / N.leaseUpdates / 1024;
    };
    return [
      { name: "disk written per Lease update", unit: "KiB", value: await perUpdate(`${storagePrefix(LEASES)}kube-node-lease/node-1`) },
      { name: "disk written per durable update (a Lease-sized object)", unit: "KiB", value: await perUpdate("/registry/durable/kube-node-lease/node-1") },
    ];
  },
];

function fmt(v: number | undefined, unit: string): string {
  if (v === undefined) return "-";
  if (unit === "KiB") return `${v.toFixed(1)} KiB`;
  return unit === "ms" ? `${v.toFixed(2)} ms` : `${Math.round(v).toLocaleString("en-US")}/s`;
}

const dir = tempDir("kubun-bench-");
try {
  const quiet = { debug() {}, info() {}, warn() {}, error() {}, child() { return this; } };
  const sqlite = openSqliteStore(join(dir.path, "state.db"), { log: quiet });
  let etcdVersion = "not installed";
  let server: Awaited<ReturnType<typeof startEtcd>> | undefined;
  let etcd: EtcdStore | undefined;
  if (existsSync(ETCD_BIN)) {
    etcdVersion = (await new Response(Bun.spawn([ETCD_BIN, "--version"]).stdout).text()).split("\n")[0]!.trim();
    server = await startEtcd();
    etcd = new EtcdStore([server.endpoint], { compactIntervalMs: 0 });
  }
  const ours: Result[] = [];
  const theirs: Result[] | undefined = etcd ? [] : undefined;
  try {
    for (const phase of phases) {
      ours.push(...(await phase({ store: sqlite, pid: "self" })));
      if (etcd && server) theirs!.push(...(await phase({ store: etcd, pid: server.pid })));
    }
  } finally {
    await sqlite.close();
    await etcd?.close();
    await server?.stop();
  }

  const rows = ours.map((r, i) => {
    const e = theirs?.[i]?.value;
    // Ratio > 1 means kubun's store is better (more ops/s, or fewer ms).
    const x = e === undefined ? undefined : r.unit === "ops/s" ? r.value / e : e / r.value;
    const ratio = x === undefined ? "-" : Number.isFinite(x) ? `${x.toFixed(2)}x` : "∞x";
    return [r.name, fmt(r.value, r.unit), fmt(e, r.unit), ratio];
  });
  const header = ["operation", "kubun sqlite", "etcd", "sqlite vs etcd"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  console.log(`\nStore benchmark: kubun SQLite (WAL, synchronous=FULL) vs ${etcdVersion}; Bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs`);
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|")}|`);
  for (const r of rows) console.log(line(r));
  console.log("ratio > 1x: kubun's store is better (more operations per second, less time, fewer bytes written).");
  report(
    "store",
    ours.map((r, i) => {
      const e = theirs?.[i]?.value;
      const slug = r.name.replace(/\(.*?\)/g, "").trim().replace(/[^a-z0-9]+/gi, "-").toLowerCase();
      return {
        id: `store.${slug}`,
        label: r.name,
        value: r.value,
        unit: r.unit,
        better: r.unit === "ops/s" ? ("higher" as const) : ("lower" as const),
        anchor: e === undefined ? undefined : { value: e, text: `${etcdVersion.replace(/Version: /, "")}: ${fmt(e, r.unit)}` },
      };
    }),
  );
} finally {
  dir.remove();
}
