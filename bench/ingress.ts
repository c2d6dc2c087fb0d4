// `bun run bench:ingress [--quick]`: requests/s and latency of a busybox httpd pod through kubun's ingress proxy
// (node IP, Host header, Bun.serve + fetch) against the same pod hit directly on its pod IP. One real node in
// test-made network namespaces; the load generator (bench/lib/loadgen.ts) runs inside the node's namespace for
// both, with the same concurrency. Traefik (what k3s ships) cannot be installed on this machine (no image
// registry), so the comparison is with the direct hit: the proxy's cost per request.
import "../test/helpers/tmpdir.ts"; // first: temp dirs under <repo>/.tmp
import { join } from "node:path";
import { refs } from "../internal/client/refs.ts";
import { busyboxPod, startEnv, waitFor, waitPod } from "../test/kubelet/setup.ts";
import { report } from "./lib/report.ts";

const quick = process.argv.includes("--quick");
const SECONDS = quick ? 3 : 10;
const CONCURRENCY = [1, 16];

const env = await startEnv(["bench-1"]);
try {
  const node = env.nodes[0]!;
  const pod = busyboxPod("web", "bench-1", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 80 -h /www");
  pod.metadata!.labels = { app: "web" };
  await env.client.resource(refs.pods, "default").create(pod as any);
  const running = await waitPod(env, "web", (p) => p.status?.phase === "Running" && !!p.status.podIP, "Running", 60_000);
  const apply = (obj: unknown) => env.cluster.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify(obj) });
  await apply({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec: { selector: { app: "web" }, ports: [{ port: 80 }] } });
  await apply({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "web", namespace: "default" },
    spec: { rules: [{ host: "web.bench", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] } }] },
  });
  const load = async (url: string, host: string, conc: number) => {
    const p = Bun.spawn(["nsenter", `--net=/var/run/netns/${node.netns}`, process.execPath, join(import.meta.dir, "lib", "loadgen.ts"), url, host, String(conc), String(SECONDS)], { stdout: "pipe", stderr: "inherit" });
    const out = await new Response(p.stdout).text();
    await p.exited;
    return JSON.parse(out.trim().split("\n").pop()!) as { requests: number; errors: number; rps: number; p50Ms: number; p99Ms: number };
  };
  await waitFor("the ingress routes to the pod", async () => (await load(`http://${node.ip}/`, "web.bench", 1).catch(() => undefined))?.requests, 30_000);

  const figures = [];
  for (const conc of CONCURRENCY) {
    const direct = await load(`http://${running.status!.podIP}/`, "", conc);
    const ingress = await load(`http://${node.ip}/`, "web.bench", conc);
    console.log(`concurrency ${conc}: direct ${direct.rps.toFixed(0)}/s p50 ${direct.p50Ms.toFixed(2)} ms p99 ${direct.p99Ms.toFixed(2)} ms; ingress ${ingress.rps.toFixed(0)}/s p50 ${ingress.p50Ms.toFixed(2)} ms p99 ${ingress.p99Ms.toFixed(2)} ms (errors ${direct.errors}/${ingress.errors})`);
    figures.push(
      { id: `ingress.direct.${conc}.rate`, label: `direct pod hit, ${conc} in flight`, value: Math.round(direct.rps), unit: "req/s", better: "higher" as const, note: `p50 ${direct.p50Ms.toFixed(2)} ms, p99 ${direct.p99Ms.toFixed(2)} ms` },
      { id: `ingress.proxy.${conc}.rate`, label: `through the ingress, ${conc} in flight`, value: Math.round(ingress.rps), unit: "req/s", better: "higher" as const, note: `p50 ${ingress.p50Ms.toFixed(2)} ms, p99 ${ingress.p99Ms.toFixed(2)} ms` },
      { id: `ingress.proxy.${conc}.p50`, label: `ingress p50 latency, ${conc} in flight`, value: Number(ingress.p50Ms.toFixed(2)), unit: "ms", better: "lower" as const, note: `direct p50 ${direct.p50Ms.toFixed(2)} ms` },
    );
  }
  report("ingress", figures);
} finally {
  await env.cleanup();
}
process.exit(0);
