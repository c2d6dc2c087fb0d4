// An agent's view of an HA control plane (two `kubun server` processes on one etcd): its client learns every API
// server from the `kubernetes` Endpoints, keeps the list on disk, and when the server it joined through is killed
// its calls and watches go on through the other one — node heartbeats keep coming, and a Deployment created after
// the failover becomes available on its (hollow) nodes. Every process and temp dir is removed in afterAll.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Service } from "kubernetes-types/core/v1";
import type { Deployment } from "kubernetes-types/apps/v1";
import type { Lease } from "kubernetes-types/coordination/v1";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { joinCluster } from "../../internal/auth/index.ts";
import { createClient } from "../../internal/client/client.ts";
import { SharedInformerFactory } from "../../internal/client/factory.ts";
import { refs } from "../../internal/client/refs.ts";
import { followAPIServers, ServerPool, serverURLsFromEndpoints } from "../../internal/client/servers.ts";
import type { ClientConfig } from "../../internal/client/types.ts";
import { runHollowNodes } from "../../internal/hollow/index.ts";
import { startEtcd, type EtcdServer } from "../store/fixtures/etcd.ts";
import { startServerProcess, type ServerProcess } from "./server-process.ts";
import { freePort } from "../helpers/ports.ts";

const SECRET = `fo-${crypto.randomUUID()}`;
const dir = join(import.meta.dir, "..", "..", ".tmp", `agent-failover-${process.pid}`);
const stateFile = join(dir, "servers.json");
let etcd: EtcdServer;
let s1: ServerProcess;
let s2: ServerProcess;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await Promise.resolve()
      .then(fn)
      .catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(200);
  }
}

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  etcd = await startEtcd();
  s1 = await startServerProcess({ etcdEndpoints: [etcd.endpoint], token: SECRET });
  s2 = await startServerProcess({ etcdEndpoints: [etcd.endpoint], token: SECRET });
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([s1?.cleanup(), s2?.cleanup()]);
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("server pool", () => {
  test("URLs from the kubernetes Endpoints; the first unreachable server hands over to the next", async () => {
    expect(
      serverURLsFromEndpoints({
        subsets: [
          { addresses: [{ ip: "10.0.0.11" }, { ip: "10.0.0.12" }], ports: [{ name: "https", port: 6443 }] },
          { addresses: [{ ip: "fd00::1" }], ports: [{ name: "https", port: 7443 }] },
        ],
      }),
    ).toEqual(["https://10.0.0.11:6443", "https://10.0.0.12:6443", "https://[fd00::1]:7443"]);

    const dead = `https://127.0.0.1:${freePort()}`;
    const pool = new ServerPool([dead, s2.url]);
    const client = createClient({ server: dead, servers: pool, token: s2.adminToken, caPEM: s2.caPEM });
    const ns = await client.request("GET", "/api/v1/namespaces/default");
    expect(ns.metadata.name).toBe("default");
    expect(pool.current()).toBe(s2.url);
    // A client without the pool fails as before.
    await expect(createClient({ server: dead, token: s2.adminToken, caPEM: s2.caPEM }).request("GET", "/api/v1/namespaces/default")).rejects.toThrow();
  });
});

describe("agent failover between two servers", () => {
  test("learns both servers, keeps them on disk, and keeps heartbeats, watches and workloads going after its server dies", async () => {
    const stop = new AbortController();
    const pool = new ServerPool([s1.url], { stateFile });
    // Credentials through server 1, as an agent started with --server <s1> gets them.
    const joined = new Map<string, Promise<ClientConfig>>();
    const cred = (nodeName: string) => {
      if (!joined.has(nodeName)) {
        joined.set(
          nodeName,
          joinCluster({ server: s1.url, token: s1.joinToken, nodeName }).then((c) => ({ server: s1.url, servers: pool, token: c.nodeToken, caPEM: c.caPEM })),
        );
      }
      return joined.get(nodeName)!;
    };
    const first = await joinCluster({ server: s1.url, token: s1.joinToken, nodeName: "fo-proxy" });
    // The agent's shared watch (as system:kube-proxy) follows the kubernetes Endpoints.
    const informers = new SharedInformerFactory(createClient({ server: s1.url, servers: pool, token: first.proxyToken!, caPEM: first.caPEM }), { maxBackoffMs: 1000 });
    followAPIServers(informers, pool);
    const services = informers.informerFor<Service>(refs.services);
    informers.start(stop.signal);
    const hollow = runHollowNodes(await cred("fo-0"), { count: 2, prefix: "fo", signal: stop.signal, credentialsFor: cred });
    try {
      await hollow.ready;
      await waitFor("both servers in the pool", () => (pool.all().includes(s2.url) ? true : undefined));
      expect(pool.all().sort()).toEqual([s1.url, s2.url].sort());
      expect(existsSync(stateFile)).toBe(true);
      expect((JSON.parse(readFileSync(stateFile, "utf8")) as { servers: string[] }).servers.sort()).toEqual([s1.url, s2.url].sort());
      expect(pool.current()).toBe(s1.url);

      // The server the agent joined through dies.
      await s1.kill("SIGKILL");
      const before = await (await s2.api("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/fo-0")).json() as Lease;

      // Watches resume on server 2 (from their last resourceVersion): a Service written there reaches the informer.
      const post = (path: string, obj: object) => s2.api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(obj) });
      expect((await post("/api/v1/namespaces/default/services", { metadata: { name: "after-failover" }, spec: { ports: [{ port: 80 }] } })).status).toBe(201);
      await waitFor("the informer to see a Service written through server 2", () => services.get("default/after-failover"), 30_000);
      expect((await post("/api/v1/namespaces/default/configmaps", { metadata: { name: "after-failover" }, data: { a: "1" } })).status).toBe(201);
      expect(pool.current()).toBe(s2.url);

      // Heartbeats go on: the node Lease is renewed through server 2.
      await waitFor(
        "a node Lease renewed after the failover",
        async () => {
          const l = (await (await s2.api("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/fo-0")).json()) as Lease;
          return l.spec?.renewTime && l.spec.renewTime !== before.spec?.renewTime ? l : undefined;
        },
        30_000,
      );

      // A Deployment created after the failover becomes available (the survivor's scheduler and controllers take
      // over within one lease duration; the nodes report their pods through server 2).
      const dep: Deployment = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "after", namespace: "default" },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "after" } },
          template: { metadata: { labels: { app: "after" } }, spec: { containers: [{ name: "c", image: "busybox" }] } },
        },
      };
      const created = await s2.api("/apis/apps/v1/namespaces/default/deployments", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(dep) });
      expect(created.status).toBe(201);
      const available = await waitFor(
        "the Deployment available",
        async () => {
          const d = (await (await s2.api("/apis/apps/v1/namespaces/default/deployments/after")).json()) as Deployment;
          return d.status?.availableReplicas === 2 ? d : undefined;
        },
        75_000,
      );
      expect(available.status?.readyReplicas).toBe(2);

      // An agent restarted now (server 1 still down, only server 1 configured) finds server 2 from its saved list.
      const restarted = new ServerPool([s1.url], { stateFile });
      const c = createClient({ server: s1.url, servers: restarted, token: s2.adminToken, caPEM: s2.caPEM });
      expect((await c.request("GET", "/api/v1/namespaces/default/configmaps/after-failover")).data).toEqual({ a: "1" });
      expect(restarted.current()).toBe(s2.url);
    } finally {
      stop.abort();
      await hollow.catch(() => {});
    }
  }, 150_000);
});
