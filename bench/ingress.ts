// `bun run bench:ingress [--quick]`: requests/s, latency and the ingress's CPU per request through kubun's ingress
// proxy (node IP, Host header, Bun.serve + fetch) against the same backend hit directly. One real node in test-made
// network namespaces; the load generator (bench/lib/loadgen.ts) runs inside the node's namespace for both, with the
// same concurrency. Two backends:
//   - a busybox httpd pod, which closes its connection after every answer (a new backend connection per request);
//   - a keep-alive HTTP server (Bun.serve run by this script inside the node's namespace, behind a selector-less
//     Service and its own EndpointSlice), so the proxy's pooled, reused backend connections are measured too — the
//     common case with real backends, as Traefik's and nginx's keep-alive pools per backend are.
// Direct and ingress runs alternate in order (direct first at one concurrency, ingress first at the next) so neither
// always inherits the other's TIME_WAIT sockets. CPU per request is the agent process's CPU time (the proxy runs in
// it) during the ingress run, less its idle rate measured during the direct run. Traefik (what k3s ships) cannot be
// installed on this machine (no image registry), so the comparison is with the direct hit: the proxy's cost.
import "../test/helpers/jitpolicy.ts"; // first of all: kubun's JIT options for the components this process runs
import "../test/helpers/tmpdir.ts"; // first: temp dirs under <repo>/.tmp
import { loadavg } from "node:os";
import { join } from "node:path";
import { refs } from "../internal/client/refs.ts";
import { inNetns } from "../internal/runtime/netns.ts";
import { busyboxPod, startEnv, waitFor, waitPod } from "../test/kubelet/setup.ts";
import { processCpuMs } from "./lib/machine.ts";
import { report, type Figure } from "./lib/report.ts";

const quick = process.argv.includes("--quick");
const SECONDS = quick ? 3 : 10;
const CONCURRENCY = [1, 16];
const KEEPALIVE_PORT = 18080;

interface Load {
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}


