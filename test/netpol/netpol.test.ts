// NetworkPolicy enforcement on two real nodes (agents in test-made network namespaces, test/kubelet/world.ts):
// busybox server and client pods on both nodes and in three namespaces; each client's request runs in its pod's
// network namespace (busybox wget cut by `timeout`). Each policy shape allows exactly what upstream's allows.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Pod } from "kubernetes-types/core/v1";
import type { NetworkPolicy } from "kubernetes-types/networking/v1";
import { refs } from "../../internal/client/refs.ts";
import { run } from "../../internal/runtime/run.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { busyboxPod, startEnv, waitFor, type Env } from "../kubelet/setup.ts";

let env: Env;
const ip: Record<string, string> = {};
const uid: Record<string, string> = {};
const nodeOf: Record<string, number> = {};

// Servers answer their name on 8080 (container port "http") and 9090; clients only sleep.
const SERVE = (name: string) => `mkdir -p /www && echo ${name} > /www/index.html && httpd -p 9090 -h /www && exec httpd -f -p 8080 -h /www`;
const PODS: { name: string; ns: string; node: number; labels: Record<string, string>; server?: boolean }[] = [
  { name: "web", ns: "default", node: 0, labels: { app: "web" }, server: true },
  { name: "web2", ns: "default", node: 1, labels: { app: "web" }, server: true },
  { name: "a", ns: "default", node: 0, labels: { role: "client" } },
  { name: "b", ns: "default", node: 1, labels: {} },
  { name: "c", ns: "other", node: 1, labels: { role: "client" } },
  { name: "e", ns: "other", node: 0, labels: {} },
  { name: "d", ns: "third", node: 0, labels: { role: "client" } },
];

beforeAll(async () => {
  env = await startEnv(["node-1", "node-2"], { clusterDataDir: tempDir("kubun-netpol-cp-") });
  const nsApi = env.client.resource(refs.namespaces);
  await nsApi.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "other", labels: { team: "other" } } });
  await nsApi.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "third" } });
  for (const ns of ["other", "third"]) await waitFor(`default ServiceAccount in ${ns}`, () => env.client.resource(refs.serviceaccounts, ns).get("default"));
  for (const p of PODS) {
    const pod = busyboxPod(p.name, env.nodes[p.node]!.name, p.server ? SERVE(p.name) : "exec sleep 3600", {}, p.server ? { ports: [{ name: "http", containerPort: 8080 }] } : {});
    pod.metadata = { name: p.name, namespace: p.ns, labels: p.labels };
    await env.client.resource<Pod>(refs.pods, p.ns).create(pod);
  }
  for (const p of PODS) {
    const pod = await waitFor(`${p.name} running`, async () => {
      const x = await env.client.resource<Pod>(refs.pods, p.ns).get(p.name);
      return x.status?.phase === "Running" && x.status.podIP ? x : undefined;
    }, 60_000);
    ip[p.name] = pod.status!.podIP!;
    uid[p.name] = pod.metadata!.uid!;
    nodeOf[p.name] = p.node;
  }
  // Servers answer before any test relies on them.
  for (const s of ["web", "web2"]) await waitFor(`${s} serving`, () => reach("a", s, 8080));
}, 180_000);

afterAll(async () => {
  await env?.cleanup();
}, 60_000);

