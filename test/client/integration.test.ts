// The client core against the real API server: REST, errors, paged lists, watch, informer and events.
import { expect, setDefaultTimeout, test } from "bun:test";
import type { ConfigMap, Event } from "kubernetes-types/core/v1";
import { ApiError, createClient, createEventRecorder, fromKubeconfig, Informer, indexers, refs } from "../../internal/client/index.ts";
import { useSharedCluster } from "../helpers/shared-cluster.ts";

setDefaultTimeout(60_000);

const env = useSharedCluster();

const cm = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>): ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, labels },
  data,
});

async function until(cond: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(20);
  }
}

test("CRUD over HTTPS with the cluster CA, and Status errors", async () => {
  const cms = env.client.resource<ConfigMap>(refs.configmaps, "default");
  const created = await cms.create(cm("one", { a: "1" }));
  expect(created.metadata?.uid).toBeString();
  const merged = await cms.patch("one", "merge", { data: { b: "2" } });
  expect(merged.data).toEqual({ a: "1", b: "2" });
  const strategic = await cms.patch("one", "strategic", { data: { c: "3" } });
  expect(strategic.data).toEqual({ a: "1", b: "2", c: "3" });
  const jp = await cms.patch("one", "json", [{ op: "remove", path: "/data/a" }]);
  expect(jp.data).toEqual({ b: "2", c: "3" });
  const applied = await cms.patch("one", "apply", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "one" }, data: { d: "4" } }, { fieldManager: "test", force: true });
  expect(applied.data?.d).toBe("4");
  const stale = { ...created, data: { x: "y" } };
  const conflict = await cms.update(stale).catch((e) => e);
  expect(conflict).toBeInstanceOf(ApiError);
  expect(conflict.code).toBe(409);
  expect(conflict.reason).toBe("Conflict");
  await cms.delete("one");
  const gone = await cms.get("one").catch((e) => e);
  expect(gone.code).toBe(404);
  expect(gone.reason).toBe("NotFound");
  expect(gone.message).toBe('configmaps "one" not found');
});

test("fromKubeconfig reads the kubeconfig the server wrote", async () => {
  const cfg = fromKubeconfig(env.cluster.kubeconfigPath);
  const c = createClient(cfg);
  const ns = await c.resource(refs.namespaces).get("default");
  expect(ns.metadata.name).toBe("default");
});

test("informer: paged list, watch, indexes, deletes", async () => {
  const cms = env.client.resource<ConfigMap>(refs.configmaps, "inf");
  await env.client.resource(refs.namespaces).create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "inf" } });
  for (let i = 0; i < 7; i++) await cms.create(cm(`c${i}`, {}, { group: i % 2 ? "odd" : "even" }));
  const ac = new AbortController();
  const inf = new Informer<ConfigMap>(cms, { pageSize: 2 });
  inf.addIndexer("group", indexers.byLabel("group"));
  const seen: string[] = [];
  inf.addEventHandler({
    onAdd: (o) => seen.push(`add ${o.metadata!.name}`),
    onUpdate: (_a, b) => seen.push(`update ${b.metadata!.name}`),
    onDelete: (o) => seen.push(`delete ${o.metadata!.name}`),
  });
  void inf.run(ac.signal);
  await inf.synced;
  // kube-root-ca.crt may or may not exist depending on controllers; count ours.
  expect(inf.list().filter((o) => o.metadata!.name!.startsWith("c")).length).toBe(7);
  expect(inf.byIndex("group", "odd").length).toBe(3);
  await cms.patch("c1", "merge", { metadata: { labels: { group: "even" } } });
  await cms.delete("c2");
  await cms.create(cm("c9"));
  await until(() => seen.includes("add c9") && seen.includes("delete c2") && seen.includes("update c1"));
  expect(inf.byIndex("group", "odd").length).toBe(2);
  expect(inf.get("inf/c2")).toBeUndefined();
  ac.abort();
});

test("event recorder aggregates repeats on the real server", async () => {
  const rec = createEventRecorder(env.client, { component: "kubun-test", host: "h" });
  const obj = await env.client.resource<ConfigMap>(refs.configmaps, "default").create(cm("evobj"));
  const ref = { ...obj, kind: "ConfigMap", apiVersion: "v1" };
  await rec.event(ref, "Normal", "Tested", "it happened");
  await rec.event(ref, "Normal", "Tested", "it happened");
  await rec.event(ref, "Normal", "Tested", "it happened");
  const evs = (await env.client.resource<Event>(refs.events, "default").list()).items.filter((e) => e.involvedObject.name === "evobj");
  expect(evs.length).toBe(1);
  expect(evs[0]).toMatchObject({ reason: "Tested", message: "it happened", count: 3, type: "Normal", source: { component: "kubun-test", host: "h" } });
  const kd = await env.cluster.kubectl(["get", "events", "-n", "default", "--field-selector", "involvedObject.name=evobj"]);
  expect(kd.code).toBe(0);
  expect(kd.stdout).toContain("it happened");
});
