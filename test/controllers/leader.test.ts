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

/** Counts pod creations attempted through this manager's client; `cut` simulates a network partition. */
function counting(counter: { n: number; cut?: boolean }) {
  const guard = <F extends (...a: any[]) => any>(f: F): F =>
    ((...a: any[]) => {
      if (counter.cut) return Promise.reject(new Error("network unreachable (test partition)"));
      return f(...a);
    }) as F;
  return (c: Client): Client => ({
    ...c,
    request: guard(c.request),
    resource<T>(ref: any, ns?: string): ResourceClient<T> {
      const rc = c.resource<T>(ref, ns);
      const wrapped: ResourceClient<T> = {
        get: guard(rc.get),
        list: guard(rc.list),
        create: guard(rc.create),
        update: guard(rc.update),
        updateStatus: guard(rc.updateStatus),
        patch: guard(rc.patch),
        delete: guard(rc.delete),
        createSubresource: guard(rc.createSubresource),
        watch: (o) => {
          if (counter.cut) throw new Error("network unreachable (test partition)");
          return rc.watch(o);
        },
      };
      if (ref.resource !== "pods") return wrapped;
      return { ...wrapped, create: (obj, o) => (counter.n++, wrapped.create(obj, o)) };
    },
  });
}

test("only the leader acts; the standby takes over when the leader is cut off or stops", async () => {
  const cfg = env.cluster.componentConfig("controller-manager");
  const a = { ac: new AbortController(), creates: { n: 0 } as { n: number; cut?: boolean } };
  const b = { ac: new AbortController(), creates: { n: 0 } as { n: number; cut?: boolean } };
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

  // The leader is cut off (it cannot renew): b takes over once the Lease expires; a steps down.
  a.creates.cut = true;
  await waitFor("b leads", async () => (await leases.get("kube-controller-manager")).spec?.holderIdentity === "cm-b", 20_000);
  // a comes back: b holds a fresh Lease, so a stays a standby and must not act.
  a.creates.cut = false;
  await rsc.create(rs("second", 2));
  await waitFor("2 pods", async () => (await pods.list({ labelSelector: "le=second" })).items.length === 2, 20_000);
  await Bun.sleep(1000);
  expect(b.creates.n).toBe(2);
  expect(a.creates.n).toBe(3);
  expect((await pods.list({ labelSelector: "le=first" })).items.length).toBe(3);
  expect((await leases.get("kube-controller-manager")).spec?.holderIdentity).toBe("cm-b");

  // b stops cleanly (releases the Lease): a takes over and acts again.
  b.ac.abort();
  await runB;
  await waitFor("a leads again", async () => (await leases.get("kube-controller-manager")).spec?.holderIdentity === "cm-a", 20_000);
  await rsc.create(rs("third", 1));
  await waitFor("1 pod", async () => (await pods.list({ labelSelector: "le=third" })).items.length === 1, 20_000);
  expect(a.creates.n).toBe(4);
  expect(b.creates.n).toBe(2);
  a.ac.abort();
  await runA;
}, 60_000);
