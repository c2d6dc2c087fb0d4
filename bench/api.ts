// API server benchmark: pod creation throughput/latency at 1, 10 and 50 concurrent clients, listing
// 10,000 pods, and watch fan-out delay to 100 watchers. Runs a control plane in a temp dir on a random port.
// Usage: bun bench/api.ts [--pods 10000] [--watchers 100]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startControlPlane } from "../internal/server/controlplane.ts";
import { setLevel } from "../internal/log/log.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const TOTAL_PODS = arg("pods", 10_000);
const WATCHERS = arg("watchers", 100);

setLevel("warn");
const dataDir = mkdtempSync(join(tmpdir(), "kubun-bench-"));
const cp = await startControlPlane({ dataDir, port: 0, bindAddress: "127.0.0.1", advertiseAddress: "127.0.0.1" });
const base = cp.localURL;
const headers = { Authorization: `Bearer ${cp.adminToken}`, "Content-Type": "application/json" };
const call = (path: string, init: RequestInit = {}) => fetch(base + path, { ...init, headers: { ...headers, ...(init.headers ?? {}) }, tls: { ca: cp.caPEM } } as RequestInit);

await call("/api/v1/namespaces/default/serviceaccounts", { method: "POST", body: JSON.stringify({ metadata: { name: "default" } }) });

let seq = 0;
const podBody = () =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `bench-${++seq}`, labels: { app: "bench" } },
    spec: { containers: [{ name: "c", image: "registry.k8s.io/pause:3.10", resources: { requests: { cpu: "10m", memory: "16Mi" } } }] },
  });

async function createPod(): Promise<number> {
  const t = performance.now();
  const r = await call("/api/v1/namespaces/default/pods", { method: "POST", body: podBody() });
  if (r.status !== 201) throw new Error(`create failed: ${r.status} ${await r.text()}`);
  await r.arrayBuffer();
  return performance.now() - t;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const rows: string[][] = [["measure", "value"]];

for (const [clients, perClient] of [[1, 300], [10, 100], [50, 40]] as const) {
  const lat: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < perClient; i++) lat.push(await createPod());
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  rows.push([`create pods, ${clients} client(s)`, `${(lat.length / secs).toFixed(0)} pods/s, p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms`]);
}

// Fill up to TOTAL_PODS, then list them.
const missing = TOTAL_PODS - seq;
const fillers = 50;
await Promise.all(Array.from({ length: fillers }, async (_, k) => {
  for (let i = k; i < missing; i += fillers) await createPod();
}));
for (const [label, query] of [["list all pods (one response)", ""], ["list all pods (limit=500 pages)", "limit=500"]] as const) {
  const t = performance.now();
  let n = 0;
  let cont = "";
  do {
    const q = [query, cont ? `continue=${encodeURIComponent(cont)}` : ""].filter(Boolean).join("&");
    const r = await call(`/api/v1/namespaces/default/pods${q ? "?" + q : ""}`);
    const body = (await r.json()) as any;
    n += body.items.length;
    cont = body.metadata.continue ?? "";
  } while (cont);
  rows.push([`${label}, ${n} pods`, `${(performance.now() - t).toFixed(0)} ms`]);
}
{
  const t = performance.now();
  const r = await call(`/api/v1/namespaces/default/pods`, { headers: { Accept: "application/json;as=Table;v=v1;g=meta.k8s.io" } });
  await r.arrayBuffer();
  rows.push([`list ${TOTAL_PODS} pods as Table (kubectl get)`, `${(performance.now() - t).toFixed(0)} ms`]);
}

// Watch fan-out: time from a create's response to each watcher seeing the event.
{
  const rv = ((await (await call("/api/v1/namespaces/default/pods?limit=1")).json()) as any).metadata.resourceVersion;
  const seen = new Map<string, number[]>();
  const aborts: AbortController[] = [];
  await Promise.all(
    Array.from({ length: WATCHERS }, async () => {
      const ac = new AbortController();
      aborts.push(ac);
      const r = await call(`/api/v1/namespaces/default/pods?watch=1&resourceVersion=${rv}`, { signal: ac.signal });
      void (async () => {
        const reader = r.body!.getReader();
        const dec = new TextDecoder();
        let buf = "";
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            buf += dec.decode(value, { stream: true });
            let i;
            while ((i = buf.indexOf("\n")) >= 0) {
              const line = buf.slice(0, i);
              buf = buf.slice(i + 1);
              if (!line.trim()) continue;
              const ev = JSON.parse(line);
              const list = seen.get(ev.object.metadata.name) ?? [];
              list.push(performance.now());
              seen.set(ev.object.metadata.name, list);
            }
          }
        } catch {}
      })();
    }),
  );
  const delays: number[] = [];
  for (let k = 0; k < 20; k++) {
    const name = `bench-${seq + 1}`;
    const t = performance.now();
    await createPod();
    const deadline = Date.now() + 10_000;
    while ((seen.get(name)?.length ?? 0) < WATCHERS && Date.now() < deadline) await Bun.sleep(1);
    for (const at of seen.get(name) ?? []) delays.push(at - t);
  }
  rows.push([`watch fan-out to ${WATCHERS} watchers (create → event)`, `p50 ${pct(delays, 50).toFixed(1)} ms, p99 ${pct(delays, 99).toFixed(1)} ms`]);
  aborts.forEach((a) => a.abort());
}
rows.push(["server RSS after the run", `${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB (bench client in the same process)`]);

const w0 = Math.max(...rows.map((r) => r[0]!.length));
console.log(rows.map((r) => `${r[0]!.padEnd(w0)}  ${r[1]}`).join("\n"));
await cp.stop();
rmSync(dataDir, { recursive: true, force: true });
