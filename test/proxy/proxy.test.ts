// The service proxy against a real control plane, programming nftables inside a test-made node namespace with two
// pod namespaces and an outside client (test/proxy/world.ts). Services and EndpointSlices are created by hand.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import { joinCluster } from "../../internal/auth/join.ts";
import { createClient, type Client } from "../../internal/client/client.ts";
import { refs } from "../../internal/client/refs.ts";
import { startProxy } from "../../internal/proxy/index.ts";
import { run } from "../../internal/runtime/run.ts";
import { nftRunner, transaction } from "../../internal/proxy/nft.ts";
import { renderRuleset } from "../../internal/proxy/render.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { waitFor } from "../kubelet/setup.ts";
import { createProxyWorld, type Pod, type ProxyWorld } from "./world.ts";

const CLUSTER_CIDR = "10.42.0.0/16";
const SERVICE_CIDR = "10.43.0.0/16";

let cluster: TestCluster;
let world: ProxyWorld;
let client: Client;
let ac: AbortController;
let proxyDone: Promise<void> | undefined;
let syncs = 0;

beforeAll(async () => {
  cluster = await startTestCluster({ clusterCIDR: CLUSTER_CIDR, serviceCIDR: SERVICE_CIDR });
  client = createClient({ server: cluster.localURL, token: cluster.adminToken, caPEM: cluster.caPEM });
  world = await createProxyWorld(2);
  // An unrelated table the proxy must never touch.
  await world.nft(world.nodeNetns, ["add", "table", "ip", "other"]);
  await world.nft(world.nodeNetns, ["add", "chain", "ip", "other", "keep"]);
  // The proxy's real identity: system:kube-proxy from the join protocol.
  const creds = await joinCluster({ server: cluster.localURL, token: cluster.joinToken, nodeName: "proxy-node" });
  expect(creds.proxyToken).toBeTruthy();
  ac = new AbortController();
  proxyDone = startProxy(
    { server: cluster.localURL, token: creds.proxyToken!, caPEM: creds.caPEM },
    { nodeName: "proxy-node", nodeIP: world.nodeIP, clusterCIDR: CLUSTER_CIDR, serviceCIDR: SERVICE_CIDR, netns: world.nodeNetns, signal: ac.signal, onSync: () => syncs++ },
  );
  await waitFor("first sync", () => syncs > 0);
}, 60_000);

afterAll(async () => {
  ac?.abort();
  await Promise.race([proxyDone?.catch(() => {}), Bun.sleep(15_000)]);
  await world?.cleanup();
  await cluster?.stop();
}, 60_000);

const services = () => client.resource<Service>(refs.services, "default");
const slices = () => client.resource<EndpointSlice>(refs.endpointslices, "default");
// Affinity entries count down ("expires 2h59m58s"): left out so listings compare.
const table = async () => (await world.nft(world.nodeNetns, ["list", "table", "ip", "kubun"])).stdout.replace(/ expires \S+/g, "");

async function createService(name: string, spec: Partial<Service["spec"]> = {}): Promise<Service> {
  return services().create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "default" },
    spec: { type: "NodePort", ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }], ...spec },
  });
}

type EpState = { pod: Pod; ready?: boolean; serving?: boolean; terminating?: boolean };

/** Creates or replaces the Service's one EndpointSlice. */
async function setEndpoints(svc: string, eps: EpState[]): Promise<void> {
  const body: EndpointSlice = {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `${svc}-1`, namespace: "default", labels: { "kubernetes.io/service-name": svc } },
    addressType: "IPv4",
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    endpoints: eps.map((e) => ({ addresses: [e.pod.ip], nodeName: "proxy-node", conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false } })),
  };
  try {
    const cur = await slices().get(`${svc}-1`);
    await slices().update({ ...body, metadata: { ...body.metadata, resourceVersion: cur.metadata?.resourceVersion } });
  } catch {
    await slices().create(body);
  }
}

