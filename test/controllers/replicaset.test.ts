// ReplicaSet: exact pod count even with a slow pod watch (expectations), adoption/release by selector,
// deletion order, status.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ReplicaSet } from "kubernetes-types/apps/v1";
import type { Pod } from "kubernetes-types/core/v1";
import type { Client } from "../../internal/client/client.ts";
import { refs } from "../../internal/client/refs.ts";
import type { ResourceClient, WatchEvent } from "../../internal/client/types.ts";
import { sortForDeletion } from "../../internal/controllers/replicaset/ranking.ts";
import { startEnv, waitFor, type Env } from "./env.ts";

/** Delays every pod watch event the controllers see by `ms`: their cache lags the API. */
function slowPodWatch(ms: number) {
  return (c: Client): Client => ({
    ...c,
    resource<T>(ref: any, ns?: string): ResourceClient<T> {
      const rc = c.resource<T>(ref, ns);
      if (ref.resource !== "pods") return rc;
      return {
        ...rc,
        async *watch(opts) {
          for await (const ev of rc.watch(opts) as AsyncIterable<WatchEvent<T>>) {
            await Bun.sleep(ms);
            yield ev;
          }
        },
      };
    },
  });
}

let env: Env;
beforeAll(async () => {
  env = await startEnv({ scheduler: false, manager: { controllers: ["replicaset", "serviceaccount"], wrapClient: slowPodWatch(400) } });
});
afterAll(async () => {
  await env?.stop();
});

const rsObj = (name: string, replicas: number): ReplicaSet => ({
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: { name, namespace: "default" },
  spec: {
    replicas,
    selector: { matchLabels: { rs: name } },
    template: { metadata: { labels: { rs: name } }, spec: { automountServiceAccountToken: false, containers: [{ name: "c", image: "pause" }] } },
  },
});
const pods = () => env.client.resource<Pod>(refs.pods, "default");
const rss = () => env.client.resource<ReplicaSet>(refs.replicasets, "default");
const live = async (sel: string) => (await pods().list({ labelSelector: sel })).items.filter((p) => !p.metadata?.deletionTimestamp);

describe("replicaset", () => {
  test("never double-creates with a slow watch, even when poked repeatedly", async () => {
    await rss().create(rsObj("slow", 5));
    // Extra syncs while the cache is behind: each must not create more pods.
    for (let i = 0; i < 6; i++) {
      await rss().patch("slow", "merge", { metadata: { annotations: { poke: String(i) } } });
      await Bun.sleep(60);
    }
    await waitFor("5 pods", async () => (await live("rs=slow")).length === 5, 20_000);
    await Bun.sleep(1500); // well past the watch delay: still exactly 5
    const list = await live("rs=slow");
    expect(list.length).toBe(5);
    for (const p of list) expect(p.metadata!.name).toMatch(/^slow-[a-z0-9]{5}$/);
    const rs = await waitFor("status", async () => {
      const r = await rss().get("slow");
      return r.status?.replicas === 5 && r.status?.observedGeneration === r.metadata?.generation ? r : undefined;
    });
    expect(rs.status?.fullyLabeledReplicas).toBe(5);
    expect(rs.status?.readyReplicas ?? 0).toBe(0);

    // Scale down: exactly 2 remain.
    await rss().patch("slow", "merge", { spec: { replicas: 2 } });
    await waitFor("2 pods", async () => (await live("rs=slow")).length === 2, 20_000);
    await Bun.sleep(1200);
    expect((await live("rs=slow")).length).toBe(2);
  }, 60_000);

  test("adopts matching orphans and releases pods that stop matching", async () => {
    const orphan: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "orphan-1", namespace: "default", labels: { rs: "adopt" } },
      spec: { automountServiceAccountToken: false, containers: [{ name: "c", image: "pause" }] },
    };
    await pods().create(orphan);
    const rs = await rss().create(rsObj("adopt", 2));
    const adopted = await waitFor("adopted", async () => {
      const p = await pods().get("orphan-1");
      return p.metadata?.ownerReferences?.some((r) => r.uid === rs.metadata!.uid && r.controller) ? p : undefined;
    }, 20_000);
    expect(adopted.metadata!.ownerReferences![0]).toMatchObject({ kind: "ReplicaSet", name: "adopt", controller: true, blockOwnerDeletion: true });
    await waitFor("2 pods", async () => (await live("rs=adopt")).length === 2, 20_000);
    // Relabel: released (ownerReference removed) and replaced.
    await pods().patch("orphan-1", "merge", { metadata: { labels: { rs: "gone" } } });
    await waitFor("released", async () => !(await pods().get("orphan-1")).metadata?.ownerReferences?.length, 20_000);
    await waitFor("replacement", async () => (await live("rs=adopt")).length === 2, 20_000);
  }, 60_000);

  test("deletion order prefers unscheduled, pending, not ready, then newer", () => {
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const mk = (name: string, o: { node?: string; phase?: string; ready?: boolean; created?: number; restarts?: number }): Pod => ({
      metadata: { name, creationTimestamp: t(o.created ?? 0) },
      spec: { nodeName: o.node, containers: [] },
      status: {
        phase: o.phase ?? "Running",
        conditions: [{ type: "Ready", status: o.ready ? "True" : "False", lastTransitionTime: t(0) }],
        containerStatuses: [{ name: "c", image: "", imageID: "", ready: !!o.ready, restartCount: o.restarts ?? 0 }],
      },
    });
    const order = sortForDeletion([
      mk("running-ready-old", { node: "a", ready: true, created: 1 }),
      mk("running-ready-new", { node: "b", ready: true, created: 5 }),
      mk("unscheduled", { phase: "Pending" }),
      mk("pending", { node: "c", phase: "Pending" }),
      mk("unknown", { node: "d", phase: "Unknown" }),
      mk("running-notready", { node: "e" }),
      mk("running-ready-restarts", { node: "f", ready: true, created: 1, restarts: 3 }),
    ]).map((p) => p.metadata!.name);
    expect(order).toEqual([
      "unscheduled",
      "pending",
      "unknown",
      "running-notready",
      "running-ready-restarts",
      "running-ready-new",
      "running-ready-old",
    ]);
  });
});
