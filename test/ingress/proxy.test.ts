// Issue 14 (Ingress): the agents' ingress proxy with real nodes in test-made network namespaces. The client is this
// test process on the host side of the test world's LAN (a veth outside every node's namespace); backends are
// busybox httpd pods. Routing by host and path on both nodes, 404 for an unknown host, the default backend, TLS by
// SNI from a Secret (and a changed Secret served), a dead endpoint retried, X-Forwarded-* seen by the backend
// (busybox httpd CGI), ssl-redirect, status addresses and kubectl's columns.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { refs } from "../../internal/client/refs.ts";
import { run } from "../../internal/runtime/run.ts";
import { busyboxPod, startEnv, waitPod, waitFor, type Env } from "../kubelet/setup.ts";

let env: Env;
let tmp: string;
const TLS_TIMEOUT = 60_000;

beforeAll(async () => {
  mkdirSync(join(import.meta.dir, "../../.tmp"), { recursive: true });
  tmp = mkdtempSync(join(import.meta.dir, "../../.tmp/ingress-"));
  env = await startEnv(["node-1", "node-2"]);
}, 180_000);
afterAll(async () => {
  await env?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 60_000);

const k = (args: string[], stdin?: string) => env.cluster.kubectl(args, { stdin });
const apply = async (obj: unknown) => {
  const r = await k(["apply", "-f", "-"], JSON.stringify(obj));
  expect(r.stderr).toBe("");
};

/** busybox httpd answering `body` on /, and a CGI that prints the request's environment. */
function server(name: string, node: string, body: string, labels: Record<string, string>) {
  const script = [
    "mkdir -p /www/cgi-bin",
    `echo ${body} > /www/index.html`,
    `mkdir -p /www/b && echo ${body}-under-b > /www/b/index.html && echo ${body}-exact > /www/exact`,
    "printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\nenv\\n' > /www/cgi-bin/env",
    "chmod +x /www/cgi-bin/env",
    "exec httpd -f -p 80 -h /www",
  ].join(" && ");
  const pod = busyboxPod(name, node, script);
  pod.metadata!.labels = labels;
  return pod;
}

function service(name: string, app: string) {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec: { selector: { app }, ports: [{ name: "http", port: 8080, targetPort: 80 }] } };
}

const backend = (name: string, port: Record<string, unknown> = { number: 8080 }) => ({ service: { name, port } });

/** A GET through a node's ingress, with a Host header (plain HTTP). */
async function get(nodeIP: string, host: string, path = "/", init: RequestInit = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(`http://${nodeIP}${path}`, { ...init, headers: { host, ...(init.headers as Record<string, string>) }, redirect: "manual", signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.text()).trim(), headers: res.headers };
}

async function openssl(args: string[]) {
  const r = await run(["openssl", ...args], { allowFail: true });
  if (r.code !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
}

/** A CA and a certificate for `host` signed by it (PEM strings). */
async function makeCert(tag: string, host: string): Promise<{ ca: string; cert: string; key: string }> {
  const d = join(tmp, tag);
  mkdirSync(d, { recursive: true });
  await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(d, "ca.key"), "-out", join(d, "ca.crt"), "-subj", `/CN=test-ca-${tag}`, "-days", "2"]);
  await openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(d, "tls.key"), "-out", join(d, "tls.csr"), "-subj", `/CN=${host}`]);
  Bun.write(join(d, "ext.cnf"), `subjectAltName=DNS:${host}\n`);
  await Bun.sleep(10);
  await openssl(["x509", "-req", "-in", join(d, "tls.csr"), "-CA", join(d, "ca.crt"), "-CAkey", join(d, "ca.key"), "-CAcreateserial", "-out", join(d, "tls.crt"), "-days", "2", "-extfile", join(d, "ext.cnf")]);
  const read = (f: string) => readFileSync(join(d, f), "utf8");
  return { ca: read("ca.crt"), cert: read("tls.crt"), key: read("tls.key") };
}

