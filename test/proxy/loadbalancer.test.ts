// Services of type LoadBalancer (ServiceLB) on two real nodes (agents in test-made network namespaces,
// test/kubelet/world.ts) and an outside client namespace on their LAN: status.loadBalancer.ingress gets the node
// IPs, the ports answer on each node's address, conflicts are reported, externalTrafficPolicy Local keeps the
// client's address, the enablelb node label narrows the nodes, another loadBalancerClass is left alone.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Event, Node, Pod, Service } from "kubernetes-types/core/v1";
import { refs } from "../../internal/client/refs.ts";
import { run } from "../../internal/runtime/run.ts";
import { busyboxPod, startEnv, waitFor, type Env } from "../kubelet/setup.ts";

let env: Env;
let client: { netns: string; ip: string };
const nodeIP: string[] = [];

// Each pod answers its name on / and "<name> <client address>" on /cgi-bin/ip.
const CGI = (name: string) => `#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n%s %s\\n' ${name} "$REMOTE_ADDR"\n`;
const SERVE = (name: string) =>
  `mkdir -p /www/cgi-bin && echo ${name} > /www/index.html && echo "$CGI" > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && exec httpd -f -p 8080 -h /www`;

beforeAll(async () => {
  env = await startEnv(["node-1", "node-2"]);
  for (const n of env.nodes) nodeIP.push(n.ip);
  // The outside client: its own namespace on the nodes' LAN (removed with the world: same prefix).
  const prefix = env.nodes[0]!.netns.replace(/-n1$/, "");
  const subnet = env.nodes[0]!.ip.replace(/\.\d+$/, "");
  client = { netns: `${prefix}-client`, ip: `${subnet}.200` };
  await run(["ip", "netns", "add", client.netns]);
  await run(["ip", "-n", client.netns, "link", "set", "lo", "up"]);
  await run(["ip", "-n", client.netns, "link", "add", "eth0", "type", "veth", "peer", "name", `${prefix}cl`, "netns", `${prefix}-lan`]);
  await run(["ip", "-n", `${prefix}-lan`, "link", "set", `${prefix}cl`, "master", "br0", "up"]);
  await run(["ip", "-n", client.netns, "addr", "add", `${client.ip}/24`, "dev", "eth0"]);
  await run(["ip", "-n", client.netns, "link", "set", "eth0", "up"]);
  for (const [i, n] of env.nodes.entries()) {
    const name = `lb${i + 1}`;
    const pod = busyboxPod(name, n.name, SERVE(name), {}, { env: [{ name: "CGI", value: CGI(name) }] });
    pod.metadata!.labels = { app: "lb", [`on-node-${i + 1}`]: "yes" };
    await pods().create(pod);
  }
  for (const i of [1, 2]) await waitFor(`lb${i} running`, async () => (await pods().get(`lb${i}`)).status?.phase === "Running", 60_000);
}, 180_000);

afterAll(async () => {
  await env?.cleanup();
}, 60_000);

const pods = () => env.client.resource<Pod>(refs.pods, "default");
const services = () => env.client.resource<Service>(refs.services, "default");
const nodes = () => env.client.resource<Node>(refs.nodes);

async function get(url: string): Promise<{ ok: boolean; body: string; refused: boolean }> {
  const r = await run(["nsenter", `--net=/var/run/netns/${client.netns}`, "timeout", "3", "busybox", "wget", "-q", "-O", "-", url], { allowFail: true, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  return { ok: r.code === 0, body: r.stdout.trim(), refused: /refused/i.test(r.stderr) };
}

async function lb(name: string, port: number, spec: Partial<Service["spec"]> = {}): Promise<Service> {
  return services().create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name },
    spec: { type: "LoadBalancer", selector: { app: "lb" }, ports: [{ name: "http", port, targetPort: 8080, protocol: "TCP" }], ...spec },
  });
}

const ingressOf = async (name: string) => ((await services().get(name)).status?.loadBalancer?.ingress ?? []).map((i) => i.ip).join(",");
const sorted = (xs: string[]) => [...xs].sort().join(",");

