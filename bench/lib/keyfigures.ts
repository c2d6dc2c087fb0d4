// Issue 17's key figures, measured by one outside load generator (this process, plus hollow nodes in a child process)
// against a `kubun server` process started from any checkout — this one or the previous release (bench/release.ts
// runs both, phase by phase). Each figure carries the id of the matching figure of the area benchmarks (api, crd,
// footprint, scheduler), so bench/run.ts can show the previous release next to them.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYAML } from "yaml";
import { freePort } from "../../test/helpers/ports.ts";
import { startServerProcess, type ServerProcess } from "../../test/ha/server-process.ts";
import { percentile } from "./latency.ts";
import { listRuns } from "./listpages.ts";

export interface KeyFigure {
  value: number;
  note: string;
}

export interface KeyFigureOptions {
  /** Creates per client at 50 clients (pods, ConfigMaps). */
  perClient: number;
  /** Pods stored, then listed. */
  listPods: number;
  listRuns: number;
  /** Server starts timed (median). */
  starts: number;
  /** Scheduling: hollow nodes and pending pods (0 nodes = skip). */
  schedNodes: number;
  schedPods: number;
  log: (msg: string) => void;
}

const json = { "Content-Type": "application/json" };
const HOLD_TAINT = "kubun.io/bench-hold";
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1)) + " ms";

async function must(r: Response, want: number[] = [200, 201]): Promise<any> {
  const body = await r.text();
  if (!want.includes(r.status)) throw new Error(`HTTP ${r.status}: ${body.slice(0, 300)}`);
  return body ? JSON.parse(body) : undefined;
}

/**
 * Spawn → /readyz 200 for a fresh server (no agent) of `root`, polled every 5 ms (the kubeconfig it writes gives the
 * token and CA to ask with). The server is stopped afterwards.
 */
async function timeStart(root: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "kubun-start-"));
  const kc = join(dir, "kc.yaml");
  writeFileSync(join(dir, "config.yaml"), "");
  const port = freePort();
  const t0 = performance.now();
  const proc = Bun.spawn(
    [process.execPath, join(root, "cmd", "kubun.ts"), "server", "--disable-agent", "--data-dir", dir, "--https-listen-port", String(port), "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--write-kubeconfig", kc],
    { cwd: root, stdout: "ignore", stderr: "ignore", env: { ...process.env, KUBUN_CONFIG_FILE: join(dir, "config.yaml"), KUBUN_LOG_LEVEL: "warn" } },
  );
  try {
    let auth: { token: string; ca: string } | undefined;
    while (performance.now() - t0 < 60_000 && proc.exitCode === null) {
      if (!auth && existsSync(kc)) {
        try {
          const k = parseYAML(readFileSync(kc, "utf8"));
          auth = { token: k.users[0].user.token, ca: Buffer.from(k.clusters[0].cluster["certificate-authority-data"], "base64").toString() };
        } catch {
          // half-written
        }
      }
      if (auth) {
        try {
          const r = await fetch(`https://127.0.0.1:${port}/readyz`, { headers: { Authorization: `Bearer ${auth.token}` }, tls: { ca: auth.ca }, keepalive: false } as RequestInit);
          if (r.ok) return (performance.now() - t0) / 1000;
        } catch {
          // not listening yet
        }
      }
      await Bun.sleep(5);
    }
    throw new Error(`server of ${root} not ready after 60 s (exit ${proc.exitCode})`);
  } finally {
    proc.kill("SIGKILL");
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

async function ensureNamespace(api: ServerProcess["api"], ns: string): Promise<void> {
  await must(await api("/api/v1/namespaces", { method: "POST", headers: json, body: JSON.stringify({ metadata: { name: ns } }) }), [201, 409]);
  for (let i = 0; !(await api(`/api/v1/namespaces/${ns}/serviceaccounts/default`)).ok; i++) {
    if (i > 300) throw new Error("default ServiceAccount never appeared");
    await Bun.sleep(100);
  }
}

const podBody = (name: string) =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: "bench" } },
    spec: { containers: [{ name: "app", image: "registry.k8s.io/pause:3.10", ports: [{ containerPort: 8080 }], env: [{ name: "MODE", value: "bench" }], resources: { requests: { cpu: "10m", memory: "16Mi" } } }] },
  });
