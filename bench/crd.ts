// CRD benchmark against a real `kubun server` process (SQLite, no agent, no scheduler): time from creating a CRD to
// its Established condition and to the first successful `kubectl get` of its kind (real kubectl 1.32, fresh
// discovery cache each time), for a small CRD and an operator-sized one; then custom-object create latency at 50
// concurrent clients next to ConfigMap creates on the same server (after a warm-up, three alternating rounds of each;
// the median round is the figure). Upstream's SLO for single-object mutating
// calls: p99 ≤ 1 s. `bun run bench:crd [--quick]`.
import { tempDir } from "../test/helpers/tmpdir.ts"; // first: temp dirs under <repo>/.tmp
import { rmSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { cpuSeconds, startServerProcess } from "../test/ha/server-process.ts";
import { bigCRD } from "../test/apiextensions/bigcrd.ts";
import { medianOfRounds, percentile, type Round } from "./lib/latency.ts";
import { report, type Figure } from "./lib/report.ts";

const quick = process.argv.includes("--quick");
const CLIENTS = 50;
const PER_CLIENT = quick ? 8 : 40;
const CRD_RUNS = quick ? 2 : 5;
/** Timed rounds of the create load per kind (alternating kinds), summarised as the median round. */
const ROUNDS = quick ? 1 : 3;
const KUBECTL = process.env.KUBECTL ?? "/usr/bin/kubectl";
const progress = (msg: string) => process.stderr.write(`[bench:crd] ${msg}\n`);
const json = { "Content-Type": "application/json" };

const pct = percentile;
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1)) + " ms";

const server = await startServerProcess({ args: ["--disable-scheduler"], env: { KUBUN_LOG_LEVEL: "warn" } });
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => void server.cleanup().finally(() => process.exit(130)));
const api = server.api;

async function must(r: Response, want = [200, 201]): Promise<any> {
  const body = await r.text();
  if (!want.includes(r.status)) throw new Error(`HTTP ${r.status}: ${body.slice(0, 300)}`);
  return body ? JSON.parse(body) : undefined;
}

function smallCRD(group: string) {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: "Namespaced",
      names: { plural: "widgets", kind: "Widget" },
      versions: [{
        name: "v1",
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { size: { type: "integer", maximum: 100 }, color: { type: "string", enum: ["red", "blue"] } } } } } },
      }],
    },
  };
}

