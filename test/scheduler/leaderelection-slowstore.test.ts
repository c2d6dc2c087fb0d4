// Leader election on slow storage (SD cards; k3s #1850 restarted 230 times overnight): with every write taking 1 s
// the scheduler and the controller manager keep their Leases with upstream's timings (15 s / 10 s / 2 s); when
// writes stall for longer than the renew deadline they step down and take the Lease back afterwards, in the same
// process — nothing exits or loops. The store is wrapped so that each create/update/delete waits before it runs.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Lease } from "kubernetes-types/coordination/v1";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startControllerManager } from "../../internal/controllers/index.ts";
import { startScheduler } from "../../internal/scheduler/index.ts";
import { openStore, type Store } from "../../internal/store/index.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { tempDir } from "../helpers/tmpdir.ts";

let delayMs = 0;
let store: Store;
let cluster: TestCluster;
let dir: string;

/** The store with `delayMs` added before every write (what a 1 s fsync does to each commit). */
function slowWrites(inner: Store): Store {
  const writes = new Set(["create", "update", "delete"]);
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== "function") return v;
      if (!writes.has(String(prop))) return v.bind(target);
      return async (...args: unknown[]) => {
        if (delayMs) await Bun.sleep(delayMs);
        return v.apply(target, args);
      };
    },
  });
}

beforeAll(async () => {
  dir = tempDir("kubun-slowstore-");
  store = await openStore({ dataDir: dir });
  cluster = await startTestCluster({ store: slowWrites(store), dataDir: join(dir, "cp") });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const lease = async (name: string) => (await (await cluster.api(`/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${name}`)).json()) as Lease;

test("1 s per write: Leases kept; writes stalled past the renew deadline: clean step-down and take-back, no exit", async () => {
  const stop = new AbortController();
  const exited: string[] = [];
  const scheduler = startScheduler(cluster.componentConfig("scheduler"), { identity: "sched-1", signal: stop.signal }).finally(() => exited.push("scheduler"));
  const cm = startControllerManager(cluster.componentConfig("controller-manager"), {
    identity: "cm-1",
    serviceCIDR: "10.43.0.0/16",
    clusterCIDR: "10.42.0.0/16",
    controllers: ["namespace"],
    signal: stop.signal,
  }).finally(() => exited.push("controller-manager"));
  try {
    const names = ["kube-scheduler", "kube-controller-manager"];
    const holders = { "kube-scheduler": "sched-1", "kube-controller-manager": "cm-1" } as Record<string, string>;
    for (const n of names) {
      const deadline = Date.now() + 20_000;
      while ((await lease(n).catch(() => undefined))?.spec?.holderIdentity !== holders[n]) {
        if (Date.now() > deadline) throw new Error(`${n} never led`);
        await Bun.sleep(200);
      }
    }

    // Every write now takes a second, as on a slow SD card; 20 s = more than one lease duration.
    delayMs = 1000;
    const first = await Promise.all(names.map(lease));
    await Bun.sleep(20_000);
    for (const [i, n] of names.entries()) {
      const l = await lease(n);
      expect(l.spec?.holderIdentity).toBe(holders[n]!);
      expect(l.spec?.leaseTransitions).toBe(first[i]!.spec?.leaseTransitions!);
      expect(l.spec?.acquireTime).toBe(first[i]!.spec?.acquireTime!);
      expect(Date.parse(l.spec!.renewTime!)).toBeGreaterThan(Date.parse(first[i]!.spec!.renewTime!) + 10_000);
    }

    // Writes stall for longer than the renew deadline (10 s): leaders step down, then lead again once writes flow.
    delayMs = 13_000;
    await Bun.sleep(14_000);
    delayMs = 0;
    for (const n of names) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const l = await lease(n);
        if (l.spec?.holderIdentity === holders[n] && Date.now() - Date.parse(l.spec!.renewTime!) < 5_000) break;
        if (Date.now() > deadline) throw new Error(`${n} not led again`);
        await Bun.sleep(200);
      }
    }
    expect(exited).toEqual([]);
  } finally {
    delayMs = 0;
    stop.abort();
    await Promise.allSettled([scheduler, cm]);
  }
}, 120_000);
