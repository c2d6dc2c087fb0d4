// API server benchmark: pod creates per second and create latency at 1, 10 and 50 concurrent clients, listing 10,000
// pods (whole and in pages of 500), and watch fan-out delay to 100 watchers — against a real `kubun server` process
// (SQLite store, no agent, no scheduler: pods stay Pending) over HTTPS with keep-alive, so server and client do not
// share one event loop. Upstream's SLOs (sig-scalability api_call_latency): p99 ≤ 1 s for single-object mutating
// calls, p99 ≤ 5 s for namespace-scoped lists; watch latency has no upstream SLO yet.
// `bun run bench:api [--quick] [--etcd] [--pods 10000] [--watchers 100] [--profile DIR]` — the default run takes about 2 minutes on 2 cores.
// At 50 clients the creates run in three rounds of 2,000; the median round is the figure (every round is in the note).
import "../test/helpers/tmpdir.ts"; // first: the helpers below make their temp dirs under <repo>/.tmp
import { cpus, loadavg } from "node:os";
import { startEtcd } from "../test/store/fixtures/etcd.ts";
import { cpuSeconds, rssMiB, startServerProcess } from "../test/ha/server-process.ts";
import { report, type Figure } from "./lib/report.ts";
import { medianOfRounds, percentile, type Round } from "./lib/latency.ts";
import { listRuns } from "./lib/listpages.ts";
import { readWatchEvents } from "./lib/watchstream.ts";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const num = (name: string, def: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const N = {
  // [concurrent clients, creates per client, rounds]
  createPhases: quick ? ([[1, 50, 1], [10, 20, 1], [50, 8, 1]] as const) : ([[1, 300, 1], [10, 100, 1], [50, 40, 3]] as const),
  listPods: num("pods", quick ? 2000 : 10_000),
  listRuns: quick ? 1 : 3,
  watchers: num("watchers", quick ? 20 : 100),
  watchWrites: quick ? 10 : 50,
};
const NS = "bench";

interface Row {
  measure: string;
  result: string;
  slo: string;
  ok: string;
}
const rows: Row[] = [];
const figures: Figure[] = [];

const pct = percentile;
const progress = (msg: string) => process.stderr.write(`[bench:api] ${msg}\n`);
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1)) + " ms";

// --etcd: the HA set-up (a throwaway etcd 3.4 on loopback) instead of SQLite.
const etcd = argv.includes("--etcd") ? await startEtcd() : undefined;
const profileDir = argv.includes("--profile") ? argv[argv.indexOf("--profile") + 1] : undefined;
const server = await startServerProcess({
  args: ["--disable-scheduler"],
  etcdEndpoints: etcd ? [etcd.endpoint] : undefined,
  env: { KUBUN_LOG_LEVEL: "warn" },
  // A CPU profile of the server (markdown), written when it exits.
  bunArgs: profileDir ? ["--cpu-prof-md", "--cpu-prof-dir", profileDir] : [],
});
// Ctrl-C (or a timeout's SIGTERM) must not leave the server process and its data dir behind.
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => void server.cleanup().finally(() => process.exit(130)));
}
const api = server.api;
const json = { "Content-Type": "application/json" };

async function must(r: Response, want: number[] = [200, 201]): Promise<any> {
  const body = await r.text();
  if (!want.includes(r.status)) throw new Error(`HTTP ${r.status}: ${body.slice(0, 300)}`);
  return body ? JSON.parse(body) : undefined;
}

