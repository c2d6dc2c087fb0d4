// Admission reads Namespaces, PriorityClasses and ServiceAccounts from a watch-fed cache: after warm-up a pod create
// reads none of them from the store, while a namespace created a moment ago is still admitted (one live read on the
// miss) and a namespace deleted through this server is refused at once. The store is a real SQLite store wrapped in
// a proxy that records reads and can hold back watch events (to stand for a watch that hasn't caught up yet).
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../internal/store/index.ts";
import { CompactedError, type Store, type WatchEvent } from "../../internal/store/types.ts";
import {
  AdmissionCache,
  AdmissionStatusError,
  cachedGetter,
  defaultAdmissionPlugins,
  ensureSystemPriorityClasses,
} from "../../internal/admission/index.ts";
import type { AdmissionPlugin, AdmissionRequest } from "../../internal/admission/types.ts";
import type { UserInfo } from "../../internal/auth/types.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

const NS = "/registry/core/namespaces/";
const SA = "/registry/core/serviceaccounts/";
const PC = "/registry/scheduling.k8s.io/priorityclasses/";
const CACHED = [NS, SA, PC];

interface SpyStore {
  store: Store;
  /** "get <key>" / "list <prefix>" / "count <prefix>", in call order. */
  reads: string[];
  /** Reads of the cached resources. */
  cachedReads(): string[];
  /** Hold watch events back until release() (the watch "has not caught up yet"). */
  hold(): void;
  release(): void;
  /** The next n watches throw CompactedError at their first iteration. */
  compactNextWatches(n: number): void;
}

function spy(inner: Store): SpyStore {
  const reads: string[] = [];
  let gate: PromiseWithResolvers<void> | undefined;
  let compactions = 0;
  async function* gated(src: AsyncIterable<WatchEvent[]>): AsyncIterable<WatchEvent[]> {
    if (compactions > 0) {
      compactions--;
      throw new CompactedError(0, 1);
    }
    for await (const batch of src) {
      while (gate) await gate.promise;
      yield batch;
    }
  }
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === "get") return (key: string) => (reads.push(`get ${key}`), target.get(key));
      if (prop === "list") return (prefix: string, o?: any) => (reads.push(`list ${prefix}`), target.list(prefix, o));
      if (prop === "count") return (prefix: string) => (reads.push(`count ${prefix}`), target.count(prefix));
      if (prop === "watch") return (prefix: string, o?: any) => gated(target.watch(prefix, o));
      const v = (target as any)[prop];
      return typeof v === "function" ? v.bind(target) : v;
    },
  }) as Store;
  return {
    store,
    reads,
    cachedReads: () => reads.filter((r) => CACHED.some((p) => r.includes(p))),
    hold: () => void (gate ??= Promise.withResolvers<void>()),
    release: () => {
      const g = gate;
      gate = undefined;
      g?.resolve();
    },
    compactNextWatches: (n) => void (compactions = n),
  };
}

const admin: UserInfo = { username: "system:admin", groups: ["system:masters", "system:authenticated"] };

function podReq(ns: string, name: string, spec: any = {}): AdmissionRequest {
  return {
    operation: "CREATE",
    user: admin,
    group: "",
    version: "v1",
    resource: "pods",
    kind: "Pod",
    namespace: ns,
    name,
    object: { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns }, spec: { containers: [{ name: "c", image: "busybox" }], ...spec } },
    dryRun: false,
  };
}

/** The API server's order: every admit, then every validate. */
async function admit(plugins: AdmissionPlugin[], req: AdmissionRequest): Promise<void> {
  for (const p of plugins) await p.admit?.(req);
  for (const p of plugins) await p.validate?.(req);
}

async function rejection(p: Promise<void>): Promise<AdmissionStatusError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AdmissionStatusError);
    return e as AdmissionStatusError;
  }
  throw new Error("expected a rejection");
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

const namespace = (name: string, extra: any = {}) => JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name, ...extra.metadata }, status: { phase: "Active", ...extra.status } });
const serviceAccount = (ns: string, name = "default") => JSON.stringify({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: ns } });