/** Which pods answered n sequential requests (each a new connection, so a new random pick). */
async function answers(netns: string, url: string, n: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = await world.get(netns, url);
    const who = r.ok ? r.body : `error: ${r.error}`;
    seen.set(who, (seen.get(who) ?? 0) + 1);
  }
  return seen;
}

const epChain = (svc: string, pod: Pod) => `ep-default/${svc}/tcp/http__${pod.ip}/8080`;

describe("service proxy (nftables)", () => {
  let web: Service;

  test("ClusterIP reaches both endpoints, with connections spread over them", async () => {
    web = await createService("web");
    await setEndpoints("web", world.pods.map((pod) => ({ pod })));
    await waitFor("web rules", async () => {
      const t = await table();
      return world.pods.every((p) => t.includes(epChain("web", p)));
    });
    const seen = await answers(world.nodeNetns, `http://${web.spec!.clusterIP}:80/`, 24);
    expect([...seen.keys()].sort()).toEqual(["pod1", "pod2"]);
  }, 60_000);

  test("NodePort on the node IP reaches both endpoints, from the node and from outside (masqueraded)", async () => {
    const nodePort = web.spec!.ports![0]!.nodePort!;
    expect(nodePort).toBeGreaterThan(0);
    const fromOutside = await answers(world.extNetns, `http://${world.nodeIP}:${nodePort}/`, 24);
    expect([...fromOutside.keys()].sort()).toEqual(["pod1", "pod2"]);
    const fromNode = await answers(world.nodeNetns, `http://${world.nodeIP}:${nodePort}/`, 8);
    expect([...fromNode.keys()].every((k) => k === "pod1" || k === "pod2")).toBe(true);
    // A port that is no NodePort is not answered by the pods.
    const other = await world.get(world.extNetns, `http://${world.nodeIP}:${nodePort === 32767 ? 32766 : nodePort + 1}/`, 1);
    expect(other.ok).toBe(false);
  }, 60_000);

  test("a pod reaches the service, itself included (hairpin masquerade)", async () => {
    const seen = await answers(world.pods[0]!.netns, `http://${web.spec!.clusterIP}:80/`, 24);
    expect([...seen.keys()].sort()).toEqual(["pod1", "pod2"]);
  }, 60_000);

  test("masquerade only where needed: pods keep their address, the node and outside clients are masqueraded, unless externalTrafficPolicy Local", async () => {
    const [p1, p2] = world.pods;
    // httpd listens dual-stack: IPv4 clients show as [::ffff:a.b.c.d].
    const clientSeen = async (netns: string, url: string, n: number) => [...(await answers(netns, url, n)).keys()].map((a) => a.replace(/\[::ffff:([\d.]+)\]/, "$1"));
    // pod2 → ClusterIP: pod1 sees pod2's own address; pod2 reaching itself (hairpin) sees the node's.
    expect((await clientSeen(p2!.netns, `http://${web.spec!.clusterIP}/cgi-bin/ip`, 16)).sort()).toEqual([`pod1 ${p2!.ip}`, `pod2 ${world.podGateway}`]);
    // The node itself → ClusterIP: masqueraded (its address is outside the cluster CIDR).
    for (const a of await clientSeen(world.nodeNetns, `http://${web.spec!.clusterIP}/cgi-bin/ip`, 6)) expect(a).toEndWith(` ${world.podGateway}`);
    const nodePortURL = `http://${world.nodeIP}:${web.spec!.ports![0]!.nodePort}/cgi-bin/ip`;
    for (const a of await clientSeen(world.extNetns, nodePortURL, 6)) expect(a).toEndWith(` ${world.podGateway}`);
    // externalTrafficPolicy Local: the outside client's address is kept (both pods are on this node).
    await services().patch("web", "merge", { spec: { externalTrafficPolicy: "Local" } });
    await waitFor("ETP Local rules", async () => (await table()).includes("svl-default/web/tcp/http"));
    expect((await clientSeen(world.extNetns, nodePortURL, 16)).sort()).toEqual([`pod1 ${world.extIP}`, `pod2 ${world.extIP}`]);
    await services().patch("web", "merge", { spec: { externalTrafficPolicy: "Cluster" } });
    await waitFor("ETP Cluster rules", async () => !(await table()).includes("svl-default/web/tcp/http"));
  }, 60_000);

  test("a Service without endpoints is refused at once, on its ClusterIP and NodePort", async () => {
    const empty = await createService("empty");
    const ip = empty.spec!.clusterIP!;
    await waitFor("no-endpoint rule", async () => (await table()).includes(`${ip} . tcp . 80 : goto reject-chain`));
    const r = await world.get(world.nodeNetns, `http://${ip}:80/`, 20);
    expect(r.refused).toBe(true); // refused at once, not a hang
    // (A NodePort nobody listens on would be refused anyway: the rule itself is checked too.)
    expect(await table()).toContain(`tcp . ${empty.spec!.ports![0]!.nodePort} : goto reject-chain`);
    const np = await world.get(world.extNetns, `http://${world.nodeIP}:${empty.spec!.ports![0]!.nodePort}/`, 20);
    expect(np.refused).toBe(true);
    // A port the ClusterIP does not serve is refused too.
    const wrongPort = await world.get(world.nodeNetns, `http://${web.spec!.clusterIP}:81/`, 20);
    expect(wrongPort.refused).toBe(true);
    // Endpoints appear → served.
    await setEndpoints("empty", [{ pod: world.pods[1]! }]);
    await waitFor("empty served", async () => (await world.get(world.nodeNetns, `http://${ip}:80/`, 2)).body === "pod2");
  }, 60_000);

  test("ClientIP session affinity keeps a client on one endpoint", async () => {
    const sticky = await createService("sticky", { type: "ClusterIP", sessionAffinity: "ClientIP" });
    await setEndpoints("sticky", world.pods.map((pod) => ({ pod })));
    await waitFor("sticky rules", async () => {
      const t = await table();
      return world.pods.every((p) => t.includes(`aff-default/sticky/tcp/http__${p.ip}/8080`));
    });
    const seen = await answers(world.nodeNetns, `http://${sticky.spec!.clusterIP}:80/`, 12);
    expect(seen.size).toBe(1);
    expect(["pod1", "pod2"]).toContain([...seen.keys()][0]!);
  }, 60_000);

  test("endpoint changes: removed → no longer reached; not ready → serving terminating ones are used", async () => {
    const url = `http://${web.spec!.clusterIP}:80/`;
    await setEndpoints("web", [{ pod: world.pods[0]! }]);
    await waitFor("pod2 chain gone", async () => !(await table()).includes(epChain("web", world.pods[1]!)));
    expect([...(await answers(world.nodeNetns, url, 12)).keys()]).toEqual(["pod1"]);
    // No ready endpoint left: the terminating-but-serving one takes the traffic (upstream's fallback).
    await setEndpoints("web", [
      { pod: world.pods[0]!, ready: false, serving: false, terminating: true },
      { pod: world.pods[1]!, ready: false, serving: true, terminating: true },
    ]);
    await waitFor("fallback to serving", async () => {
      const t = await table();
      return t.includes(epChain("web", world.pods[1]!)) && !t.includes(epChain("web", world.pods[0]!));
    });
    expect([...(await answers(world.nodeNetns, url, 8)).keys()]).toEqual(["pod2"]);
  }, 60_000);

  test("UDP service ports are balanced too", async () => {
    // Each pod answers a datagram with its name (bun's UDP socket: busybox nc has no UDP).
    const server = (name: string) => `await Bun.udpSocket({ hostname: "0.0.0.0", port: 5353, socket: { data(s, _b, port, addr) { s.send(${JSON.stringify(name)}, port, addr); } } }); setInterval(() => {}, 1e9);`;
    const servers = world.pods.map((p) => Bun.spawn(["ip", "netns", "exec", p.netns, process.execPath, "-e", server(p.name)], { stdin: "ignore", stdout: "ignore", stderr: "ignore" }));
    try {
      const svc = await services().create({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "dgram", namespace: "default" },
        spec: { ports: [{ name: "dns", port: 53, targetPort: 5353, protocol: "UDP" }] },
      });
      await slices().create({
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: { name: "dgram-1", namespace: "default", labels: { "kubernetes.io/service-name": "dgram" } },
        addressType: "IPv4",
        ports: [{ name: "dns", port: 5353, protocol: "UDP" }],
        endpoints: world.pods.map((p) => ({ addresses: [p.ip], conditions: { ready: true } })),
      });
      const ip = svc.spec!.clusterIP!;
      // A new socket (new source port, new conntrack entry, new random pick) per query.
      const client = `const s = await Bun.udpSocket({ socket: { data(_s, b) { console.log(b.toString()); process.exit(0); } } }); s.send("q", 53, ${JSON.stringify(ip)}); setTimeout(() => process.exit(1), 2000);`;
      const ask = async () => {
        const r = await run(["ip", "netns", "exec", world.nodeNetns, process.execPath, "-e", client], { allowFail: true, timeoutMs: 10_000 });
        return r.code === 0 ? r.stdout.trim() : "";
      };
      await waitFor("UDP answered", async () => (await ask()) !== "");
      const seen = new Set<string>();
      for (let i = 0; i < 16; i++) seen.add(await ask());
      expect([...seen].sort()).toEqual(["pod1", "pod2"]);
    } finally {
      for (const p of servers) p.kill("SIGKILL");
      await Promise.all(servers.map((p) => p.exited));
    }
  }, 60_000);

  test("nothing is written while nothing that matters changes", async () => {
    const before = syncs;
    await services().patch("web", "merge", { metadata: { annotations: { note: "no rule change" } } });
    await Bun.sleep(1000);
    expect(syncs).toBe(before);
  }, 30_000);

  test("the table is replaced in one transaction: stale chains go, rules never pile up, a failed apply changes nothing", async () => {
    const t = await table();
    // Exactly the two dispatch rules in `services`, however many syncs ran.
    const services = t.slice(t.indexOf("chain services {"));
    expect(services.slice(0, services.indexOf("}")).trim().split("\n").length).toBe(3);
    expect(t).not.toContain(epChain("web", world.pods[0]!));
    // A transaction that fails halfway (bad last line) leaves the table exactly as it was.
    const nft = nftRunner(world.nodeNetns);
    const broken = transaction(renderRuleset([], { nodeName: "proxy-node", clusterCIDR: CLUSTER_CIDR })) + "add rule ip kubun services this is not a rule\n";
    await expect(nft.apply(broken)).rejects.toThrow();
    expect(await table()).toBe(t);
    expect((await world.nft(world.nodeNetns, ["list", "table", "ip", "other"])).code).toBe(0);
  }, 30_000);

  test("a local address inside the service CIDR (the node's cluster DNS) is not dropped", async () => {
    const run = (argv: string[]) => Bun.spawn(["ip", "netns", "exec", world.nodeNetns, ...argv], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    await run(["ip", "addr", "add", "10.43.0.10/32", "dev", "lo"]).exited;
    const www = import.meta.dir; // any readable dir: a 404 answer still proves the connection got through
    const httpd = run(["/bin/busybox", "httpd", "-f", "-p", "10.43.0.10:8053", "-h", www]);
    try {
      // Before the fix this timed out (dropped by cluster-ips-check); now it connects once httpd listens.
      await waitFor("local service-CIDR address answers", async () => /404/.test((await world.get(world.nodeNetns, "http://10.43.0.10:8053/none", 2)).error), 10_000);
    } finally {
      httpd.kill("SIGKILL");
      await httpd.exited;
    }
  }, 30_000);

  test("a deleted Service's rules are gone", async () => {
    const ip = web.spec!.clusterIP!;
    await services().delete("web");
    await slices().delete("web-1");
    await waitFor("web rules gone", async () => {
      const t = await table();
      return !t.includes("default/web/") && !t.includes(`${ip} .`);
    });
    const cips = (await world.nft(world.nodeNetns, ["list", "set", "ip", "kubun", "cluster-ips"])).stdout;
    expect(cips).not.toContain(ip);
    expect((await world.get(world.nodeNetns, `http://${ip}:80/`, 1)).ok).toBe(false);
  }, 30_000);

  test("stopping the proxy leaves its table (the pods keep running and keep being served), and touches no other", async () => {
    const before = await table();
    ac.abort();
    await proxyDone;
    proxyDone = undefined;
    expect(await table()).toBe(before);
    expect((await world.nft(world.nodeNetns, ["list", "table", "ip", "other"])).code).toBe(0);
  }, 30_000);
});