const tlsSecret = (name: string, c: { cert: string; key: string }) => ({
  apiVersion: "v1",
  kind: "Secret",
  type: "kubernetes.io/tls",
  metadata: { name, namespace: "default" },
  data: { "tls.crt": Buffer.from(c.cert).toString("base64"), "tls.key": Buffer.from(c.key).toString("base64") },
});

async function getTLS(nodeIP: string, host: string, ca: string, path = "/"): Promise<{ status: number; body: string }> {
  const res = await fetch(`https://${nodeIP}${path}`, { headers: { host }, tls: { ca, servername: host, rejectUnauthorized: true }, signal: AbortSignal.timeout(10_000) } as RequestInit);
  return { status: res.status, body: (await res.text()).trim() };
}

describe("ingress proxy on two nodes", () => {
  let ip1: string;
  let ip2: string;

  test("routes by host and path (Exact, Prefix) on both nodes; unknown host is 404; X-Forwarded-* reach the backend", async () => {
    ip1 = env.nodes[0]!.ip;
    ip2 = env.nodes[1]!.ip;
    await env.client.resource(refs.pods, "default").create(server("web-a", "node-1", "aaa", { app: "a" }) as any);
    await env.client.resource(refs.pods, "default").create(server("web-b", "node-2", "bbb", { app: "b" }) as any);
    await apply(service("svc-a", "a"));
    await apply(service("svc-b", "b"));
    await waitPod(env, "web-a", (p) => p.status?.phase === "Running", "Running", 60_000);
    await waitPod(env, "web-b", (p) => p.status?.phase === "Running", "Running", 60_000);
    await apply({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: "web", namespace: "default" },
      spec: {
        rules: [
          {
            host: "a.test",
            http: {
              paths: [
                { path: "/", pathType: "Prefix", backend: backend("svc-a") },
                { path: "/b", pathType: "Prefix", backend: backend("svc-b", { name: "http" }) },
                { path: "/exact", pathType: "Exact", backend: backend("svc-b") },
              ],
            },
          },
          { host: "b.test", http: { paths: [{ path: "/", pathType: "Prefix", backend: backend("svc-b") }] } },
        ],
      },
    });
    for (const ip of [ip1, ip2]) {
      await waitFor(`a.test through ${ip}`, async () => (await get(ip, "a.test")).body === "aaa", 30_000);
      expect(await get(ip, "b.test")).toMatchObject({ status: 200, body: "bbb" });
      expect(await get(ip, "a.test", "/b/")).toMatchObject({ status: 200, body: "bbb-under-b" });
      expect(await get(ip, "a.test", "/exact")).toMatchObject({ status: 200, body: "bbb-exact" });
      // Element-wise Prefix: /bx is not under /b, so it goes to a (which has no such file).
      expect((await get(ip, "a.test", "/bx")).status).toBe(404);
      expect(await get(ip, "A.TEST:80", "/")).toMatchObject({ status: 200, body: "aaa" });
      const unknown = await get(ip, "nobody.test");
      expect(unknown.status).toBe(404);
    }
    const envOut = (await get(ip1, "a.test", "/cgi-bin/env", { headers: { "x-forwarded-for": "203.0.113.9" } })).body;
    const hostIP = `${env.world.subnet}.254`;
    expect(envOut).toContain(`HTTP_X_FORWARDED_FOR=203.0.113.9, ${hostIP}`);
    expect(envOut).toContain("HTTP_X_FORWARDED_PROTO=http");
    expect(envOut).toContain("HTTP_X_FORWARDED_HOST=a.test");
    expect(envOut).toContain(`HTTP_X_REAL_IP=${hostIP}`);
  }, 150_000);

  test("status lists both nodes; kubectl get ingress columns", async () => {
    const addr = await waitFor("status addresses", async () => {
      const r = await k(["get", "ingress", "web", "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}"]);
      return r.stdout.split(" ").length === 2 ? r.stdout : undefined;
    });
    expect(addr.split(" ").sort()).toEqual([ip1, ip2].sort());
    const table = await k(["get", "ingress", "web"]);
    expect(table.stdout.split("\n")[0]!.split(/\s+/)).toEqual(["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]);
    expect(table.stdout).toMatch(new RegExp(`web\\s+kubun\\s+a\\.test,b\\.test\\s+${[ip1, ip2].sort().join(",").replaceAll(".", "\\.")}\\s+80\\s+`));
  });

  test("a dead endpoint is retried on the next one", async () => {
    // A Ready pod of svc-a that listens on nothing: connections to it are refused.
    const dead = busyboxPod("dead-a", "node-2", "exec sleep 3600");
    dead.metadata!.labels = { app: "a" };
    await env.client.resource(refs.pods, "default").create(dead as any);
    await waitPod(env, "dead-a", (p) => p.status?.phase === "Running" && !!p.status.podIP, "Running", 60_000);
    await waitFor("two endpoints for svc-a", async () => {
      const r = await k(["get", "endpointslices", "-l", "kubernetes.io/service-name=svc-a", "-o", "jsonpath={.items[*].endpoints[*].addresses[0]}"]);
      return r.stdout.split(" ").filter(Boolean).length === 2;
    });
    await Bun.sleep(500);
    for (let i = 0; i < 8; i++) expect(await get(ip1, "a.test")).toMatchObject({ status: 200, body: "aaa" });
    await k(["delete", "pod", "dead-a", "--grace-period=0", "--force"]);
  }, 90_000);

  test("the default backend answers unknown hosts", async () => {
    await apply({ apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "fallback", namespace: "default" }, spec: { defaultBackend: backend("svc-b") } });
    await waitFor("default backend", async () => (await get(ip2, "nobody.test")).body === "bbb", 20_000);
    expect(await get(ip1, "nobody.test")).toMatchObject({ status: 200, body: "bbb" });
    await k(["delete", "ingress", "fallback"]);
    await waitFor("404 again", async () => (await get(ip1, "nobody.test")).status === 404, 20_000);
  }, 60_000);

  test("TLS by SNI from a Secret; a changed Secret is served; ssl-redirect", async () => {
    const one = await makeCert("one", "a.test");
    const other = await makeCert("other", "b.test");
    await apply(tlsSecret("a-tls", one));
    await apply(tlsSecret("b-tls", other));
    await apply({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: "secure", namespace: "default", annotations: { "kubun.dev/ssl-redirect": "true" } },
      spec: {
        tls: [{ hosts: ["a.test"], secretName: "a-tls" }, { hosts: ["b.test"], secretName: "b-tls" }],
        rules: [{ host: "a.test", http: { paths: [{ path: "/secure", pathType: "Prefix", backend: backend("svc-b") }] } }],
      },
    });
    for (const ip of [ip1, ip2]) {
      const r = await waitFor(`HTTPS on ${ip}`, () => getTLS(ip, "a.test", one.ca).catch(() => undefined), TLS_TIMEOUT);
      expect(r).toMatchObject({ status: 200, body: "aaa" });
      // SNI picks b.test's certificate (another CA): a.test's CA does not verify it, its own does.
      expect(await getTLS(ip, "b.test", other.ca)).toMatchObject({ status: 200, body: "bbb" });
      await expect(getTLS(ip, "b.test", one.ca)).rejects.toThrow();
    }
    const envOut = (await getTLS(ip1, "a.test", one.ca, "/cgi-bin/env")).body;
    expect(envOut).toContain("HTTP_X_FORWARDED_PROTO=https");
    // Plain HTTP to a TLS host of the annotated Ingress is redirected.
    const redirect = await get(ip1, "a.test", "/secure?x=1");
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get("location")).toBe("https://a.test/secure?x=1");

    // The Secret changes: the new certificate (from a third CA) is served.
    const renewed = await makeCert("renewed", "a.test");
    await apply(tlsSecret("a-tls", renewed));
    for (const ip of [ip1, ip2]) {
      await waitFor(`renewed certificate on ${ip}`, () => getTLS(ip, "a.test", renewed.ca).then((r) => r.status === 200).catch(() => false), TLS_TIMEOUT);
      await expect(getTLS(ip, "a.test", one.ca)).rejects.toThrow();
    }
  }, 120_000);
});