describe("admission cache", () => {
  let dir: string;
  let inner: Store;
  let s: SpyStore;
  let cache: AdmissionCache;
  let plugins: ReturnType<typeof defaultAdmissionPlugins>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "kubun-admission-cache-"));
    inner = await openStore({ dataDir: dir });
    await inner.create(`${NS}default`, namespace("default"));
    await inner.create(`${SA}default/default`, serviceAccount("default"));
    await ensureSystemPriorityClasses(inner);
    s = spy(inner);
    cache = new AdmissionCache(s.store);
    await cache.ready;
    plugins = defaultAdmissionPlugins({ store: s.store, cache, serviceAccountWaitMs: 0 });
    s.reads.length = 0;
  });

  afterEach(async () => {
    cache.close();
    await inner.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("after warm-up, N pod creates read no Namespace, PriorityClass or ServiceAccount from the store", async () => {
    expect(cache.synced).toBe(true);
    for (let i = 0; i < 50; i++) {
      const r = podReq("default", `p${i}`);
      await admit(plugins, r);
      // the plugins did their work from the cache
      expect(r.object.spec.priority).toBe(0);
      expect(r.object.spec.serviceAccountName).toBe("default");
      expect(r.object.spec.volumes[0].name).toStartWith("kube-api-access-");
      await inner.create(`/registry/core/pods/default/p${i}`, JSON.stringify(r.object));
    }
    const crit = podReq("default", "crit", { priorityClassName: "system-node-critical" });
    await admit(plugins, crit);
    expect(crit.object.spec.priority).toBe(2000001000);
    expect(s.reads).toEqual([]);
  });

  test("watch updates reach the plugins: a new globalDefault PriorityClass applies without a store read", async () => {
    await inner.create(`${PC}everyday`, JSON.stringify({ apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "everyday" }, value: 7, globalDefault: true, preemptionPolicy: "Never" }));
    await until(() => cache.of("scheduling.k8s.io", "priorityclasses")!.size === 3, "the PriorityClass in the cache");
    const r = podReq("default", "p");
    await admit(plugins, r);
    expect(r.object.spec).toMatchObject({ priorityClassName: "everyday", priority: 7, preemptionPolicy: "Never" });
    expect(s.reads).toEqual([]);
  });

  test("a namespace (and its ServiceAccount) created a moment ago is admitted at once, with one live read each", async () => {
    s.hold(); // the watch has not delivered them yet
    await inner.create(`${NS}fresh`, namespace("fresh"));
    await inner.create(`${SA}fresh/default`, serviceAccount("fresh"));
    const r = podReq("fresh", "p");
    await admit(plugins, r);
    expect(r.object.spec.serviceAccountName).toBe("default");
    expect(s.cachedReads()).toEqual([`get ${NS}fresh`, `get ${SA}fresh/default`]);

    s.release();
    await until(() => cache.of("", "namespaces")!.get(`${NS}fresh`) !== undefined && cache.of("", "serviceaccounts")!.get(`${SA}fresh/default`) !== undefined, "the watch");
    s.reads.length = 0;
    await admit(plugins, podReq("fresh", "q"));
    expect(s.reads).toEqual([]);
  });

  test("a missing namespace is still NotFound, and a missing ServiceAccount still Forbidden", async () => {
    const e = await rejection(admit(plugins, podReq("nope", "p")));
    expect(e.code).toBe(404);
    expect(e.message).toBe('namespaces "nope" not found');
    const sa = await rejection(admit(plugins, podReq("default", "p", { serviceAccountName: "ghost" })));
    expect(sa.message).toBe('pods "p" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found');
    expect(s.cachedReads()).toEqual([`get ${NS}nope`, `get ${SA}default/ghost`]);
  });

  test("a namespace deleted through this server is refused at once, though the cache still says Active", async () => {
    await inner.create(`${NS}dying`, namespace("dying"));
    await until(() => cache.of("", "namespaces")!.get(`${NS}dying`) !== undefined, "the namespace in the cache");
    s.hold();
    // The API server runs admission for the DELETE, then stores the deletionTimestamp.
    await admit(plugins, { operation: "DELETE", user: admin, group: "", version: "v1", resource: "namespaces", kind: "Namespace", name: "dying", dryRun: false });
    const { kv } = await inner.get(`${NS}dying`);
    await inner.update(`${NS}dying`, namespace("dying", { metadata: { deletionTimestamp: "2026-01-01T00:00:00Z" }, status: { phase: "Terminating" } }), kv!.modRevision);
    expect(cache.of("", "namespaces")!.get(`${NS}dying`).status.phase).toBe("Active"); // stale, as intended here

    const e = await rejection(
      admit(plugins, { operation: "CREATE", user: admin, group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespace: "dying", name: "x", object: { metadata: { name: "x" } }, dryRun: false }),
    );
    expect(e.code).toBe(403);
    expect(e.message).toBe('configmaps "x" is forbidden: unable to create new content in namespace dying because it is being terminated');
    expect(s.cachedReads()).toEqual([`get ${NS}dying`]);
  });

  test("a namespace deleted elsewhere is refused from the cache once the watch delivers it", async () => {
    await inner.create(`${NS}other`, namespace("other", { metadata: { deletionTimestamp: "2026-01-01T00:00:00Z" }, status: { phase: "Terminating" } }));
    await until(() => cache.of("", "namespaces")!.get(`${NS}other`) !== undefined, "the namespace in the cache");
    const e = await rejection(admit(plugins, podReq("other", "p")));
    expect(e.status.details!.causes![0]!.reason).toBe("NamespaceTerminating");
    expect(s.reads).toEqual([]);
  });

  test("relists after CompactedError and keeps following the store", async () => {
    const c2store = spy(inner);
    c2store.compactNextWatches(3);
    const c2 = new AdmissionCache(c2store.store);
    await c2.ready;
    await inner.create(`${NS}later`, namespace("later"));
    await until(() => c2.of("", "namespaces")!.get(`${NS}later`) !== undefined, "the namespace after relisting");
    // per resource: the first list, and one relist after its first watch was compacted away
    expect(c2store.reads.filter((r) => r.startsWith("list ")).length).toBe(3 * 2);
    c2.close();
  });

  test("a stopped cache (signal aborted) falls back to store reads and stays correct", async () => {
    const abort = new AbortController();
    const c3 = new AdmissionCache(s.store, { signal: abort.signal });
    await c3.ready;
    abort.abort();
    expect(c3.synced).toBe(false);
    s.reads.length = 0;
    const get = cachedGetter(s.store, c3);
    expect((await get.get("", "namespaces", undefined, "default")).metadata.name).toBe("default");
    expect((await get.list("scheduling.k8s.io", "priorityclasses")).length).toBe(2);
    expect(s.reads).toEqual([`get ${NS}default`, `list ${PC}`]);
  });

  test("close() on the plugin list stops the cache it started, not a shared one", async () => {
    const watchers = () => (inner as unknown as { watcherCount: number }).watcherCount;
    const shared = watchers(); // the beforeEach cache's three
    const own = defaultAdmissionPlugins({ store: s.store });
    await until(() => watchers() === shared + 3, "the new cache's watches");
    own.close();
    await until(() => watchers() === shared, "its watches to end");
    plugins.close();
    expect(cache.synced).toBe(true);
    expect(watchers()).toBe(shared);
  });

  test("the cache stops by itself when the store closes", async () => {
    const d = mkdtempSync(join(tmpdir(), "kubun-admission-cache-"));
    const st = await openStore({ dataDir: d });
    const c4 = new AdmissionCache(st);
    await c4.ready;
    expect(c4.synced).toBe(true);
    await st.close();
    await until(() => !c4.synced, "the cache to notice");
    rmSync(d, { recursive: true, force: true });
  });
});

