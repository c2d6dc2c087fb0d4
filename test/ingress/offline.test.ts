// Issue 14 (Ingress), edge behaviour: a node whose agent is killed (-9) and restarted while its server is away keeps
// routing Ingress traffic (HTTP and HTTPS) from the state it saved in <data-dir>/agent/ingress.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { refs } from "../../internal/client/refs.ts";
import { run } from "../../internal/runtime/run.ts";
import { startTestCluster } from "../helpers/cluster.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { busyboxPod, startEnv, waitFor, waitPod, type Env } from "../kubelet/setup.ts";

let env: Env;
beforeAll(async () => {
  env = await startEnv(["node-i"], { clusterDataDir: tempDir("kubun-ingress-offline-cp-") });
}, 150_000);
afterAll(async () => {
  await env?.cleanup();
}, 60_000);

const get = async (ip: string, host: string) => {
  const res = await fetch(`http://${ip}/`, { headers: { host }, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.text()).trim() };
};
const getTLS = async (ip: string, host: string, ca: string) => {
  const res = await fetch(`https://${ip}/`, { headers: { host }, tls: { ca, servername: host }, signal: AbortSignal.timeout(5000) } as RequestInit);
  return { status: res.status, body: (await res.text()).trim() };
};

test("the ingress keeps serving after an agent restart with the server away", async () => {
  const node = env.nodes[0]!;
  const pod = busyboxPod("web", "node-i", "mkdir -p /www && echo offline-ok > /www/index.html && exec httpd -f -p 80 -h /www");
  pod.metadata!.labels = { app: "web" };
  await env.client.resource(refs.pods, "default").create(pod as any);
  await waitPod(env, "web", (p) => p.status?.phase === "Running", "Running", 60_000);
  const dir = tempDir("kubun-ingress-offline-tls-");
  mkdirSync(dir, { recursive: true });
  const ssl = (args: string[]) => run(["openssl", ...args]);
  await ssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-subj", "/CN=web.test", "-addext", "subjectAltName=DNS:web.test", "-days", "2"]);
  const cert = readFileSync(join(dir, "c.pem"), "utf8");
  const key = readFileSync(join(dir, "k.pem"), "utf8");
  rmSync(dir, { recursive: true, force: true });
  const apply = (o: unknown) => env.cluster.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify(o) });
  await apply({ apiVersion: "v1", kind: "Secret", type: "kubernetes.io/tls", metadata: { name: "web-tls", namespace: "default" }, data: { "tls.crt": btoa(cert), "tls.key": btoa(key) } });
  await apply({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec: { selector: { app: "web" }, ports: [{ port: 80 }] } });
  await apply({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "web", namespace: "default" },
    spec: { tls: [{ hosts: ["web.test"], secretName: "web-tls" }], rules: [{ host: "web.test", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] } }] },
  });
  await waitFor("the ingress answers", async () => (await get(node.ip, "web.test")).body === "offline-ok", 30_000);
  await waitFor("HTTPS answers", async () => (await getTLS(node.ip, "web.test", cert)).body === "offline-ok", 30_000);
  const stateFile = join(node.dataDir, "agent", "ingress", "cluster-state.json");
  await waitFor("the node to save the ingress state", async () => (await Bun.file(stateFile).text().catch(() => "")).includes('"web.test"'), 30_000);
  // The saved certificates are private to root.
  expect(statSync(join(node.dataDir, "agent", "ingress", "tls.json")).mode & 0o077).toBe(0);

  const { dataDir } = env.cluster;
  const port = Number(new URL(env.cluster.localURL).port);
  await env.cluster.stop();
  await node.kill9();
  await node.start();
  const r = await waitFor("the restarted agent's ingress answers offline", () => get(node.ip, "web.test").then((x) => (x.body === "offline-ok" ? x : undefined)).catch(() => undefined), 45_000).catch(async (e) => {
    console.error((await Bun.file(`${node.dataDir}/agent.log`).text()).slice(-5000));
    throw e;
  });
  expect(r.status).toBe(200);
  expect(await getTLS(node.ip, "web.test", cert)).toMatchObject({ status: 200, body: "offline-ok" });
  expect((await get(node.ip, "other.test")).status).toBe(404);

  // The server comes back for a clean teardown.
  env.cluster = (await startTestCluster({ dataDir, port } as any)) as any;
}, 180_000);
