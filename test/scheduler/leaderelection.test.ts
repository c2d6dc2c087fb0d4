// Leader election semantics against the in-memory fake API server (fast); the real-server test lives in
// leaderelection-cluster.test.ts.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createClient } from "../../internal/client/index.ts";
import { runLeaderElection } from "../../internal/leaderelection/index.ts";
import { startFakeApiServer, type FakeApiServer } from "../client/fake-apiserver.ts";

let srv: FakeApiServer;
beforeAll(() => {
  srv = startFakeApiServer();
});
afterAll(() => srv.stop());

const fast = { leaseDurationSeconds: 1.5, renewDeadlineSeconds: 1, retryPeriodSeconds: 0.2 };

function candidate(name: string, identity: string, leading: Set<string>, violations: string[]) {
  const ac = new AbortController();
  const client = createClient({ server: srv.url, token: "t0k3n" });
  const done = runLeaderElection(client, {
    name,
    identity,
    ...fast,
    signal: ac.signal,
    onStartedLeading: (sig) => {
      leading.add(identity);
      if (leading.size > 1) violations.push([...leading].join(","));
      sig.addEventListener("abort", () => leading.delete(identity));
    },
  });
  return { ac, done };
}

const lease = (name: string) => srv.objects.get(`apis/coordination.k8s.io/v1/leases|kube-system|${name}`);

async function until(cond: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(10);
  }
}

test("one of two candidates leads; a clean stop releases the lease and the standby takes over at once", async () => {
  const leading = new Set<string>();
  const violations: string[] = [];
  const a = candidate("le1", "a", leading, violations);
  await until(() => leading.has("a"));
  const b = candidate("le1", "b", leading, violations);
  await Bun.sleep(600);
  expect(leading).toEqual(new Set(["a"]));
  const l = lease("le1");
  expect(l.spec.holderIdentity).toBe("a");
  expect(l.spec.leaseDurationSeconds).toBe(1.5);
  expect(l.spec.leaseTransitions).toBe(0);
  expect(l.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  const acquire = l.spec.acquireTime;
  await Bun.sleep(400);
  expect(lease("le1").spec.acquireTime).toBe(acquire);
  expect(lease("le1").spec.renewTime).not.toBe(l.spec.renewTime);

  a.ac.abort();
  await a.done;
  expect(lease("le1").spec.holderIdentity).toBeUndefined();
  const released = Date.now();
  await until(() => leading.has("b"));
  // Released: b does not wait a lease duration, only its retry period.
  expect(Date.now() - released).toBeLessThan(1500);
  expect(lease("le1").spec.holderIdentity).toBe("b");
  expect(lease("le1").spec.leaseTransitions).toBe(1);
  b.ac.abort();
  await b.done;
  expect(violations).toEqual([]);
});

test("a leader that stops renewing (crash) is replaced after the lease duration, not before", async () => {
  const leading = new Set<string>();
  const violations: string[] = [];
  // A "crashed" holder: a lease renewed just now by someone who will never renew again.
  const now = new Date().toISOString().replace("Z", "000Z");
  srv.put("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases", {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "le2", namespace: "kube-system" },
    spec: { holderIdentity: "dead", leaseDurationSeconds: 1.5, acquireTime: now, renewTime: now, leaseTransitions: 3 },
  });
  const t0 = Date.now();
  const b = candidate("le2", "b", leading, violations);
  await until(() => leading.has("b"));
  expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
  expect(lease("le2").spec.leaseTransitions).toBe(4);
  b.ac.abort();
  await b.done;
});

test("a leader whose lease was taken over steps down", async () => {
  const leading = new Set<string>();
  const violations: string[] = [];
  let stopped = 0;
  const ac = new AbortController();
  const done = runLeaderElection(createClient({ server: srv.url, token: "t0k3n" }), {
    name: "le3",
    identity: "a",
    ...fast,
    reacquire: false,
    signal: ac.signal,
    onStartedLeading: () => {
      leading.add("a");
    },
    onStoppedLeading: () => stopped++,
  });
  await until(() => leading.has("a"));
  const cur = lease("le3");
  srv.put("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases", {
    ...cur,
    spec: { ...cur.spec, holderIdentity: "intruder", renewTime: new Date().toISOString() },
  });
  await done;
  expect(stopped).toBe(1);
  expect(violations).toEqual([]);
});
