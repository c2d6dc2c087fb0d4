// Leader election against the real API server: one leader at a time, clean hand-over on shutdown, take-over
// after a crashed leader's lease expires; and the scheduler guarded by the kube-scheduler Lease.
import { expect, setDefaultTimeout, test } from "bun:test";
import type { Lease } from "kubernetes-types/coordination/v1";
import { refs } from "../../internal/client/index.ts";
import { microTime, runLeaderElection } from "../../internal/leaderelection/index.ts";
import { startScheduler, type Scheduler } from "../../internal/scheduler/index.ts";
import { useSharedCluster } from "../helpers/shared-cluster.ts";
import { waitFor } from "./helpers.ts";

setDefaultTimeout(60_000);

const env = useSharedCluster();

const fast = { leaseDurationSeconds: 2, renewDeadlineSeconds: 1.5, retryPeriodSeconds: 0.25 };
const lease = (name: string) => env.client.resource<Lease>(refs.leases, "kube-system").get(name);

test("two candidates never lead together; the standby takes over when the leader stops", async () => {
  const leading = new Set<string>();
  const overlaps: string[] = [];
  const start = (id: string) => {
    const ac = new AbortController();
    const done = runLeaderElection(env.client, {
      name: "le-test",
      identity: id,
      ...fast,
      signal: ac.signal,
      onStartedLeading: (sig) => {
        leading.add(id);
        if (leading.size > 1) overlaps.push([...leading].join("+"));
        sig.addEventListener("abort", () => leading.delete(id));
      },
    });
    return { ac, done };
  };
  const a = start("a");
  await waitFor("a leads", async () => leading.has("a"));
  const b = start("b");
  await Bun.sleep(1500);
  expect([...leading]).toEqual(["a"]);
  expect((await lease("le-test")).spec?.holderIdentity).toBe("a");
  const stoppedAt = Date.now();
  a.ac.abort();
  await a.done;
  await waitFor("b leads", async () => leading.has("b"));
  expect(Date.now() - stoppedAt).toBeLessThan(fast.leaseDurationSeconds * 1000);
  const l = await lease("le-test");
  expect(l.spec?.holderIdentity).toBe("b");
  expect(l.spec?.leaseTransitions).toBe(1);
  b.ac.abort();
  await b.done;
  expect(overlaps).toEqual([]);
});

test("a crashed leader (no release) is replaced once its lease duration has passed", async () => {
  const now = microTime();
  await env.client.resource<Lease>(refs.leases, "kube-system").create({
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "le-crash", namespace: "kube-system" },
    spec: { holderIdentity: "crashed", leaseDurationSeconds: 2, acquireTime: now, renewTime: now, leaseTransitions: 0 },
  });
  const ac = new AbortController();
  let ledAt = 0;
  const t0 = Date.now();
  const done = runLeaderElection(env.client, { name: "le-crash", identity: "standby", ...fast, signal: ac.signal, onStartedLeading: () => void (ledAt = Date.now()) });
  await waitFor("standby leads", async () => ledAt > 0, 10_000);
  expect(ledAt - t0).toBeGreaterThanOrEqual(1900);
  expect((await lease("le-crash")).spec).toMatchObject({ holderIdentity: "standby", leaseTransitions: 1 });
  ac.abort();
  await done;
});

test("schedulers take the kube-scheduler Lease; only the holder schedules", async () => {
  const started: string[] = [];
  const run = (id: string) => {
    const ac = new AbortController();
    const done = startScheduler(env.cluster.componentConfig("scheduler"), {
      identity: id,
      signal: ac.signal,
      leaderElection: fast,
      onLeading: (_s: Scheduler) => started.push(id),
    });
    return { ac, done };
  };
  const s1 = run("sched-1");
  await waitFor("sched-1 leads", async () => started.includes("sched-1"));
  const s2 = run("sched-2");
  await Bun.sleep(1000);
  expect(started).toEqual(["sched-1"]);
  expect((await lease("kube-scheduler")).spec?.holderIdentity).toBe("sched-1");
  s1.ac.abort();
  await s1.done;
  await waitFor("sched-2 leads", async () => started.includes("sched-2"));
  expect((await lease("kube-scheduler")).spec?.holderIdentity).toBe("sched-2");
  s2.ac.abort();
  await s2.done;
  expect((await lease("kube-scheduler")).spec?.holderIdentity).toBeUndefined();
});