/** ms from POST of the CRD to Established (polled every 5 ms) and to kubectl's first successful get. */
async function timeCRD(crd: any, resource: string): Promise<{ established: number; kubectlGet: number }> {
  const home = tempDir("kubectl-home-");
  const t0 = performance.now();
  await must(await api("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", { method: "POST", headers: json, body: JSON.stringify(crd) }));
  let established = NaN;
  const kubectlDone = (async () => {
    for (;;) {
      const p = Bun.spawn([KUBECTL, "--kubeconfig", server.kubeconfigPath, "get", resource, "-A"], { env: { ...process.env, HOME: home }, stdout: "ignore", stderr: "ignore" });
      if ((await p.exited) === 0) return performance.now() - t0;
      if (performance.now() - t0 > 30_000) throw new Error(`kubectl get ${resource} never succeeded`);
    }
  })();
  for (;;) {
    const c = await must(await api(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`));
    if (c.status?.conditions?.some((x: any) => x.type === "Established" && x.status === "True")) {
      established = performance.now() - t0;
      break;
    }
    if (performance.now() - t0 > 30_000) throw new Error("CRD never Established");
    await Bun.sleep(5);
  }
  const kubectlGet = await kubectlDone;
  rmSync(home, { recursive: true, force: true });
  return { established, kubectlGet };
}

/** Latencies of CLIENTS concurrent clients each creating PER_CLIENT objects. */
async function creates(path: string, body: (name: string) => unknown, prefix: string): Promise<{ lat: number[]; secs: number; cpuMs: number }> {
  const lat: number[] = [];
  const cpu0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let i = 0; i < PER_CLIENT; i++) {
        const s = performance.now();
        await must(await api(path, { method: "POST", headers: json, body: JSON.stringify(body(`${prefix}-${c}-${i}`)) }));
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  // Server CPU (user + system) per create: less noisy than the rate on a shared machine.
  return { lat, secs, cpuMs: ((cpuSeconds(server.pid) - cpu0) * 1000) / lat.length };
}

const rows: [string, string][] = [];
const figures: Figure[] = [];
try {
  for (const [label, make, resource] of [
    ["small CRD (2 fields)", (i: number) => smallCRD(`bench${i}.example.com`), (i: number) => `widgets.bench${i}.example.com`],
    ["operator-sized CRD (60 components, ~6,700 lines of YAML)", (i: number) => {
      const b: any = bigCRD();
      delete b.sample;
      b.spec.group = `big${i}.example.com`;
      b.metadata.name = `clusters.big${i}.example.com`;
      b.spec.names.shortNames = [];
      b.spec.names.categories = [];
      return b;
    }, (i: number) => `clusters.big${i}.example.com`],
  ] as const) {
    const est: number[] = [];
    const get: number[] = [];
    for (let i = 0; i < CRD_RUNS; i++) {
      const t = await timeCRD((make as (i: number) => any)(i), (resource as (i: number) => string)(i));
      est.push(t.established);
      get.push(t.kubectlGet);
    }
    progress(`${label}: established ${est.map((x) => x.toFixed(0)).join(", ")} ms; kubectl get ${get.map((x) => x.toFixed(0)).join(", ")} ms`);
    figures.push({ id: label.startsWith("small") ? "crd.small.established" : "crd.big.established", label: `${label}: create → Established`, value: pct(est, 50), unit: "ms", better: "lower", note: `median of ${CRD_RUNS}; first kubectl get OK after ${ms(pct(get, 50))}` });
    rows.push([`${label}: create → Established`, `median ${ms(pct(est, 50))}, worst ${ms(Math.max(...est))} (${CRD_RUNS} runs)`]);
    rows.push([`${label}: create → first \`kubectl get\` OK`, `median ${ms(pct(get, 50))}, worst ${ms(Math.max(...get))}`]);
  }

  await must(await api("/api/v1/namespaces", { method: "POST", headers: json, body: JSON.stringify({ metadata: { name: "bench" } }) }));
  const cmBody = (name: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { size: "3", color: "red" } });
  const crBody = (name: string) => ({ apiVersion: "bench0.example.com/v1", kind: "Widget", metadata: { name }, spec: { size: 3, color: "red" } });
  // Warm-up, then alternate so both see the same machine load.
  await creates("/api/v1/namespaces/bench/configmaps", cmBody, "warm");
  await creates("/apis/bench0.example.com/v1/namespaces/bench/widgets", crBody, "warm");
  const cmRounds: Round[] = [];
  const crRounds: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    cmRounds.push(await creates("/api/v1/namespaces/bench/configmaps", cmBody, `cm${i}`));
    crRounds.push(await creates("/apis/bench0.example.com/v1/namespaces/bench/widgets", crBody, `cr${i}`));
  }
  for (const [label, rounds] of [["ConfigMap", cmRounds], ["custom object (Widget)", crRounds]] as const) {
    const fid = label === "ConfigMap" ? "crd.configmap" : "crd.customobject";
    const r = medianOfRounds(rounds);
    const of = rounds.length > 1 ? `median of ${rounds.length} rounds of ${r.n} (${r.each})` : `${r.n} objects`;
    figures.push(
      { id: `${fid}.rate`, label: `create ${label}, ${CLIENTS} clients`, value: r.rate, unit: "/s", better: "higher", note: `${of}, p50 ${ms(r.p50)}` },
      { id: `${fid}.p99`, label: `create ${label}, ${CLIENTS} clients: p99`, value: r.p99, unit: "ms", better: "lower" },
      { id: `${fid}.cpu`, label: `create ${label}, ${CLIENTS} clients: server CPU`, value: r.cpuMs, unit: "ms/object", better: "lower" },
    );
    rows.push([`create ${label}, ${CLIENTS} clients × ${PER_CLIENT}`, `${r.rate.toFixed(0)}/s, p50 ${ms(r.p50)}, p99 ${ms(r.p99)}, server CPU ${r.cpuMs.toFixed(2)} ms/object (${of}; SLO p99 ≤ 1 s: ${r.p99 <= 1000 ? "yes" : "NO"})`]);
  }

  const w = [Math.max(...rows.map((r) => r[0].length), 7), Math.max(...rows.map((r) => r[1].length), 6)];
  console.log(`kubun CRDs, SQLite store, ${cpus().length} CPUs ${cpus()[0]?.model ?? ""}, load average ${loadavg()[0]!.toFixed(1)}, Bun ${Bun.version}${quick ? ", --quick" : ""}`);
  console.log(`| ${"measure".padEnd(w[0]!)} | ${"result".padEnd(w[1]!)} |\n|${"-".repeat(w[0]! + 2)}|${"-".repeat(w[1]! + 2)}|`);
  for (const [m, r] of rows) console.log(`| ${m.padEnd(w[0]!)} | ${r.padEnd(w[1]!)} |`);
  report("crd", figures);
} finally {
  await Promise.race([server.kill("SIGTERM"), Bun.sleep(10_000)]);
  await server.cleanup();
}
