// Two `kubun server` processes on one etcd 3.4, as an HA control plane is run: both serve the same objects; one leader
// per component Lease, fail-over after a SIGKILL, and then the new leaders act; no ClusterIP handed out twice; a join
// token of one server is good at the other. Every process and temp dir is removed in afterAll; all ports are random.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ConfigMap, Pod, Service } from "kubernetes-types/core/v1";
import type { Lease } from "kubernetes-types/coordination/v1";
import type { ReplicaSet } from "kubernetes-types/apps/v1";
import { joinCluster } from "../../internal/auth/index.ts";
import { runHollowNodes } from "../../internal/hollow/index.ts";
import { startEtcd, type EtcdServer } from "../store/fixtures/etcd.ts";
import { startServerProcess, type ServerProcess } from "./server-process.ts";

const SECRET = `ha-${crypto.randomUUID()}`;
const json = { "Content-Type": "application/json" };
const LEASE_SECONDS = 15; // upstream default; retry period 2 s
const RETRY_SECONDS = 2;

let etcd: EtcdServer;
const servers: ServerProcess[] = [];
let s1: ServerProcess;
let s2: ServerProcess;

async function body<T>(r: Response, want = [200, 201]): Promise<T> {
  const text = await r.text();
  if (!want.includes(r.status)) throw new Error(`HTTP ${r.status}: ${text.slice(0, 400)}`);
  return JSON.parse(text) as T;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(200);
  }
}

/**
 * The identities a server's leader elector used when it took `lease`, from its log ("became leader" lines of the
 * elector, whose component is `leaderelection.<lease>` or `<component>.leaderelection`, e.g. scheduler.leaderelection).
 */
function leaderIdentities(s: ServerProcess, lease: "kube-scheduler" | "kube-controller-manager"): string[] {
  const components = [`leaderelection.${lease}`, `${lease.replace(/^kube-/, "")}.leaderelection`];
  const out: string[] = [];
  for (const line of s.log().split("\n")) {
    if (!line.includes('"became leader"')) continue;
    try {
      const l = JSON.parse(line) as { component: string; identity: string };
      if (components.includes(l.component)) out.push(l.identity);
    } catch {
      // a torn line at the end of the buffer
    }
  }
  return out;
}

const getLease = async (s: ServerProcess, name: string) => body<Lease>(await s.api(`/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${name}`));

beforeAll(async () => {
  etcd = await startEtcd();
  // The first server creates the cluster (CA, admin token, bootstrap RBAC); the second joins it through the store.
  s1 = await startServerProcess({ etcdEndpoints: [etcd.endpoint], token: SECRET });
  servers.push(s1);
  s2 = await startServerProcess({ etcdEndpoints: [etcd.endpoint], token: SECRET });
  servers.push(s2);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(servers.map((s) => s.cleanup()));
  await etcd?.stop();
});

