// Issue 14 (Ingress): the switches — `--disable ingress` / `--disable-ingress` turn the agent's proxy off, the ports
// come from --ingress-http-port/--ingress-https-port (or their env), and a server started with `--disable ingress`
// creates no default IngressClass.
import { expect, test } from "bun:test";
import { agentOptions } from "../../cmd/agent.ts";
import { agentFlags } from "../../internal/config/flags.ts";
import { resolve } from "../../internal/config/load.ts";
import { startTestCluster } from "../helpers/cluster.ts";

const settings = (parsed: Record<string, unknown>, raw: string[], env: Record<string, string> = {}) =>
  resolve(agentFlags, { config: "/nonexistent/kubun.yaml", ...parsed }, raw, env);
const ingressOf = (s: ReturnType<typeof settings>) => agentOptions(s, "https://x:6443", "t", new AbortController().signal).ingress!;

test("agent flags: ports, --disable ingress, --disable-ingress, env", () => {
  expect(ingressOf(settings({}, []))).toEqual({ disabled: false, httpPort: 80, httpsPort: 443, accessLog: false });
  expect(ingressOf(settings({ "ingress-http-port": "8080", "ingress-https-port": "8443", "ingress-access-log": true }, ["--ingress-http-port", "8080", "--ingress-https-port", "8443", "--ingress-access-log"]))).toEqual({ disabled: false, httpPort: 8080, httpsPort: 8443, accessLog: true });
  expect(ingressOf(settings({ disable: ["ingress"] }, ["--disable", "ingress"])).disabled).toBe(true);
  expect(ingressOf(settings({ "disable-ingress": true }, ["--disable-ingress"])).disabled).toBe(true);
  expect(ingressOf(settings({}, [], { KUBUN_DISABLE_INGRESS: "true", KUBUN_INGRESS_HTTP_PORT: "81" }))).toMatchObject({ disabled: true, httpPort: 81 });
  // The node tells the status controller whether it serves Ingress traffic.
  const labels = (s: ReturnType<typeof settings>) => agentOptions(s, "https://x:6443", "t", new AbortController().signal).nodeLabels;
  expect(labels(settings({ "node-label": ["zone=a"] }, ["--node-label", "zone=a"]))).toEqual(["zone=a", "kubun.dev/ingress=true"]);
  expect(labels(settings({ disable: ["ingress"] }, ["--disable", "ingress"]))).toEqual(["kubun.dev/ingress=false"]);
});

test("a server with --disable ingress has no default IngressClass", async () => {
  const cluster = await startTestCluster({ ingressClass: false });
  try {
    const r = await cluster.api("/apis/networking.k8s.io/v1/ingressclasses");
    expect((await r.json()).items).toEqual([]);
  } finally {
    await cluster.stop();
  }
}, 60_000);