/** Whether pod `from` gets the server's page at server:port (its request runs in its own network namespace). */
async function reach(from: string, server: string, port = 8080): Promise<boolean> {
  const netns = `/var/run/netns/${env.nodes[nodeOf[from]!]!.netns}-${uid[from]}`;
  const r = await run(["nsenter", `--net=${netns}`, "timeout", "3", "busybox", "wget", "-q", "-O", "-", `http://${ip[server]}:${port}/`], { allowFail: true, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  return r.code === 0 && r.stdout.trim() === server;
}

/** From the node's own network namespace (what kubelet probes use). */
async function fromNode(node: number, server: string, port = 8080): Promise<boolean> {
  const r = await run(["nsenter", `--net=/var/run/netns/${env.nodes[node]!.netns}`, "timeout", "3", "busybox", "wget", "-q", "-O", "-", `http://${ip[server]}:${port}/`], { allowFail: true, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  return r.code === 0 && r.stdout.trim() === server;
}

const policies = (ns = "default") => env.client.resource<NetworkPolicy>(refs.networkpolicies, ns);

/** Creates the policy, waits until every node's table shows it, returns a remover that waits until it is gone. */
async function withPolicy(name: string, spec: NetworkPolicy["spec"], ns = "default"): Promise<() => Promise<void>> {
  await policies(ns).create({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace: ns }, spec });
  await settle();
  return async () => {
    await policies(ns).delete(name);
    await settle();
  };
}

/** Waits until both nodes' tables stop changing (a sync follows each change within the debounce). */
async function settle(): Promise<void> {
  const snap = async () => Promise.all(env.nodes.map(async (n) => (await run(["ip", "netns", "exec", n.netns, "nft", "list", "table", "inet", "kubun-netpol"], { allowFail: true })).stdout));
  let prev = await snap();
  await waitFor("rules applied", async () => {
    await Bun.sleep(700);
    const cur = await snap();
    const same = cur.every((t, i) => t === prev[i]);
    prev = cur;
    return same;
  });
}

/** Which of the clients reach the server. */
async function reachers(server: string, port = 8080, clients = ["a", "b", "c", "d", "e"]): Promise<string[]> {
  const out: string[] = [];
  for (const c of clients) if (await reach(c, server, port)) out.push(c);
  return out;
}

describe("NetworkPolicy (nftables, inet kubun-netpol)", () => {
  test("without policies every pod reaches every pod, across nodes and namespaces", async () => {
    expect(await reachers("web")).toEqual(["a", "b", "c", "d", "e"]);
    expect(await reachers("web2", 9090)).toEqual(["a", "b", "c", "d", "e"]);
  }, 60_000);

  test("default-deny ingress: nobody reaches the selected pods, the node's own traffic (probes) still does; removed → access back", async () => {
    const remove = await withPolicy("deny", { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress"] });
    const rules = await run(["ip", "netns", "exec", env.nodes[0]!.netns, "nft", "list", "table", "inet", "kubun-netpol"]);
    expect(rules.stdout).toContain(`ing-default/web`);
    expect(await reachers("web")).toEqual([]);
    expect(await reachers("web2")).toEqual([]);
    expect(await fromNode(0, "web")).toBe(true);
    expect(await fromNode(1, "web2")).toBe(true);
    await remove();
    expect(await reachers("web")).toEqual(["a", "b", "c", "d", "e"]);
  }, 90_000);

  test("from labelled pods: only role=client pods of the policy's namespace", async () => {
    const remove = await withPolicy("from-clients", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: "client" } } }] }] });
    expect(await reachers("web")).toEqual(["a"]);
    expect(await reachers("web2")).toEqual(["a"]); // across nodes
    await remove();
  }, 90_000);

  test("from other namespaces: namespaceSelector alone, then combined with a podSelector (both must match)", async () => {
    let remove = await withPolicy("from-team", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "other" } } }] }] });
    expect(await reachers("web")).toEqual(["c", "e"]);
    await remove();
    remove = await withPolicy("from-team-clients", {
      podSelector: { matchLabels: { app: "web" } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "other" } }, podSelector: { matchLabels: { role: "client" } } }] }],
    });
    expect(await reachers("web")).toEqual(["c"]);
    expect(await reachers("web2")).toEqual(["c"]);
    await remove();
    // Two peers instead of one: either matches (OR).
    remove = await withPolicy("from-either", {
      podSelector: { matchLabels: { app: "web" } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "third" } } }, { podSelector: { matchLabels: { role: "client" } } }] }],
    });
    expect(await reachers("web")).toEqual(["a", "d"]);
    await remove();
  }, 120_000);

  test("from an ipBlock with except", async () => {
    const remove = await withPolicy("from-block", {
      podSelector: { matchLabels: { app: "web" } },
      ingress: [{ from: [{ ipBlock: { cidr: "10.42.0.0/16", except: [`${ip.a}/32`, `${ip.c}/32`] } }] }],
    });
    expect(await reachers("web")).toEqual(["b", "d", "e"]);
    await remove();
  }, 90_000);

  test("ports: a named port resolves on the selected pod; endPort ranges; protocol matters", async () => {
    let remove = await withPolicy("named", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ ports: [{ port: "http" }] }] });
    expect(await reach("b", "web", 8080)).toBe(true);
    expect(await reach("b", "web", 9090)).toBe(false);
    await remove();
    remove = await withPolicy("range", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ ports: [{ protocol: "TCP", port: 9000, endPort: 9100 }] }] });
    expect(await reach("b", "web", 9090)).toBe(true);
    expect(await reach("b", "web", 8080)).toBe(false);
    await remove();
    remove = await withPolicy("udp-only", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ ports: [{ protocol: "UDP", port: 8080 }] }] });
    expect(await reach("b", "web", 8080)).toBe(false);
    await remove();
  }, 120_000);

  test("egress limits: only to app=web on the named port http (resolved on each destination); default-deny egress", async () => {
    let remove = await withPolicy("client-egress", { podSelector: { matchLabels: { role: "client" } }, policyTypes: ["Egress"], egress: [{ to: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: "http" }] }] });
    expect(await reach("a", "web", 8080)).toBe(true);
    expect(await reach("a", "web2", 8080)).toBe(true); // other node
    expect(await reach("a", "web", 9090)).toBe(false);
    expect(await reach("b", "web", 9090)).toBe(true); // b is not selected
    expect(await reach("d", "web", 8080)).toBe(true); // another namespace's client: not this policy's
    await remove();
    remove = await withPolicy("deny-egress", { podSelector: {}, policyTypes: ["Egress"] }, "third");
    expect(await reach("d", "web")).toBe(false);
    expect(await reach("d", "web2")).toBe(false);
    expect(await reach("a", "web")).toBe(true);
    await remove();
    expect(await reach("d", "web")).toBe(true);
  }, 120_000);

  test("DNS: default-deny egress blocks the node-local cluster DNS; allowing kube-system's k8s-app=kube-dns on port 53 (as written for k3s) lets it through", async () => {
    const lookup = async (from: string) => {
      const netns = `/var/run/netns/${env.nodes[nodeOf[from]!]!.netns}-${uid[from]}`;
      const r = await run(["nsenter", `--net=${netns}`, "timeout", "3", "busybox", "nslookup", "kubernetes.default.svc.cluster.local", "10.43.0.10"], { allowFail: true, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
      return r.code === 0 && r.stdout.includes("10.43.0.1");
    };
    expect(await waitFor("cluster DNS answers d", () => lookup("d"))).toBe(true);
    let remove = await withPolicy("deny-all-egress", { podSelector: {}, policyTypes: ["Egress"] }, "third");
    expect(await lookup("d")).toBe(false);
    await remove();
    remove = await withPolicy("dns-only", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }], ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }] }],
    }, "third");
    expect(await lookup("d")).toBe(true);
    expect(await reach("d", "web")).toBe(false);
    await remove();
  }, 90_000);

  test("agent restarted (and its table lost, as after a reboot) while the API server is down: the cached rules are enforced", async () => {
    await withPolicy("from-clients-kept", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: "client" } } }] }] });
    expect(await reachers("web")).toEqual(["a"]);
    const node = env.nodes[0]!;
    expect(await Bun.file(`${node.dataDir}/agent/netpol/rules.nft`).text()).toContain("ing-default/web");
    await env.cluster.stop();
    // The agent stopped: the table stays.
    await node.stop();
    expect(await reachers("web")).toEqual(["a"]);
    // A reboot loses it; the restarted agent puts the cached rules back before it can reach the server.
    await run(["ip", "netns", "exec", node.netns, "nft", "delete", "table", "inet", "kubun-netpol"]);
    expect(await reach("b", "web")).toBe(true);
    await node.start();
    await waitFor("cached rules applied", async () => (await run(["ip", "netns", "exec", node.netns, "nft", "list", "table", "inet", "kubun-netpol"], { allowFail: true })).stdout.includes("ing-default/web"), 60_000);
    expect(await reachers("web")).toEqual(["a"]);
  }, 150_000);
});