describe("two servers on one etcd", () => {
  test("an object written through one server is read, watched and updated through the other", async () => {
    const list = await body<{ metadata: { resourceVersion: string } }>(await s2.api("/api/v1/namespaces/default/configmaps"));
    const watch = await s2.api(`/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${list.metadata.resourceVersion}`);
    expect(watch.status).toBe(200);

    const created = await body<ConfigMap>(
      await s1.api("/api/v1/namespaces/default/configmaps", { method: "POST", headers: json, body: JSON.stringify({ metadata: { name: "ha-cm" }, data: { from: "s1" } }) }),
    );
    const read = await body<ConfigMap>(await s2.api("/api/v1/namespaces/default/configmaps/ha-cm"));
    expect(read.metadata?.uid).toBe(created.metadata?.uid!);
    expect(read.data).toEqual({ from: "s1" });

    // The ADDED event reaches a watch held open on the other server.
    const reader = watch.body!.getReader();
    const dec = new TextDecoder();
    let buf = "";
    const event = await (async () => {
      for (;;) {
        const i = buf.indexOf("\n");
        if (i >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line) as { type: string; object: ConfigMap };
          if (ev.object.metadata?.name === "ha-cm") return ev;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("watch ended before the event");
        buf += dec.decode(value, { stream: true });
      }
    })();
    await reader.cancel();
    expect(event.type).toBe("ADDED");
    expect(event.object.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion!);

    // Optimistic concurrency holds across servers: an update through s2 bumps the version, s1's stale write is refused.
    const updated = await body<ConfigMap>(
      await s2.api("/api/v1/namespaces/default/configmaps/ha-cm", { method: "PUT", headers: json, body: JSON.stringify({ ...read, data: { from: "s2" } }) }),
    );
    expect(updated.metadata?.resourceVersion).not.toBe(created.metadata?.resourceVersion!);
    const stale = await s1.api("/api/v1/namespaces/default/configmaps/ha-cm", { method: "PUT", headers: json, body: JSON.stringify({ ...created, data: { from: "stale" } }) });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { reason: string }).reason).toBe("Conflict");
    expect((await body<ConfigMap>(await s1.api("/api/v1/namespaces/default/configmaps/ha-cm"))).data).toEqual({ from: "s2" });
  }, 60_000);

  test("Services created at once through both servers never share a ClusterIP or NodePort", async () => {
    const perServer = 15;
    const make = (s: ServerProcess, i: number) =>
      s.api("/api/v1/namespaces/default/services", {
        method: "POST",
        headers: json,
        body: JSON.stringify({
          metadata: { name: `ha-svc-${s === s1 ? "a" : "b"}-${i}` },
          spec: { type: "NodePort", selector: { app: "x" }, ports: [{ port: 80, targetPort: 8080 }] },
        }),
      });
    const created = await Promise.all(
      Array.from({ length: perServer }, (_, i) => [make(s1, i), make(s2, i)]).flat().map(async (p) => body<Service>(await p, [201])),
    );
    const ips = created.map((s) => s.spec?.clusterIP);
    const ports = created.map((s) => s.spec?.ports?.[0]?.nodePort);
    expect(ips.every((ip) => typeof ip === "string" && /^10\.43\.\d+\.\d+$/.test(ip))).toBe(true);
    expect(new Set(ips).size).toBe(created.length);
    expect(ports.every((p) => typeof p === "number" && p >= 30000 && p <= 32767)).toBe(true);
    expect(new Set(ports).size).toBe(created.length);
    // And what was stored agrees with what was answered.
    const stored = await body<{ items: Service[] }>(await s2.api("/api/v1/namespaces/default/services"));
    const mine = stored.items.filter((s) => s.metadata?.name?.startsWith("ha-svc-"));
    expect(new Set(mine.map((s) => s.spec?.clusterIP)).size).toBe(created.length);
  }, 60_000);

  test("a join token from server 1 gets node credentials from server 2 that both servers accept", async () => {
    expect(s2.joinToken).toBe(s1.joinToken); // one cluster: same CA hash, same secret
    const creds = await joinCluster({ server: s2.url, token: s1.joinToken, nodeName: "ha-node-1" });
    expect(creds.caPEM.trim()).toBe(s1.caPEM.trim());
    const node = { apiVersion: "v1", kind: "Node", metadata: { name: "ha-node-1", labels: { "kubernetes.io/hostname": "ha-node-1" } } };
    const created = await s1.api("/api/v1/nodes", { method: "POST", headers: json, body: JSON.stringify(node), token: creds.nodeToken });
    expect(created.status).toBe(201);
    const read = await s2.api("/api/v1/nodes/ha-node-1", { token: creds.nodeToken });
    expect(read.status).toBe(200);
    // The Node authorizer still applies on either server: another node's object is off limits.
    const other = await s2.api("/api/v1/nodes", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ ...node, metadata: { name: "ha-node-2" } }),
      token: creds.nodeToken,
    });
    expect(other.status).toBe(403);
    // The admin credentials of one server work at the other too.
    expect((await s2.api("/api/v1/namespaces", { token: s1.adminToken })).status).toBe(200);
  }, 60_000);

  test("a server without the cluster's --token refuses to join the datastore with a one-line error", async () => {
    for (const [token, want] of [
      [undefined, "start this server with that cluster's --token"],
      ["not-the-secret", "can't be decrypted with this token"],
    ] as const) {
      const err = await startServerProcess({ etcdEndpoints: [etcd.endpoint], token, startTimeoutMs: 30_000 }).then(
        (s) => {
          servers.push(s);
          return undefined;
        },
        (e: Error) => e,
      );
      expect(err?.message).toContain("exit 1");
      expect(err?.message).toContain(want);
    }
    // Nothing the refused servers did disturbed the cluster.
    expect((await s1.api("/api/v1/namespaces/default")).status).toBe(200);
  }, 60_000);

  test("one leader per component Lease; after a SIGKILL the other server takes over and its controllers act", async () => {
    const names = ["kube-scheduler", "kube-controller-manager"] as const;
    const leases = await waitFor("both component Leases held", async () => {
      const ls = await Promise.all(names.map((n) => getLease(s1, n)));
      return ls.every((l) => l.spec?.holderIdentity) ? ls : undefined;
    });
    for (const [i, name] of names.entries()) {
      const holder = leases[i]!.spec!.holderIdentity!;
      // Exactly one server ever became leader of this Lease, and it is the holder.
      const claimants = servers.filter((s) => leaderIdentities(s, name).length > 0);
      expect(claimants.length).toBe(1);
      expect(leaderIdentities(claimants[0]!, name).at(-1)).toBe(holder);
      expect((await getLease(s2, name)).spec?.holderIdentity).toBe(holder);
    }

    // Kill the controller manager's leader the hard way: no step-down, the Lease has to expire.
    const cmHolder = leases[1]!.spec!.holderIdentity!;
    const victim = leaderIdentities(s1, "kube-controller-manager").includes(cmHolder) ? s1 : s2;
    const survivor = victim === s1 ? s2 : s1;
    // Read the last renewal right before the kill, so it is at most one request old.
    const lastRenew = Date.parse((await getLease(survivor, "kube-controller-manager")).spec!.renewTime!);
    await victim.kill("SIGKILL");

    const taken = await waitFor(
      "the survivor to hold both Leases",
      async () => {
        const ls = await Promise.all(names.map((n) => getLease(survivor, n)));
        return ls.every((l) => l.spec?.holderIdentity && l.spec.holderIdentity !== cmHolder) ? ls : undefined;
      },
      (LEASE_SECONDS + RETRY_SECONDS) * 1000 + 30_000,
    );
    const survivorIdentity = leaderIdentities(survivor, "kube-controller-manager").at(-1);
    expect(survivorIdentity).toBeDefined();
    for (const l of taken) expect(l.spec?.holderIdentity).toBe(survivorIdentity!);
    const cm = taken[1]!.spec!;
    expect(cm.leaseTransitions).toBe((leases[1]!.spec!.leaseTransitions ?? 0) + 1);
    // Never taken while the dead leader's lease was still valid; taken within one lease duration after the standby
    // saw the last renewal (it polls every retry period), plus one retry and slack for a loaded CI machine.
    const gap = (Date.parse(cm.acquireTime!) - lastRenew) / 1000;
    expect(gap).toBeGreaterThanOrEqual(LEASE_SECONDS);
    expect(gap).toBeLessThanOrEqual(LEASE_SECONDS + 2 * RETRY_SECONDS + 6);

    // The new controller manager acts: a ReplicaSet created now gets its pods.
    const rs: ReplicaSet = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "after-failover" },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: "after-failover" } },
        template: { metadata: { labels: { app: "after-failover" } }, spec: { containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }] } },
      },
    };
    const created = await body<ReplicaSet>(await survivor.api("/apis/apps/v1/namespaces/default/replicasets", { method: "POST", headers: json, body: JSON.stringify(rs) }), [201]);
    const pods = await waitFor("3 pods of the ReplicaSet", async () => {
      const l = await body<{ items: Pod[] }>(await survivor.api("/api/v1/namespaces/default/pods?labelSelector=app%3Dafter-failover"));
      return l.items.length >= 3 ? l.items : undefined;
    });
    expect(pods.length).toBe(3);
    for (const p of pods) expect(p.metadata?.ownerReferences?.[0]?.uid).toBe(created.metadata?.uid!);

    // The surviving scheduler acts too: once nodes join (hollow kubelets with node credentials obtained through the
    // survivor with server 1's join token), the pods get bound and reported Running.
    const nodesStop = new AbortController();
    // One join per node: joining again issues a new node token and revokes the previous one.
    const joined = new Map<string, Promise<{ server: string; token: string; caPEM: string }>>();
    const cred = (nodeName: string) => {
      if (!joined.has(nodeName)) {
        joined.set(nodeName, joinCluster({ server: survivor.url, token: s1.joinToken, nodeName }).then((c) => ({ server: survivor.url, token: c.nodeToken, caPEM: c.caPEM })));
      }
      return joined.get(nodeName)!;
    };
    const hollow = runHollowNodes(await cred("ha-h-0"), { count: 2, prefix: "ha-h", signal: nodesStop.signal, credentialsFor: cred });
    try {
      await hollow.ready;
      const running = await waitFor(
        "the ReplicaSet's pods bound and Running",
        async () => {
          const l = await body<{ items: Pod[] }>(await survivor.api("/api/v1/namespaces/default/pods?labelSelector=app%3Dafter-failover"));
          return l.items.length === 3 && l.items.every((p) => p.spec?.nodeName?.startsWith("ha-h-") && p.status?.phase === "Running") ? l.items : undefined;
        },
        60_000,
      );
      expect(running.map((p) => p.metadata?.uid).sort()).toEqual(pods.map((p) => p.metadata?.uid).sort());
    } finally {
      nodesStop.abort();
      await hollow.catch(() => {});
    }

    // A replacement server (fresh data dir, same --token) joins as a standby: it serves the cluster's objects
    // with the cluster's credentials and leaves the Leases with the current leader.
    const s3 = await startServerProcess({ etcdEndpoints: [etcd.endpoint], token: SECRET });
    servers.push(s3);
    expect(s3.caPEM.trim()).toBe(survivor.caPEM.trim());
    const seen = await body<{ items: Pod[] }>(await s3.api("/api/v1/namespaces/default/pods?labelSelector=app%3Dafter-failover", { token: survivor.adminToken }));
    expect(seen.items.map((p) => p.metadata?.uid).sort()).toEqual(pods.map((p) => p.metadata?.uid).sort());
    await Bun.sleep(2 * RETRY_SECONDS * 1000); // two election rounds of the newcomer
    for (const n of names) expect((await getLease(s3, n)).spec?.holderIdentity).toBe(survivorIdentity!);
    expect(leaderIdentities(s3, "kube-controller-manager")).toEqual([]);
    expect(leaderIdentities(s3, "kube-scheduler")).toEqual([]);
  }, 150_000);
});