/** Which pods answered n requests to url. */
async function answers(url: string, n: number): Promise<string[]> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await get(url);
    seen.add(r.ok ? r.body.split(" ")[0]! : "error");
  }
  return [...seen].sort();
}

describe("LoadBalancer Services (ServiceLB)", () => {
  test("ingress status lists every node; the port answers on each node's address from outside, spread over the pods", async () => {
    await lb("web", 80);
    await waitFor("ingress status", async () => (await ingressOf("web")) === sorted(nodeIP), 30_000);
    for (const ip of nodeIP) {
      await waitFor(`web on ${ip}:80`, async () => (await get(`http://${ip}:80/`)).ok, 30_000);
      expect(await answers(`http://${ip}:80/`, 16)).toEqual(["lb1", "lb2"]);
    }
    const r = await env.cluster.kubectl(["get", "svc", "web"]);
    expect(r.stdout).toMatch(new RegExp(`web\\s+LoadBalancer\\s+\\S+\\s+${sorted(nodeIP)}\\s+80:\\d+/TCP`));
  }, 120_000);

  test("a second Service on the same port/protocol gets a PortConflict event and no ingress; it takes over when the first goes", async () => {
    const second = await lb("web-b", 80);
    const events = () => env.client.resource<Event>(refs.events, "default").list({ fieldSelector: "involvedObject.name=web-b" } as any);
    const ev = await waitFor("conflict event", async () => (await events()).items.find((e) => e.reason === "PortConflict"), 30_000);
    expect(ev.type).toBe("Warning");
    expect(ev.message).toContain("port 80/TCP is already used by LoadBalancer Service default/web");
    expect(ev.involvedObject.uid).toBe(second.metadata!.uid);
    expect(await ingressOf("web-b")).toBe("");
    expect(await ingressOf("web")).toBe(sorted(nodeIP)); // the first keeps it
    // The same port on UDP is no conflict.
    await lb("web-udp", 80, { ports: [{ name: "dns", port: 80, targetPort: 8080, protocol: "UDP" }] });
    await waitFor("udp ingress", async () => (await ingressOf("web-udp")) === sorted(nodeIP), 30_000);
    await services().delete("web");
    await waitFor("web-b takes the port", async () => (await ingressOf("web-b")) === sorted(nodeIP), 30_000);
    await waitFor("web-b answers", async () => (await get(`http://${nodeIP[0]}:80/`)).ok, 30_000);
  }, 120_000);

  test("externalTrafficPolicy Local: only nodes with an endpoint, client address kept, healthCheckNodePort allocated", async () => {
    const svc = await lb("local", 81, { externalTrafficPolicy: "Local", selector: { app: "lb", "on-node-2": "yes" } });
    expect(svc.spec!.healthCheckNodePort).toBeGreaterThanOrEqual(30000);
    expect(svc.spec!.healthCheckNodePort).not.toBe(svc.spec!.ports![0]!.nodePort);
    await waitFor("ingress = node-2", async () => (await ingressOf("local")) === nodeIP[1], 30_000);
    const r = await waitFor("local answers", async () => {
      const x = await get(`http://${nodeIP[1]}:81/cgi-bin/ip`);
      return x.ok ? x : undefined;
    }, 30_000);
    expect(r.body.replace(/\[::ffff:([\d.]+)\]/, "$1")).toBe(`lb2 ${client.ip}`);
    // The health check node port, as kube-proxy's: 200 where an endpoint runs, 503 elsewhere.
    const hc = svc.spec!.healthCheckNodePort!;
    const check = async (ip: string) => {
      const res = await fetch(`http://${ip}:${hc}/`);
      return { status: res.status, body: await res.json() };
    };
    const on2 = await waitFor("health check on node-2", () => check(nodeIP[1]!).catch(() => undefined), 30_000);
    expect(on2).toEqual({ status: 200, body: { service: { namespace: "default", name: "local" }, localEndpoints: 1, serviceProxyHealthy: true } });
    expect((await check(nodeIP[0]!)).status).toBe(503);
    // Cluster policy masquerades: the pod sees a node address, not the client's.
    const c = await get(`http://${nodeIP[0]}:80/cgi-bin/ip`);
    expect(c.ok).toBe(true);
    expect(c.body).not.toContain(client.ip);
  }, 120_000);

  test("nodes labelled svccontroller.k3s.cattle.io/enablelb=true: only they serve LoadBalancers", async () => {
    await nodes().patch("node-1", "merge", { metadata: { labels: { "svccontroller.k3s.cattle.io/enablelb": "true" } } });
    try {
      await waitFor("ingress = node-1", async () => (await ingressOf("web-b")) === nodeIP[0], 30_000);
      await waitFor("node-2 no longer answers :80", async () => !(await get(`http://${nodeIP[1]}:80/`)).ok, 30_000);
      const map = (await run(["ip", "netns", "exec", env.nodes[1]!.netns, "nft", "list", "map", "ip", "kubun", "service-ips"])).stdout;
      expect(map).toContain(`${nodeIP[0]} . tcp . 80 : goto ext-default/web-b/tcp/http`);
      expect(map).not.toContain(`${nodeIP[1]} . tcp . 80`);
      expect((await get(`http://${nodeIP[0]}:80/`)).ok).toBe(true);
      // ETP Local with its endpoint on node-2, which is not in the pool: no address.
      await waitFor("local gets none", async () => (await ingressOf("local")) === "", 30_000);
    } finally {
      await nodes().patch("node-1", "merge", { metadata: { labels: { "svccontroller.k3s.cattle.io/enablelb": null } } });
    }
    await waitFor("ingress = both again", async () => (await ingressOf("web-b")) === sorted(nodeIP), 30_000);
  }, 120_000);

  test("nodes running the ingress proxy (kubun.dev/ingress=true) keep 80/443 for it: a LoadBalancer on 80 is served elsewhere, or reported", async () => {
    const label = (node: string, v: string | null) => nodes().patch(node, "merge", { metadata: { labels: { "kubun.dev/ingress": v } } });
    try {
      await label("node-1", "true");
      await waitFor("web-b on node-2 only", async () => (await ingressOf("web-b")) === nodeIP[1], 30_000);
      expect(await ingressOf("local")).toBe(nodeIP[1]); // port 81: not the proxy's
      await label("node-2", "true");
      await waitFor("web-b on no node", async () => (await ingressOf("web-b")) === "", 30_000);
      const events = await env.client.resource<Event>(refs.events, "default").list({ fieldSelector: "involvedObject.name=web-b" } as any);
      expect(events.items.some((e) => e.reason === "PortConflict" && e.message!.includes("used by the ingress proxy"))).toBe(true);
    } finally {
      await label("node-1", null);
      await label("node-2", null);
    }
    await waitFor("web-b on both again", async () => (await ingressOf("web-b")) === sorted(nodeIP), 30_000);
  }, 120_000);

  test("another loadBalancerClass is left alone; allocateLoadBalancerNodePorts false: no node port, still served", async () => {
    await lb("foreign", 82, { loadBalancerClass: "example.com/other" });
    const noNP = await lb("no-nodeport", 83, { allocateLoadBalancerNodePorts: false });
    expect(noNP.spec!.ports![0]!.nodePort).toBeUndefined();
    await waitFor("no-nodeport ingress", async () => (await ingressOf("no-nodeport")) === sorted(nodeIP), 30_000);
    await waitFor("no-nodeport answers", async () => (await get(`http://${nodeIP[1]}:83/`)).ok, 30_000);
    // Synced after "foreign" was created: the foreign one got nothing and is not served.
    expect(await ingressOf("foreign")).toBe("");
    expect((await get(`http://${nodeIP[0]}:82/`)).ok).toBe(false);
  }, 120_000);
});