describe("service proxy failures", () => {
  test("a proxy starting while the API server is unreachable applies the last rules it saved", async () => {
    const cacheFile = `${cluster.dataDir}/proxy-cache/rules.nft`;
    const common = { nodeName: "proxy-node", nodeIP: world.nodeIP, clusterCIDR: CLUSTER_CIDR, serviceCIDR: SERVICE_CIDR, netns: world.nodeNetns, cacheFile };
    const first = new AbortController();
    const firstDone = startProxy({ server: cluster.localURL, token: cluster.adminToken, caPEM: cluster.caPEM }, { ...common, signal: first.signal });
    const svc = await createService("cached", { type: "ClusterIP" });
    await setEndpoints("cached", [{ pod: world.pods[0]! }]);
    const url = `http://${svc.spec!.clusterIP}:80/`;
    await waitFor("cached service served", async () => (await world.get(world.nodeNetns, url, 2)).body === "pod1");
    first.abort();
    await firstDone;
    // A restart with the table still in the kernel: served all along, before and after the new proxy starts.
    expect((await world.get(world.nodeNetns, url, 2)).body).toBe("pod1");
    const restart = new AbortController();
    const restartDone = startProxy({ server: "https://127.0.0.1:1", token: "x" }, { ...common, signal: restart.signal });
    try {
      for (let i = 0; i < 8; i++) {
        expect((await world.get(world.nodeNetns, url, 2)).body).toBe("pod1");
        await Bun.sleep(250);
      }
    } finally {
      restart.abort();
      await restartDone;
    }
    // A reboot: no table in the kernel. The API server is "away" (nothing listens on 127.0.0.1:1).
    expect((await world.nft(world.nodeNetns, ["delete", "table", "ip", "kubun"])).code).toBe(0);
    expect((await world.get(world.nodeNetns, url, 1)).ok).toBe(false);
    const second = new AbortController();
    const secondDone = startProxy({ server: "https://127.0.0.1:1", token: "x" }, { ...common, signal: second.signal });
    try {
      await waitFor("cached rules applied", async () => (await world.get(world.nodeNetns, url, 2)).body === "pod1", 20_000);
    } finally {
      second.abort();
      await secondDone;
    }
  }, 60_000);

  test("a sync that fails is retried with backoff until it succeeds", async () => {
    // The namespace does not exist yet: nft fails until it does.
    const netns = `${world.prefix}-late`;
    const sig = new AbortController();
    let ok = 0;
    const done = startProxy(
      { server: cluster.localURL, token: cluster.adminToken, caPEM: cluster.caPEM },
      { nodeName: "late-node", nodeIP: "192.0.2.1", clusterCIDR: CLUSTER_CIDR, netns, signal: sig.signal, onSync: () => ok++ },
    );
    try {
      await Bun.sleep(1500);
      expect(ok).toBe(0);
      const add = Bun.spawn(["ip", "netns", "add", netns]);
      await add.exited;
      await waitFor("sync after retries", () => ok > 0, 40_000);
      expect((await world.nft(netns, ["list", "table", "ip", "kubun"])).code).toBe(0);
    } finally {
      sig.abort();
      await done;
    }
    // Stopped: the table stays for the node's pods (the world's cleanup removes the namespace with it).
    expect((await world.nft(netns, ["list", "table", "ip", "kubun"])).code).toBe(0);
  }, 60_000);
});
