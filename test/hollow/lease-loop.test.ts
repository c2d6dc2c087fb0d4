// The node Lease loop shared by the real and the hollow kubelet (internal/nodelease), over real HTTP: a renewal the
// server never answers is abandoned at the heartbeat client's timeout and retried in the same pass; a server that
// dies mid-renewal hands the renewal to the next server of the pool; a late renewal is reported with where its
// time went; and the real kubelet's Lease loop is not held by a status write that hangs.
import { afterEach, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { createClient } from "../../internal/client/client.ts";
import { refs } from "../../internal/client/refs.ts";
import { ServerPool } from "../../internal/client/servers.ts";
import { NodeAgent } from "../../internal/kubelet/node.ts";
import { logger, type Logger } from "../../internal/log/log.ts";
import { heartbeatTimeoutMs, NodeLease } from "../../internal/nodelease/controller.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { fakeLeaseAPI, type FakeLeaseAPI } from "./fake-lease-api.ts";

const apis: FakeLeaseAPI[] = [];
const aborts: AbortController[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const a of aborts.splice(0)) a.abort();
  for (const a of apis.splice(0)) a.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const api = (leases?: Map<string, any>) => {
  const a = fakeLeaseAPI(leases);
  apis.push(a);
  return a;
};
const tempDataDir = (prefix: string) => {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
};
const stopper = () => {
  const a = new AbortController();
  aborts.push(a);
  return a;
};

async function until(what: string, fn: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** A logger that keeps warn lines. */
function recording(): Logger & { warns: { msg: string; fields?: Record<string, unknown> }[] } {
  const warns: { msg: string; fields?: Record<string, unknown> }[] = [];
  const base = logger("test");
  return { ...base, warn: (msg, fields) => warns.push({ msg, fields }), child: () => base, warns };
}

const renewTime = (a: FakeLeaseAPI, name = "n1") => Date.parse(a.leases.get(name)?.spec?.renewTime ?? "");

test("the heartbeat timeout is upstream's: nodeStatusUpdateFrequency capped at the lease duration", () => {
  expect(heartbeatTimeoutMs(10_000, 40)).toBe(10_000);
  expect(heartbeatTimeoutMs(60_000, 40)).toBe(40_000);
});

test("a renewal the server never answers is abandoned at the request timeout and retried in the same pass", async () => {
  const a = api();
  const client = createClient({ server: a.url, token: "t", timeoutMs: 300 });
  const nl = new NodeLease({ name: "n1", leases: () => client.resource(refs.leases, "kube-node-lease"), durationSeconds: 40, log: logger("test") });
  const signal = new AbortController().signal;
  await nl.sync(signal); // creates it
  const created = renewTime(a);
  await Bun.sleep(5);
  a.behave.put = (n) => (n === 0 ? "hang" : undefined);
  await nl.sync(signal);
  expect(a.calls.filter((c) => c === "PUT lease n1").length).toBe(2);
  expect(renewTime(a)).toBeGreaterThan(created);
  expect(nl.lease?.metadata?.resourceVersion).toBe(a.leases.get("n1").metadata.resourceVersion);
});

test("a server that dies in the middle of a renewal: the pool's next server takes it within the pass", async () => {
  const a = api();
  // Both "servers" share one datastore, as two kubun servers on one etcd do.
  const b2 = api(a.leases);
  const pool = new ServerPool([a.url, b2.url]);
  const client = createClient({ server: a.url, servers: pool, token: "t", timeoutMs: 5000 });
  const nl = new NodeLease({ name: "n1", leases: () => client.resource(refs.leases, "kube-node-lease"), durationSeconds: 40, log: logger("test") });
  const stop = stopper();
  void nl.run(stop.signal, { renewIntervalMs: 100, syncNow: true });
  await until("the first renewals through server 1", () => a.calls.filter((c) => c.startsWith("PUT")).length >= 2);
  a.behave.put = () => "die";
  await until("renewals through server 2", () => b2.calls.filter((c) => c.startsWith("PUT")).length >= 3);
  expect(pool.current()).toBe(b2.url);
  const last = renewTime(a);
  await until("the Lease renewed again", () => renewTime(a) > last);
});

test("a late renewal is reported with where its time went (here: the previous PUT)", async () => {
  const a = api();
  const client = createClient({ server: a.url, token: "t", timeoutMs: 10_000 });
  const log = recording();
  const nl = new NodeLease({ name: "n1", leases: () => client.resource(refs.leases, "kube-node-lease"), durationSeconds: 40, log });
  const stop = stopper();
  a.behave.put = (n) => (n === 1 ? 1500 : undefined);
  void nl.run(stop.signal, { renewIntervalMs: 100, syncNow: true });
  await until("a late renewal", () => nl.late >= 1);
  const late = log.warns.find((w) => w.msg === "node lease renewed late")!;
  expect(late.fields!.node).toBe("n1");
  expect(late.fields!.gapMs as number).toBeGreaterThan(1100);
  expect(late.fields!.prevCallMs as number).toBeGreaterThanOrEqual(1400);
});

test("the real kubelet renews its Lease while a node status write hangs (two loops, heartbeat timeout)", async () => {
  const a = api();
  const client = createClient({ server: a.url, token: "t" });
  const agent = new NodeAgent({
    client,
    nodeName: "n1",
    nodeIP: "127.0.0.1",
    kubeletPort: 10250,
    runtimeVersion: "containerd://test",
    dataDir: tempDataDir("kubun-lease-loop-"),
    leaseIntervalMs: 100,
    statusIntervalMs: 100,
  });
  a.behave.status = () => "hang";
  const stop = stopper();
  void agent.run(stop.signal);
  await until("the Lease created", () => a.leases.has("n1"));
  expect(a.leases.get("n1").spec.holderIdentity).toBe("n1");
  await until("a status write under way", () => a.calls.includes("PATCH status n1"));
  const puts = a.calls.filter((c) => c === "PUT lease n1").length;
  await until("Lease renewals go on", () => a.calls.filter((c) => c === "PUT lease n1").length >= puts + 3);
  // And the hanging status writes were abandoned at the heartbeat timeout and tried again.
  await until("status writes retried", () => a.calls.filter((c) => c === "PATCH status n1").length >= 2);
});

test("the real kubelet's Lease is owned by its Node (deleting the Node deletes it), as upstream's", async () => {
  const a = api();
  const agent = new NodeAgent({
    client: createClient({ server: a.url, token: "t" }),
    nodeName: "n1",
    nodeIP: "127.0.0.1",
    kubeletPort: 10250,
    runtimeVersion: "containerd://test",
    dataDir: tempDataDir("kubun-lease-owner-"),
    leaseIntervalMs: 100,
  });
  await agent.updateStatus(true); // as register() does first: the Node (and its uid) is known
  const stop = stopper();
  void agent.run(stop.signal);
  await until("the Lease created", () => a.leases.has("n1"));
  expect(a.leases.get("n1").metadata.ownerReferences).toEqual([{ apiVersion: "v1", kind: "Node", name: "n1", uid: "node-uid" }]);
});
