import { afterEach, beforeEach, expect, test } from "bun:test";
import { createClient, indexers, Informer, refs, SharedInformerFactory } from "../../internal/client/index.ts";
import { startFakeApiServer, type FakeApiServer } from "./fake-apiserver.ts";

let srv: FakeApiServer;
let ac: AbortController;
beforeEach(() => {
  srv = startFakeApiServer();
  ac = new AbortController();
});
afterEach(() => {
  ac.abort();
  srv.stop();
});

const P = "/api/v1/namespaces/x/pods";
const pod = (name: string, node?: string, labels?: Record<string, string>) => ({
  metadata: { name, namespace: "x", labels },
  spec: node ? { nodeName: node } : {},
});

async function until(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(5);
  }
}

test("lists in pages, syncs, then follows the watch with handlers and indexes", async () => {
  for (let i = 0; i < 7; i++) srv.put(P, pod(`p${i}`, i % 2 ? "n1" : "n2"));
  const c = createClient({ server: srv.url, token: "t0k3n" });
  const inf = new Informer<any>(c.resource(refs.pods), { pageSize: 3, minBackoffMs: 10 });
  inf.addIndexer("node", indexers.byNodeName);
  const log: string[] = [];
  inf.addEventHandler({
    onAdd: (o) => log.push(`add ${o.metadata.name}`),
    onUpdate: (a, b) => log.push(`update ${b.metadata.name}`),
    onDelete: (o, unknown) => log.push(`delete ${o.metadata.name} ${unknown}`),
  });
  expect(inf.hasSynced()).toBe(false);
  void inf.run(ac.signal);
  await inf.synced;
  expect(inf.hasSynced()).toBe(true);
  expect(inf.size).toBe(7);
  // 7 items with limit 3 → 3 list pages.
  expect(srv.requests.filter((r) => r.method === "GET" && r.search.includes("limit=3")).length).toBe(3);
  expect(inf.byIndex("node", "n1").map((p) => p.metadata.name).sort()).toEqual(["p1", "p3", "p5"]);

  await until(() => srv.watchers() === 1);
  srv.put(P, pod("p1", "n2"));
  srv.remove(P, "x", "p0");
  srv.put(P, pod("new", "n1"));
  await until(() => log.length === 10);
  expect(log.slice(7)).toEqual(["update p1", "delete p0 false", "add new"]);
  expect(inf.byIndex("node", "n1").map((p) => p.metadata.name).sort()).toEqual(["new", "p3", "p5"]);
  expect(inf.get("x/p0")).toBeUndefined();
  expect(inf.getByName("x", "new")?.spec.nodeName).toBe("n1");
});

test("a late handler gets the cache replayed as adds", async () => {
  srv.put(P, pod("a"));
  const c = createClient({ server: srv.url, token: "t0k3n" });
  const inf = new Informer<any>(c.resource(refs.pods));
  void inf.run(ac.signal);
  await inf.synced;
  const got: string[] = [];
  inf.addEventHandler({ onAdd: (o) => got.push(o.metadata.name) });
  expect(got).toEqual(["a"]);
});

test("relists on 410 Expired and emits tombstoned deletes for objects missed meanwhile", async () => {
  srv.put(P, pod("keep"));
  srv.put(P, pod("gone"));
  const c = createClient({ server: srv.url, token: "t0k3n" });
  const inf = new Informer<any>(c.resource(refs.pods), { minBackoffMs: 10 });
  const deletes: string[] = [];
  const adds: string[] = [];
  inf.addEventHandler({ onDelete: (o, unknown) => deletes.push(`${o.metadata.name} ${unknown}`), onAdd: (o) => adds.push(o.metadata.name) });
  void inf.run(ac.signal);
  await inf.synced;
  await until(() => srv.watchers() === 1);
  // Break the watch, change things while it is down, and compact history so the resume gets 410.
  srv.breakWatches();
  const before = srv.requests.length;
  // Changes made without notifying anybody (no watcher connected yet, and history compacted).
  srv.remove(P, "x", "gone");
  srv.put(P, pod("fresh"));
  srv.compact();
  await until(() => deletes.length === 1 && adds.includes("fresh"));
  expect(deletes).toEqual(["gone true"]);
  expect(inf.keys().sort()).toEqual(["x/fresh", "x/keep"]);
  expect(srv.requests.slice(before).some((r) => r.method === "GET" && !r.search.includes("watch"))).toBe(true);
});