describe("admission cache in the API server", () => {
  let c: TestCluster;
  let cs: SpyStore;
  let cdir: string;
  let cstore: Store;
  afterAll(async () => {
    await c?.stop();
    await cstore?.close();
    if (cdir) rmSync(cdir, { recursive: true, force: true });
  });

  test("pod creates over HTTP read no Namespace, PriorityClass or ServiceAccount after warm-up; a fresh namespace is admitted at once", async () => {
    cdir = mkdtempSync(join(tmpdir(), "kubun-admission-cache-cp-"));
    cstore = await openStore({ dataDir: join(cdir, "db") });
    cs = spy(cstore);
    c = await startTestCluster({ store: cs.store });
    const post = async (path: string, body: any) => {
      const r = await c.api(path, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
      return { code: r.status, json: (await r.json()) as any };
    };
    const pod = (name: string) => ({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [{ name: "c", image: "busybox" }] } });
    // No controller manager here: create the ServiceAccount it would.
    expect((await post("/api/v1/namespaces/default/serviceaccounts", { metadata: { name: "default" } })).code).toBe(201);

    // Warm-up: until the caches have caught up, a create may read the store.
    let clean = false;
    for (let i = 0; i < 50 && !clean; i++) {
      cs.reads.length = 0;
      expect((await post("/api/v1/namespaces/default/pods", pod(`warm${i}`))).code).toBe(201);
      clean = cs.cachedReads().length === 0;
      if (!clean) await Bun.sleep(20);
    }
    expect(clean).toBe(true);
    cs.reads.length = 0;
    for (let i = 0; i < 20; i++) {
      const r = await post("/api/v1/namespaces/default/pods", pod(`p${i}`));
      expect(r.code).toBe(201);
      expect(r.json.spec.priority).toBe(0);
    }
    expect(cs.cachedReads()).toEqual([]);

    // A namespace and its ServiceAccount, then a pod in it straight away.
    expect((await post("/api/v1/namespaces", { metadata: { name: "fresh" } })).code).toBe(201);
    expect((await post("/api/v1/namespaces/fresh/serviceaccounts", { metadata: { name: "default" } })).code).toBe(201);
    const r = await post("/api/v1/namespaces/fresh/pods", pod("first"));
    expect(r.code).toBe(201);
    expect(r.json.spec.serviceAccountName).toBe("default");
  }, 60_000);

  test("stopping the control plane stops the cache's watches (the store stays open: it is the test's)", async () => {
    const watchers = () => (cstore as unknown as { watcherCount: number }).watcherCount;
    expect(watchers()).toBeGreaterThanOrEqual(3);
    await c.stop();
    await until(() => watchers() === 0, "every watch on the store to end");
    const before = cs.reads.length;
    await Bun.sleep(50);
    expect(cs.reads.length).toBe(before); // no relist loop behind
  });
});