try {
  // The namespace, and its default ServiceAccount (the controller manager creates it; pods are refused without it).
  await must(await api("/api/v1/namespaces", { method: "POST", headers: json, body: JSON.stringify({ metadata: { name: NS } }) }));
  for (let i = 0; ; i++) {
    if ((await api(`/api/v1/namespaces/${NS}/serviceaccounts/default`)).ok) break;
    if (i > 300) throw new Error("default ServiceAccount never appeared (controller manager not running?)");
    await Bun.sleep(100);
  }

  let seq = 0;
  const podBody = (name: string) =>
    JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, labels: { app: "bench", seq: String(seq) } },
      spec: {
        containers: [
          {
            name: "app",
            image: "registry.k8s.io/pause:3.10",
            ports: [{ containerPort: 8080 }],
            env: [{ name: "MODE", value: "bench" }],
            resources: { requests: { cpu: "10m", memory: "16Mi" } },
          },
        ],
      },
    });
  /** Creates one pod; resolves with when the request was sent and when the API acknowledged it. */
  async function createPod(name = `bench-${++seq}`): Promise<{ latency: number; sentAt: number; ackAt: number }> {
    const sentAt = performance.now();
    await must(await api(`/api/v1/namespaces/${NS}/pods`, { method: "POST", headers: json, body: podBody(name) }), [201]);
    const ackAt = performance.now();
    return { latency: ackAt - sentAt, sentAt, ackAt };
  }

  progress("server up, default ServiceAccount present");
  /** Cumulative bucket counts of the server's own latency histogram for verb+resource (Prometheus text). */
  async function serverBuckets(verb: string, resource: string): Promise<Map<string, number>> {
    const text = await (await api("/metrics")).text();
    const out = new Map<string, number>();
    const re = new RegExp(`^apiserver_request_duration_seconds_bucket\\{verb="${verb}",resource="${resource}",le="([^"]+)"\\} (\\d+)$`, "gm");
    for (const m of text.matchAll(re)) out.set(m[1]!, Number(m[2]));
    return out;
  }
  /** The histogram bucket that holds the p-th percentile of what was observed between two scrapes. */
  function bucketPercentile(before: Map<string, number>, after: Map<string, number>, p: number): string {
    const total = (after.get("+Inf") ?? 0) - (before.get("+Inf") ?? 0);
    for (const [le, n] of after) if (n - (before.get(le) ?? 0) >= (p / 100) * total) return le === "+Inf" ? "> 60 s" : `≤ ${Number(le) * 1000} ms`;
    return "?";
  }

  // 1. Creates at 1, 10 and 50 concurrent clients; at 50, three rounds, summarised as the median round.
  for (const [clients, perClient, roundCount] of N.createPhases) {
    progress(`creates with ${clients} client(s)`);
    // Open the keep-alive connections first (as long-running clients have them), so TLS handshakes are not timed.
    await Promise.all(Array.from({ length: clients }, async () => must(await api("/version"))));
    const rounds: Round[] = [];
    const buckets0 = await serverBuckets("POST", "pods");
    for (let round = 0; round < roundCount; round++) {
      const lat: number[] = [];
      const cpu0 = cpuSeconds(server.pid);
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          for (let i = 0; i < perClient; i++) lat.push((await createPod()).latency);
        }),
      );
      const secs = (performance.now() - t0) / 1000;
      rounds.push({ lat, secs, cpuMs: ((cpuSeconds(server.pid) - cpu0) * 1000) / lat.length });
    }
    const serverP99 = bucketPercentile(buckets0, await serverBuckets("POST", "pods"), 99);
    const r = medianOfRounds(rounds);
    const of = rounds.length > 1 ? `median of ${rounds.length} rounds of ${r.n} pods (${r.each})` : `${r.n} pods`;
    const who = `create pod, ${clients} client${clients > 1 ? "s" : ""}`;
    figures.push(
      { id: `api.create.${clients}.rate`, label: who, value: r.rate, unit: "pods/s", better: "higher", note: `${of}, p50 ${ms(r.p50)}` },
      { id: `api.create.${clients}.p99`, label: `${who}: p99`, value: r.p99, unit: "ms", better: "lower", note: `in-server p99 ${serverP99}` },
      { id: `api.create.${clients}.cpu`, label: `${who}: server CPU`, value: r.cpuMs, unit: "ms/pod", better: "lower" },
    );
    rows.push({
      measure: `${who} (${of})`,
      result: `${r.rate.toFixed(0)} pods/s, p50 ${ms(r.p50)}, p99 ${ms(r.p99)} (in-server p99 ${serverP99}), server CPU ${r.cpuMs.toFixed(2)} ms/pod`,
      slo: "p99 ≤ 1 s",
      ok: r.p99 <= 1000 ? "yes" : "NO",
    });
  }

  // What a client without a warm connection pays: 50 clients connecting at once (TLS handshake + GET /version).
  {
    const lat: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        const t = performance.now();
        await must(await api("/version", { keepalive: false } as RequestInit));
        lat.push(performance.now() - t);
      }),
    );
    rows.push({ measure: "50 clients connecting at once (new TLS + GET /version)", result: `p50 ${ms(pct(lat, 50))}, p99 ${ms(pct(lat, 99))}`, slo: "p99 ≤ 1 s (read)", ok: pct(lat, 99) <= 1000 ? "yes" : "NO" });
  }

  // 2. Fill up to listPods (50 clients), then list them whole and in pages of 500.
  progress(`filling up to ${N.listPods} pods, then listing`);
  const fillers = 50;
  const missing = Math.max(0, N.listPods - seq);
  let next = 0;
  await Promise.all(
    Array.from({ length: fillers }, async () => {
      while (next++ < missing) await createPod();
    }),
  );
  for (const [label, limit] of [["list pods, one response", 0], ["list pods, limit=500 pages", 500]] as const) {
    const listBuckets0 = await serverBuckets("LIST", "pods");
    const { items: n, bytes, receiveMs: times, decodeMs: decodes } = await listRuns(api, `/api/v1/namespaces/${NS}/pods`, limit, N.listRuns);
    if (n !== seq) throw new Error(`${label}: listed ${n} pods, created ${seq}`);
    const worst = Math.max(...times);
    const inServer = bucketPercentile(listBuckets0, await serverBuckets("LIST", "pods"), 99);
    const decoded = `this client's JSON.parse adds ${ms(pct(decodes, 50))}`;
    figures.push({ id: limit ? "api.list.paged" : "api.list.whole", label: `${label} (${n} pods): last byte received`, value: pct(times, 50), unit: "ms", better: "lower", note: `median of ${times.length}, worst ${ms(worst)}; ${(bytes / 1048576).toFixed(1)} MiB; ${decoded}` });
    rows.push({
      measure: `${label} (${n} pods)`,
      result: `${ms(pct(times, 50))} median, ${ms(worst)} worst of ${times.length} to the last byte, ${decoded} (in-server p99 ${inServer}; ${(bytes / 1048576).toFixed(1)} MiB)`,
      slo: "p99 ≤ 5 s (namespace list)",
      ok: worst <= 5000 ? "yes" : "NO",
    });
  }
  {
    const t = performance.now();
    await must(await api(`/api/v1/namespaces/${NS}/pods?limit=500`, { headers: { Accept: "application/json;as=Table;v=v1;g=meta.k8s.io" } }));
    const took = performance.now() - t;
    figures.push({ id: "api.table.first-page", label: "kubectl get pods, first page (Table, limit=500)", value: took, unit: "ms", better: "lower" });
    rows.push({ measure: "kubectl get pods, first page (Table, limit=500)", result: ms(took), slo: "p99 ≤ 5 s", ok: took <= 5000 ? "yes" : "NO" });
  }

  // 3. Watch fan-out: N watchers on the namespace's pods from "now"; per write, the delay from the create's
  // acknowledgement to each watcher receiving its ADDED event (0 when the event arrived before the ack), and from the request being sent.
  {
    progress(`watch fan-out to ${N.watchers} watchers`);
    const rv = (await must(await api(`/api/v1/namespaces/${NS}/pods?limit=1`))).metadata.resourceVersion as string;
    const seen = new Map<string, number[]>();
    const aborts: AbortController[] = [];
    const streams = Array.from({ length: N.watchers }, async () => {
      const ac = new AbortController();
      aborts.push(ac);
      const r = await api(`/api/v1/namespaces/${NS}/pods?watch=1&resourceVersion=${rv}&allowWatchBookmarks=false`, { signal: ac.signal });
      if (!r.ok) throw new Error(`watch: HTTP ${r.status}`);
      // Wrapped in an object: returning the bare promise would make this one wait for the stream's end.
      const done = (async () => {
        try {
          await readWatchEvents<{ metadata: { name: string } }>(r, (ev, at) => {
            if (ev.type !== "ADDED") return;
            const list = seen.get(ev.object.metadata.name) ?? [];
            list.push(at);
            seen.set(ev.object.metadata.name, list);
          });
        } catch {
          // aborted at the end
        }
      })();
      return { done };
    });
    const readers = await Promise.all(streams);
    const delays: number[] = []; // ack → event
    const fromSend: number[] = []; // request sent → event
    let missingEvents = 0;
    for (let k = 0; k < N.watchWrites; k++) {
      const name = `watch-${k}`;
      const { sentAt, ackAt } = await createPod(name);
      const deadline = performance.now() + 30_000;
      while ((seen.get(name)?.length ?? 0) < N.watchers && performance.now() < deadline) await Bun.sleep(1);
      const got = seen.get(name) ?? [];
      missingEvents += N.watchers - got.length;
      for (const at of got) {
        delays.push(Math.max(0, at - ackAt));
        fromSend.push(at - sentAt);
      }
    }
    aborts.forEach((a) => a.abort());
    await Promise.all(readers.map((r) => r.done));
    if (missingEvents) throw new Error(`watch fan-out: ${missingEvents} events never arrived`);
    figures.push({ id: "api.watch.p99", label: `watch fan-out, ${N.watchers} watchers: request → event p99`, value: pct(fromSend, 99), unit: "ms", better: "lower", note: `ack → event p99 ${ms(pct(delays, 99))}` });
    rows.push({
      measure: `watch fan-out, ${N.watchers} watchers × ${N.watchWrites} creates`,
      result:
        `ack → event p50 ${ms(pct(delays, 50))}, p99 ${ms(pct(delays, 99))}; ` +
        `request → event p50 ${ms(pct(fromSend, 50))}, p99 ${ms(pct(fromSend, 99))}; ` +
        `${((100 * delays.filter((d) => d === 0).length) / delays.length).toFixed(0)}% of events before the ack`,
      slo: "none upstream (WIP); ≤ 5 s here",
      ok: pct(delays, 99) <= 5000 ? "yes" : "NO",
    });
  }
  rows.push({ measure: `server RSS after the run (${seq + N.watchWrites} pods stored)`, result: `${rssMiB(server.pid).toFixed(0)} MiB`, slo: "", ok: "" });
  figures.push({ id: "api.rss", label: `server RSS after the run (${seq + N.watchWrites} pods stored)`, value: rssMiB(server.pid), unit: "MiB", better: "lower" });

  const head: Row = { measure: "measure", result: "result", slo: "upstream SLO", ok: "SLO ok?" };
  const cols = ["measure", "result", "slo", "ok"] as const;
  const width = cols.map((c) => Math.max(...[head, ...rows].map((r) => r[c].length)));
  const line = (r: Row) => "| " + cols.map((c, i) => r[c].padEnd(width[i]!)).join(" | ") + " |";
  console.log(`kubun API server, ${etcd ? "etcd 3.4" : "SQLite"} store, ${cpus().length} CPUs ${cpus()[0]?.model ?? ""}, load average ${loadavg()[0]!.toFixed(1)}, Bun ${Bun.version}${quick ? ", --quick" : ""}`);
  console.log([line(head), "|" + width.map((w) => "-".repeat(w + 2)).join("|") + "|", ...rows.map(line)].join("\n"));
  report(etcd ? "api-etcd" : "api", figures);
} finally {
  // A graceful stop first (it writes the profile), then make sure.
  await Promise.race([server.kill("SIGTERM"), Bun.sleep(10_000)]);
  await server.cleanup();
  await etcd?.stop();
  if (profileDir) console.log(`server CPU profile in ${profileDir}`);
}