test("bookmarks advance the resourceVersion used to resume", async () => {
  const c = createClient({ server: srv.url, token: "t0k3n" });
  srv.put("/api/v1/namespaces/y/pods", { metadata: { name: "other", namespace: "y" } });
  const inf = new Informer<any>(c.resource(refs.pods, "x"));
  void inf.run(ac.signal);
  await inf.synced;
  await until(() => srv.watchers() === 1);
  expect(srv.requests.find((r) => r.search.includes("watch"))!.search).toContain("allowWatchBookmarks=true");
  const rv0 = inf.lastSyncResourceVersion();
  srv.put("/api/v1/namespaces/y/pods", { metadata: { name: "other2", namespace: "y" } });
  srv.bookmark();
  await until(() => inf.lastSyncResourceVersion() !== rv0);
  expect(Number(inf.lastSyncResourceVersion())).toBeGreaterThan(Number(rv0));
});

test("shared factory gives one informer (one watch) per resource", async () => {
  const c = createClient({ server: srv.url, token: "t0k3n" });
  const f = new SharedInformerFactory(c);
  const a = f.informerFor(refs.pods);
  const b = f.informerFor(refs.pods);
  const n = f.informerFor(refs.nodes);
  expect(a).toBe(b);
  expect(a).not.toBe(n);
  f.start(ac.signal);
  expect(await f.waitForSync()).toBe(true);
  await until(() => srv.watchers() === 2);
  await Bun.sleep(20);
  expect(srv.watchers()).toBe(2);
});

test("resync calls onUpdate for cached objects periodically", async () => {
  srv.put(P, pod("r1"));
  const c = createClient({ server: srv.url, token: "t0k3n" });
  const inf = new Informer<any>(c.resource(refs.pods), { resyncMs: 30 });
  let resyncs = 0;
  inf.addEventHandler({ onUpdate: (a, b) => void (a === b && resyncs++) });
  void inf.run(ac.signal);
  await until(() => resyncs >= 2);
  expect(resyncs).toBeGreaterThanOrEqual(2);
});

test("cached objects carry no managedFields unless asked to keep them; the rest of the object is as received", async () => {
  const mf = [{ manager: "kubectl", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:spec": {} } }];
  const withMF = (name: string, node: string) => ({ ...pod(name, node, { app: "a" }), metadata: { name, namespace: "x", labels: { app: "a" }, managedFields: mf } });
  srv.put(P, withMF("listed", "n1"));
  const c = createClient({ server: srv.url, token: "t0k3n" });
  const stripped = new Informer<any>(c.resource(refs.pods), { minBackoffMs: 10 });
  const kept = new Informer<any>(c.resource(refs.pods), { minBackoffMs: 10, keepManagedFields: true });
  const seen: any[] = [];
  stripped.addEventHandler({ onAdd: (o) => seen.push(o), onUpdate: (_, o) => seen.push(o), onDelete: (o) => seen.push(o) });
  void stripped.run(ac.signal);
  void kept.run(ac.signal);
  await Promise.all([stripped.synced, kept.synced]);
  await until(() => srv.watchers() === 2);
  srv.put(P, withMF("watched", "n2"));
  srv.put(P, withMF("listed", "n3"));
  srv.remove(P, "x", "watched");
  await until(() => seen.length === 4 && kept.get("x/listed")?.spec.nodeName === "n3");
  // list item, watch ADDED, MODIFIED and DELETED: none carries managedFields, in the cache or in handlers.
  expect(seen.map((o) => [o.metadata.name, "managedFields" in o.metadata])).toEqual([
    ["listed", false],
    ["watched", false],
    ["listed", false],
    ["watched", false],
  ]);
  const { managedFields, ...rest } = kept.get("x/listed").metadata;
  expect(stripped.get("x/listed")).toEqual({ metadata: rest, spec: { nodeName: "n3" } });
  expect(rest.uid).toBeDefined();
  expect(kept.get("x/listed")?.metadata.managedFields).toEqual(mf);
});
