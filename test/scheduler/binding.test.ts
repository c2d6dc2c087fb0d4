// Asynchronous binding (assume at once, bind in the background, many binds in flight): what happens when a
// binding fails or conflicts. The scheduler runs on a client whose binding calls the test can hold, fail or race,
// against a real API server with hollow nodes.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Event, Pod } from "kubernetes-types/core/v1";
import { ApiError, createClient, refs, type Client } from "../../internal/client/index.ts";
import { runHollowNodes, type HollowNodes } from "../../internal/hollow/index.ts";
import { Scheduler } from "../../internal/scheduler/index.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { ensureServiceAccount, podSpec, waitFor } from "./helpers.ts";

setDefaultTimeout(60_000);

type BindHook = (namespace: string, name: string, node: string) => Promise<void>;

/** A client whose pods/binding calls first run `before` (which may wait or throw), then report `onBound` once the
 * binding succeeded (the scheduler's view); everything else passes through. */
function interceptBindings(c: Client, before: BindHook, onBound: (key: string) => void): Client {
  return new Proxy(c, {
    get(target, prop, receiver) {
      if (prop !== "resource") return Reflect.get(target, prop, receiver);
      return (ref: any, ns?: string) => {
        const api = target.resource(ref, ns);
        if (ref !== refs.pods) return api;
        return new Proxy(api, {
          get(t, p, r) {
            if (p !== "createSubresource") return Reflect.get(t, p, r);
            return async (name: string, sub: string, body: any) => {
              if (sub !== "binding") return t.createSubresource(name, sub, body);
              await before(ns ?? "", name, body.target.name);
              const out = await t.createSubresource(name, sub, body);
              onBound(`${ns}/${name}`);
              return out;
            };
          },
        });
      };
    },
  });
}

let cluster: TestCluster;
let client: Client;
let hollow: HollowNodes;
let tainted: HollowNodes;
let sched: Scheduler;
let running: Promise<void>;
let hook: BindHook | undefined;
/** Successful bindings per pod, counted at the client (the scheduler's view). */
const bindings = new Map<string, number>();
const ac = new AbortController();

// One schedulable node with 1 CPU ("b-0"), and one the scheduler never picks (tainted) that tests bind to by hand.
beforeAll(async () => {
  cluster = await startTestCluster();
  client = createClient(cluster.clientConfig);
  hollow = runHollowNodes(cluster.clientConfig, { count: 1, prefix: "b", cpu: "1", signal: ac.signal });
  tainted = runHollowNodes(cluster.clientConfig, {
    count: 1,
    prefix: "x",
    signal: ac.signal,
    taints: () => [{ key: "test", value: "manual", effect: "NoSchedule" }],
  });
  await Promise.all([hollow.ready, tainted.ready]);
  const schedClient = interceptBindings(
    createClient(cluster.componentConfig("scheduler")),
    async (ns, name, node) => {
      await hook?.(ns, name, node);
    },
    (key) => bindings.set(key, (bindings.get(key) ?? 0) + 1),
  );
  // Unschedulable pods wait in the pool for 5 minutes unless an event moves them: longer than any test here.
  sched = new Scheduler(schedClient, { queue: { initialBackoffMs: 100, maxBackoffMs: 500 }, identity: "test" });
  running = sched.run(ac.signal);
});

afterAll(async () => {
  ac.abort();
  await Promise.allSettled([hollow, tainted, running]);
  await cluster.stop();
});

let nsCounter = 0;
async function namespace(): Promise<string> {
  const ns = `bind${nsCounter++}`;
  await ensureServiceAccount(client, ns);
  return ns;
}
const pods = (ns: string) => client.resource<Pod>(refs.pods, ns);
const nodeOf = async (ns: string, name: string) => (await pods(ns).get(name)).spec?.nodeName;
const cpuAssumedOn = (node: string): number => (sched as any).cache.node(node)?.requested.milliCPU ?? NaN;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function cleanup(ns: string): Promise<void> {
  hook = undefined;
  for (const p of (await pods(ns).list()).items) await pods(ns).delete(p.metadata!.name!, { gracePeriodSeconds: 0 }).catch(() => {});
  await waitFor(`namespace ${ns} empty`, async () => (await pods(ns).list()).items.length === 0);
  await waitFor("b-0 empty in the scheduler's cache", async () => cpuAssumedOn("b-0") === 0);
}