const loadStart = loadavg()[0]!;
const env = await startEnv(["bench-1"]);
let keepalive: ReturnType<typeof Bun.serve> | undefined;
try {
  const node = env.nodes[0]!;
  const agentPid = node.proc!.pid;
  const pod = busyboxPod("web", "bench-1", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 80 -h /www");
  pod.metadata!.labels = { app: "web" };
  await env.client.resource(refs.pods, "default").create(pod as any);
  const running = await waitPod(env, "web", (p) => p.status?.phase === "Running" && !!p.status.podIP, "Running", 60_000);
  keepalive = inNetns(`/var/run/netns/${node.netns}`, () => Bun.serve({ hostname: node.ip, port: KEEPALIVE_PORT, fetch: () => new Response("hello\n") }));
  const apply = (obj: unknown) => env.cluster.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify(obj) });
  await apply({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec: { selector: { app: "web" }, ports: [{ port: 80 }] } });
  await apply({ apiVersion: "v1", kind: "Service", metadata: { name: "ka", namespace: "default" }, spec: { ports: [{ name: "http", port: 80 }] } });
  await apply({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "ka-1", namespace: "default", labels: { "kubernetes.io/service-name": "ka" } },
    addressType: "IPv4",
    ports: [{ name: "http", port: KEEPALIVE_PORT, protocol: "TCP" }],
    endpoints: [{ addresses: [node.ip], conditions: { ready: true } }],
  });
  const rule = (host: string, service: string) => ({ host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: service, port: { number: 80 } } } }] } });
  await apply({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "web", namespace: "default" },
    spec: { rules: [rule("web.bench", "web"), rule("ka.bench", "ka")] },
  });
  const load = async (url: string, host: string, conc: number, seconds = SECONDS): Promise<Load & { cpuS: number; wallS: number }> => {
    const cpu0 = processCpuMs(agentPid, "self") / 1000;
    const t0 = performance.now();
    const p = Bun.spawn(["nsenter", `--net=/var/run/netns/${node.netns}`, process.execPath, join(import.meta.dir, "lib", "loadgen.ts"), url, host, String(conc), String(seconds)], { stdout: "pipe", stderr: "inherit" });
    const out = await new Response(p.stdout).text();
    await p.exited;
    const r = JSON.parse(out.trim().split("\n").pop()!) as Load;
    return { ...r, cpuS: processCpuMs(agentPid, "self") / 1000 - cpu0, wallS: (performance.now() - t0) / 1000 };
  };
  const ingressURL = `http://${node.ip}/`;
  for (const host of ["web.bench", "ka.bench"]) await waitFor(`the ingress routes ${host}`, async () => (await load(ingressURL, host, 1, 1).catch(() => undefined))?.requests, 30_000);

  const figures: Figure[] = [];
  const backends = [
    { id: "", name: "busybox pod (new connection per request)", direct: `http://${running.status!.podIP}/`, host: "web.bench" },
    { id: "keepalive.", name: "keep-alive backend", direct: `http://${node.ip}:${KEEPALIVE_PORT}/`, host: "ka.bench" },
  ];
  let turn = 0;
  for (const b of backends) {
    for (const conc of CONCURRENCY) {
      let direct!: Awaited<ReturnType<typeof load>>, ingress!: Awaited<ReturnType<typeof load>>;
      if (turn++ % 2 === 0) {
        direct = await load(b.direct, "", conc);
        ingress = await load(ingressURL, b.host, conc);
      } else {
        ingress = await load(ingressURL, b.host, conc);
        direct = await load(b.direct, "", conc);
      }
      // The agent's own idle work (kubelet, proxy sync) while the direct run left the ingress alone.
      const idleRate = direct.cpuS / direct.wallS;
      const cpuPerReqUs = Math.max(0, ((ingress.cpuS - idleRate * ingress.wallS) / Math.max(ingress.requests, 1)) * 1e6);
      const line = `${b.name}, ${conc} in flight: direct ${direct.rps.toFixed(0)}/s p50 ${direct.p50Ms.toFixed(2)} ms p99 ${direct.p99Ms.toFixed(2)} ms; ingress ${ingress.rps.toFixed(0)}/s p50 ${ingress.p50Ms.toFixed(2)} ms p99 ${ingress.p99Ms.toFixed(2)} ms, ${cpuPerReqUs.toFixed(0)} µs agent CPU/request (errors ${direct.errors}/${ingress.errors})`;
      console.log(line);
      const what = b.id ? `keep-alive backend, ` : "";
      figures.push(
        { id: `ingress.${b.id}direct.${conc}.rate`, label: `direct ${b.id ? "keep-alive backend" : "pod"} hit, ${conc} in flight`, value: Math.round(direct.rps), unit: "req/s", better: "higher", note: `p50 ${direct.p50Ms.toFixed(2)} ms, p99 ${direct.p99Ms.toFixed(2)} ms` },
        { id: `ingress.${b.id}proxy.${conc}.rate`, label: `through the ingress, ${what}${conc} in flight`, value: Math.round(ingress.rps), unit: "req/s", better: "higher", note: `p50 ${ingress.p50Ms.toFixed(2)} ms, p99 ${ingress.p99Ms.toFixed(2)} ms, errors ${ingress.errors}` },
        { id: `ingress.${b.id}proxy.${conc}.p50`, label: `ingress p50 latency, ${what}${conc} in flight`, value: Number(ingress.p50Ms.toFixed(2)), unit: "ms", better: "lower", note: `direct p50 ${direct.p50Ms.toFixed(2)} ms` },
        { id: `ingress.${b.id}proxy.${conc}.cpu`, label: `ingress CPU per request, ${what}${conc} in flight`, value: Math.round(cpuPerReqUs), unit: "µs", better: "lower", note: "agent process CPU during the run, less its idle rate" },
      );
    }
  }
  console.log(`load average: ${loadStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at the end`);
  report("ingress", figures);
} finally {
  keepalive?.stop(true);
  await env.cleanup();
}
process.exit(0);