const cmBody = (name: string) => JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels: { app: "bench" } }, data: { "app.properties": "mode=bench\nlevel=info\n", key: "value" } });

/** `clients` clients each POSTing `perClient` objects; rate, p50, p99. */
async function creates(api: ServerProcess["api"], path: string, body: (name: string) => string, prefix: string, clients: number, perClient: number): Promise<{ rate: number; p50: number; p99: number; n: number }> {
  await Promise.all(Array.from({ length: clients }, async () => must(await api("/version"))));
  const lat: number[] = [];
  let seq = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < perClient; i++) {
        const t = performance.now();
        await must(await api(path, { method: "POST", headers: json, body: body(`${prefix}-${seq++}`) }), [201]);
        lat.push(performance.now() - t);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  return { rate: lat.length / secs, p50: percentile(lat, 50), p99: percentile(lat, 99), n: lat.length };
}

/** Scheduling: hollow nodes (child process) held by a taint, pods created pending, then the taint removed. */
async function scheduling(root: string, nodes: number, pods: number, log: (m: string) => void): Promise<KeyFigure> {
  const server = await startServerProcess({ root, env: { KUBUN_LOG_LEVEL: "warn" } });
  let hollow: ReturnType<typeof Bun.spawn> | undefined;
  const ac = new AbortController();
  try {
    const api = server.api;
    await ensureNamespace(api, "sched");
    const caFile = join(server.dataDir, "bench-ca.pem");
    writeFileSync(caFile, server.caPEM);
    hollow = Bun.spawn([process.execPath, join(import.meta.dir, "hollow-proc.ts"), server.url, server.adminToken, caFile, String(nodes), HOLD_TAINT], { stdout: "pipe", stderr: "inherit" });
    const reader = (hollow.stdout as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    if (!new TextDecoder().decode(first.value).includes("ready")) throw new Error("hollow nodes did not start");
    // Bound pods, counted from a watch as a user would see them.
    const bound = new Set<string>();
    const rv = (await must(await api("/api/v1/namespaces/sched/pods?limit=1"))).metadata.resourceVersion;
    const w = await api(`/api/v1/namespaces/sched/pods?watch=1&resourceVersion=${rv}`, { signal: ac.signal });
    void (async () => {
      const dec = new TextDecoder();
      let buf = "";
      try {
        for await (const chunk of w.body as ReadableStream<Uint8Array>) {
          buf += dec.decode(chunk, { stream: true });
          let i;
          while ((i = buf.indexOf("\n")) >= 0) {
            const ev = JSON.parse(buf.slice(0, i) || "{}");
            buf = buf.slice(i + 1);
            if (ev.object?.spec?.nodeName) bound.add(ev.object.metadata.name);
          }
        }
      } catch {
        // aborted
      }
    })();
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < pods) await must(await api("/api/v1/namespaces/sched/pods", { method: "POST", headers: json, body: podBody(`p-${next++}`) }), [201]);
      }),
    );
    await Bun.sleep(1000); // every pod seen (and found unschedulable) by the scheduler
    if (bound.size) throw new Error(`${bound.size} pods bound while every node was tainted`);
    // The nodes become eligible: the taint goes from every node at once.
    const t0 = performance.now();
    let n = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (n < nodes)
          await must(await api(`/api/v1/nodes/bench-${n++}`, { method: "PATCH", headers: { "Content-Type": "application/merge-patch+json" }, body: JSON.stringify({ spec: { taints: null } }) }));
      }),
    );
    const untaintS = (performance.now() - t0) / 1000;
    const deadline = performance.now() + 300_000;
    while (bound.size < pods && performance.now() < deadline) await Bun.sleep(10);
    const secs = (performance.now() - t0) / 1000;
    log(`scheduling: ${bound.size}/${pods} bound in ${secs.toFixed(2)} s`);
    if (bound.size < pods) return { value: bound.size / secs, note: `only ${bound.size}/${pods} bound after ${secs.toFixed(0)} s` };
    return { value: pods / secs, note: `${pods} pods on ${nodes} hollow nodes, bound ${secs.toFixed(2)} s after the taints went (removing them took ${untaintS.toFixed(2)} s)` };
  } finally {
    ac.abort();
    hollow?.kill("SIGTERM");
    await Promise.race([hollow?.exited, Bun.sleep(5000)]);
    hollow?.kill("SIGKILL");
    await server.cleanup();
  }
}