describe("asynchronous binding", () => {
  test("the next pod is scheduled while a binding is still in flight (assumed in the cache at once)", async () => {
    const ns = await namespace();
    const hold = deferred();
    hook = async (_ns, name) => {
      if (name === "slow") await hold.promise;
    };
    await pods(ns).create(podSpec("slow", { cpu: "600m" }));
    await waitFor("slow assumed on b-0", async () => cpuAssumedOn("b-0") === 600);
    // The held binding has not landed, yet the next pod is scheduled at once, next to slow's assumed 600m.
    await pods(ns).create(podSpec("next", { cpu: "300m" }));
    expect(await waitFor("next bound while slow's binding is held", async () => nodeOf(ns, "next"))).toBe("b-0");
    expect(await nodeOf(ns, "slow")).toBeUndefined();
    hold.resolve();
    expect(await waitFor("slow bound", async () => nodeOf(ns, "slow"))).toBe("b-0");
    await cleanup(ns);
  });

  test("a pod bound elsewhere meanwhile: the conflict rolls the cache back and pods waiting for its room are retried", async () => {
    const ns = await namespace();
    hook = async (bns, name) => {
      if (name !== "raced") return;
      // Hold the scheduler's binding until the waiting pod has been found unschedulable (raced holds b-0's room)…
      await waitFor("waiter unschedulable", async () =>
        (await pods(bns).get("waiter")).status?.conditions?.some((c) => c.type === "PodScheduled" && c.status === "False"),
      );
      // …then someone else binds it first (to the node the scheduler never picks): the scheduler's binding conflicts.
      await client.resource(refs.pods, bns).createSubresource(name, "binding", {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name },
        target: { apiVersion: "v1", kind: "Node", name: "x-0" },
      });
    };
    await pods(ns).create(podSpec("raced", { cpu: "700m" }));
    await waitFor("raced assumed on b-0", async () => cpuAssumedOn("b-0") === 700);
    await pods(ns).create(podSpec("waiter", { cpu: "700m" }));
    // The conflict frees b-0 in the cache; no node event or bound pod on b-0 follows, yet the waiter must be placed.
    expect(await waitFor("waiter bound to b-0", async () => nodeOf(ns, "waiter"))).toBe("b-0");
    expect(await nodeOf(ns, "raced")).toBe("x-0");
    expect(bindings.get(`${ns}/raced`)).toBeUndefined(); // the scheduler's binding never succeeded
    expect(cpuAssumedOn("b-0")).toBe(700); // the waiter only
    await cleanup(ns);
  });

  test("a failed binding rolls back the cache and is retried; the pod ends on one node, bound once", async () => {
    const ns = await namespace();
    let failures = 0;
    hook = async (_ns, name) => {
      if (name === "flaky" && failures < 2) {
        failures++;
        throw new ApiError(500, "InternalError", "injected: etcdserver: request timed out");
      }
    };
    await pods(ns).create(podSpec("flaky", { cpu: "500m" }));
    expect(await waitFor("flaky bound after its retries", async () => nodeOf(ns, "flaky"))).toBe("b-0");
    expect(failures).toBe(2);
    expect(bindings.get(`${ns}/flaky`)).toBe(1);
    // Rolled back each time, assumed again on the retry: counted once.
    expect(cpuAssumedOn("b-0")).toBe(500);
    const ev = await waitFor("FailedScheduling event for the rejected binding", async () =>
      (await client.resource<Event>(refs.events, ns).list()).items.find((e) => e.reason === "FailedScheduling" && e.involvedObject.name === "flaky"),
    );
    expect(ev.message).toContain("Binding rejected");
    await cleanup(ns);
  });

  test("many pods at once, many bindings in flight: every pod bound exactly once and no node overcommitted", async () => {
    const ns = await namespace();
    // Bindings complete out of order, some slowly.
    hook = async () => {
      await Bun.sleep(Math.random() * 30);
    };
    const n = 30;
    await Promise.all(Array.from({ length: n }, (_, i) => pods(ns).create(podSpec(`many-${i}`, { cpu: "50m" }))));
    // 1 CPU on b-0 takes 20 of them; the other 10 stay pending.
    await waitFor("20 pods bound", async () => ((await pods(ns).list()).items.filter((p) => p.spec?.nodeName).length === 20 ? true : undefined));
    await Bun.sleep(500);
    const list = (await pods(ns).list()).items;
    expect(list.filter((p) => p.spec?.nodeName === "b-0").length).toBe(20);
    expect(list.filter((p) => !p.spec?.nodeName).length).toBe(10);
    for (const p of list) expect(bindings.get(`${ns}/${p.metadata!.name}`) ?? 0).toBe(p.spec?.nodeName ? 1 : 0);
    expect(cpuAssumedOn("b-0")).toBe(1000);
    await cleanup(ns);
  });
});
