// Two controller managers on one cluster: only the Lease holder acts; the standby takes over within a lease
// duration after the leader stops (and releases on clean shutdown).

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Lease } from "kubernetes-types/coordination/v1";
import type { ReplicaSet } from "kubernetes-types/apps/v1";
import type { Pod } from "kubernetes-types/core/v1";
import { createClient, type Client } from "../../internal/client/client.ts";
import { refs } from "../../internal/client/refs.ts";
import type { ResourceClient } from "../../internal/client/types.ts";
import { startControllerManager } from "../../internal/controllers/index.ts";
import { startEnv, waitFor, type Env } from "./env.ts";

let env: Env;
beforeAll(async () => {
  env = await startEnv({ scheduler: false, managerRuns: false });
});
afterAll(async () => {
  await env?.stop();
});

/** Counts pod creations made through this manager's client. */
function counting(counter: { n: number }) {
  return (c: Client): Client => ({
    ...c,
    resource<T>(ref: any, ns?: string): ResourceClient<T> {
      const rc = c.resource<T>(ref, ns);
      if (ref.resource !== "pods") return rc;
      return { ...rc, create: (obj, o) => (counter.n++, rc.create(obj, o)) };
    },
  });
}

test("only the leader acts; the standby takes over when it stops", async () => {
  const cfg = env.cluster.componentConfig("controller-manager");
  const a = { ac: new AbortController(), creates: { n: 0 } };
  const b = { ac: new AbortController(), creates: { n: 0 } };
  const timing = { leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.5 };
  const common = { serviceCIDR: "10.43.0.0/16", clusterCIDR: "10.42.0.0/16", controllers: ["replicaset", "serviceaccount"], ...timing };
  const runA = startControllerManager(cfg, { ...common, identity: "cm-a", signal: a.ac.signal, wrapClient: counting(a.creates) });
  const leases = createClient(env.admin).resource<Lease>(refs.leases, "kube-system");
  await waitFor("a leads", async () => (await leases.get("kube-controller-manager")).spec?.holderIdentity === "cm-a");
  const runB = startControllerManager(cfg, { ...common, identity: "cm-b", signal: b.ac.signal, wrapClient: counting(b.creates) });

  const rsc = env.client.resource<ReplicaSet>(refs.replicasets, "default");
  const pods = env.client.resource<Pod>(refs.pods, "default");
  const rs = (name: string, replicas: number): ReplicaSet => ({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name, namespace: "default" },
    spec: { replicas, selector: { matchLabels: { le: name } }, template: { metadata: { labels: { le: name } }, spec: { automountServiceAccountToken: false, containers: [{ name: "c", image: "pause" }] } } },
  });
  await rsc.create(rs("first", 3));
  await waitFor("3 pods", async () => (await pods.list({ labelSelector: "le=first" })).items.length === 3, 20_000);
  await Bun.sleep(1000);
  expect(a.creates.n).toBe(3);
  expect(b.creates.n).toBe(0);

  // The leader stops cleanly (releases the Lease): b takes over well within a lease duration.
  const stoppedAt = Date.now();
  a.ac.abort();
  await runA;
  await waitFor("b leads", async () => (await leases.get("kube-controller-manager")).spec?.holderIdentity === "cm-b", 10_000);
  expect(Date.now() - stoppedAt).toBeLessThan(timing.leaseDurationSeconds * 1000 + 1000);
  await rsc.create(rs("second", 2));
  await waitFor("2 pods", async () => (await pods.list({ labelSelector: "le=second" })).items.length === 2, 20_000);
  expect(b.creates.n).toBe(2);
  expect(a.creates.n).toBe(3);
  expect((await pods.list({ labelSelector: "le=first" })).items.length).toBe(3);
  b.ac.abort();
  await runB;
}, 60_000);