/** start → /readyz: median of `o.starts` fresh starts. */
export async function measureStart(root: string, o: KeyFigureOptions): Promise<Map<string, KeyFigure>> {
  const starts: number[] = [];
  for (let i = 0; i < o.starts; i++) starts.push(await timeStart(root));
  o.log(`start → /readyz ${starts.map((s) => s.toFixed(2)).join(", ")} s`);
  return new Map([["footprint.readyz", { value: percentile(starts, 50), note: `median of ${starts.length} fresh starts (${starts.map((s) => s.toFixed(2)).join(", ")} s), no agent` }]]);
}

/** Pod and ConfigMap creates at 50 clients, then listing `o.listPods` pods, on a server without scheduler. */
export async function measureApi(root: string, o: KeyFigureOptions): Promise<Map<string, KeyFigure>> {
  const out = new Map<string, KeyFigure>();
  const server = await startServerProcess({ root, args: ["--disable-scheduler"], env: { KUBUN_LOG_LEVEL: "warn" } });
  try {
    const api = server.api;
    await ensureNamespace(api, "bench");
    const pods = await creates(api, "/api/v1/namespaces/bench/pods", podBody, "pod", 50, o.perClient);
    out.set("api.create.50.rate", { value: pods.rate, note: `${pods.n} pods, p50 ${ms(pods.p50)}` });
    out.set("api.create.50.p99", { value: pods.p99, note: "" });
    const cms = await creates(api, "/api/v1/namespaces/bench/configmaps", cmBody, "cm", 50, o.perClient);
    out.set("crd.configmap.rate", { value: cms.rate, note: `${cms.n} ConfigMaps, p50 ${ms(cms.p50)}` });
    out.set("crd.configmap.p99", { value: cms.p99, note: "" });
    o.log(`pods ${pods.rate.toFixed(0)}/s p99 ${ms(pods.p99)}; ConfigMaps ${cms.rate.toFixed(0)}/s p99 ${ms(cms.p99)}`);

    // Fill up to listPods, then list them whole and in pages of 500.
    let next = pods.n;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < o.listPods) await must(await api("/api/v1/namespaces/bench/pods", { method: "POST", headers: json, body: podBody(`fill-${next++}`) }), [201]);
      }),
    );
    for (const [id, limit] of [["api.list.whole", 0], ["api.list.paged", 500]] as const) {
      const { items: n, receiveMs: times, decodeMs: decodes } = await listRuns(api, "/api/v1/namespaces/bench/pods", limit, o.listRuns);
      out.set(id, { value: percentile(times, 50), note: `${n} pods, median of ${times.length} to the last byte (+ ${ms(percentile(decodes, 50))} JSON.parse here)` });
      o.log(`${id}: ${ms(percentile(times, 50))} (${n} pods)`);
    }
  } finally {
    await Promise.race([server.kill("SIGTERM"), Bun.sleep(10_000)]);
    await server.cleanup();
  }
  return out;
}

/** Scheduling `o.schedPods` pending pods on `o.schedNodes` hollow nodes (none: an empty map). */
export async function measureScheduling(root: string, o: KeyFigureOptions): Promise<Map<string, KeyFigure>> {
  if (o.schedNodes <= 0) return new Map();
  return new Map([[`scheduler.${o.schedNodes}.${o.schedPods}`, await scheduling(root, o.schedNodes, o.schedPods, o.log)]]);
}
