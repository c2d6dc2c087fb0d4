// Issue 17 (write path): a create is encoded once and answered with the stored bytes, the same ones the watch
// fan-out sends. What the client gets back must be exactly what GET, LIST and WATCH show for the object, in every
// rendering, after compaction and after a restart on the same data; and the cheaper validation walks must report
// the same paths as before.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { duplicateFields } from "../../internal/apiserver/validation/duplicates.ts";
import { updateManagedFields } from "../../internal/apiserver/patch/update.ts";
import { admit } from "../../internal/apiserver/admission.ts";
import { StatusError } from "../../internal/api/status.ts";
import { defaultObject, typeErrors, typeMismatches, unknownFields, validateObject } from "../../internal/apiserver/validation/index.ts";

setDefaultTimeout(120_000);
const dataDir = mkdtempSync(join(tmpdir(), "kubun-wbytes-"));
let c: TestCluster;
const json = { "Content-Type": "application/json" };

beforeAll(async () => {
  c = await startTestCluster({ dataDir });
  await must(await c.api("/api/v1/namespaces", { method: "POST", headers: json, body: JSON.stringify({ metadata: { name: "wb" } }) }));
  // Pods need the namespace's default ServiceAccount (no controller manager runs here to make it).
  await must(await c.api("/api/v1/namespaces/wb/serviceaccounts", { method: "POST", headers: json, body: JSON.stringify({ metadata: { name: "default" } }) }));
});
afterAll(async () => {
  await c?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function must(r: Response, want = [200, 201]): Promise<any> {
  const text = await r.text();
  if (!want.includes(r.status)) throw new Error(`HTTP ${r.status}: ${text}`);
  return JSON.parse(text);
}

const pod = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels: { app: "wb" }, annotations: { note: "x" } },
  spec: { containers: [{ name: "app", image: "busybox", env: [{ name: "A", value: "1" }] }] },
  ...extra,
});

/** Events of a watch from `rv` until one for `name` of `type` arrives. */
async function watchFor(path: string, rv: string, name: string, type = "ADDED"): Promise<any> {
  const ac = new AbortController();
  const res = await c.api(`${path}?watch=1&resourceVersion=${rv}`, { signal: ac.signal });
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("watch ended");
      buf += dec.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const ev = JSON.parse(line);
        if (ev.type === type && ev.object?.metadata?.name === name) return ev.object;
      }
    }
  } finally {
    ac.abort();
  }
}

async function listItem(path: string, name: string): Promise<any> {
  const list = await must(await c.api(path));
  return list.items.find((i: any) => i.metadata.name === name);
}

describe("create answers with the stored object", () => {
  test("the create response equals GET, the LIST item and the WATCH event, byte-for-byte semantically", async () => {
    const rv0 = (await must(await c.api("/api/v1/namespaces/wb/pods"))).metadata.resourceVersion;
    const watched = watchFor("/api/v1/namespaces/wb/pods", rv0, "p1");
    const created = await must(await c.api("/api/v1/namespaces/wb/pods", { method: "POST", headers: json, body: JSON.stringify(pod("p1")) }), [201]);
    expect(created.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(created.metadata.uid).toBeTruthy();
    expect(created.metadata.managedFields?.[0]?.manager).toBeTruthy();
    // Defaults are in the answer (they were applied before the one encoding).
    expect(created.spec.restartPolicy).toBe("Always");
    expect(created.spec.containers[0].terminationMessagePath).toBe("/dev/termination-log");
    const got = await must(await c.api("/api/v1/namespaces/wb/pods/p1"));
    expect(got).toEqual(created);
    expect(await listItem("/api/v1/namespaces/wb/pods", "p1")).toEqual(created);
    expect(await watched).toEqual(created);
  });

  test("a value that itself contains \"resourceVersion\" (slow path) still gets the object's own", async () => {
    const body = pod("p2", {});
    body.metadata.annotations = { "resourceVersion": "not-this-one", note: '{"resourceVersion":"1"}' } as any;
    const created = await must(await c.api("/api/v1/namespaces/wb/pods", { method: "POST", headers: json, body: JSON.stringify(body) }), [201]);
    expect(created.metadata.annotations.resourceVersion).toBe("not-this-one");
    const got = await must(await c.api("/api/v1/namespaces/wb/pods/p2"));
    expect(created.metadata.resourceVersion).toBe(got.metadata.resourceVersion);
    expect(got).toEqual(created);
  });

  test("other renderings of the create answer: YAML, Table, PartialObjectMetadata, protobuf, pretty", async () => {
    const yaml = await c.api("/api/v1/namespaces/wb/configmaps", { method: "POST", headers: { ...json, Accept: "application/yaml" }, body: JSON.stringify({ metadata: { name: "y1" }, data: { a: "b" } }) });
    expect(yaml.status).toBe(201);
    expect(yaml.headers.get("content-type")).toContain("yaml");
    expect(await yaml.text()).toContain("name: y1");
    const table = await must(await c.api("/api/v1/namespaces/wb/configmaps", { method: "POST", headers: { ...json, Accept: "application/json;as=Table;v=v1;g=meta.k8s.io" }, body: JSON.stringify({ metadata: { name: "t1" }, data: { a: "b" } }) }), [201]);
    expect(table.kind).toBe("Table");
    expect(table.rows[0].cells[0]).toBe("t1");
    const meta = await must(await c.api("/api/v1/namespaces/wb/configmaps", { method: "POST", headers: { ...json, Accept: "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io" }, body: JSON.stringify({ metadata: { name: "m1" }, data: { a: "b" } }) }), [201]);
    expect(meta.kind).toBe("PartialObjectMetadata");
    expect(meta.data).toBeUndefined();
    const pb = await c.api("/api/v1/namespaces/wb/configmaps", { method: "POST", headers: { ...json, Accept: "application/vnd.kubernetes.protobuf, application/json" }, body: JSON.stringify({ metadata: { name: "pb1" }, data: { a: "b" } }) });
    expect(pb.status).toBe(201);
    expect(pb.headers.get("content-type")).toBe("application/vnd.kubernetes.protobuf");
    const pretty = await c.api("/api/v1/namespaces/wb/configmaps?pretty=true", { method: "POST", headers: json, body: JSON.stringify({ metadata: { name: "pr1" }, data: { a: "b" } }) });
    const text = await pretty.text();
    expect(text).toContain('\n  "metadata": {');
    expect(JSON.parse(text).metadata.resourceVersion).toMatch(/^\d+$/);
  });

  test("dryRun answers with the object it would store and stores nothing", async () => {
    const r = await must(await c.api("/api/v1/namespaces/wb/pods?dryRun=All", { method: "POST", headers: json, body: JSON.stringify(pod("dry")) }), [201]);
    expect(r.metadata.name).toBe("dry");
    expect(r.spec.restartPolicy).toBe("Always");
    expect((await c.api("/api/v1/namespaces/wb/pods/dry")).status).toBe(404);
  });

  test("a kind stored in another version (autoscaling/v1 HPA) answers in the version it was asked in", async () => {
    const hpa = { apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler", metadata: { name: "h1" }, spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "d" }, minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 70 } };
    const created = await must(await c.api("/apis/autoscaling/v1/namespaces/wb/horizontalpodautoscalers", { method: "POST", headers: json, body: JSON.stringify(hpa) }), [201]);
    expect(created.apiVersion).toBe("autoscaling/v1");
    expect(created.spec.targetCPUUtilizationPercentage).toBe(70);
    expect(await must(await c.api("/apis/autoscaling/v1/namespaces/wb/horizontalpodautoscalers/h1"))).toEqual(created);
  });

  test("after compaction and after a restart on the same data, GET/LIST/WATCH show what the create answered", async () => {
    const created = await must(await c.api("/api/v1/namespaces/wb/pods", { method: "POST", headers: json, body: JSON.stringify(pod("p3")) }), [201]);
    await c.store.compact(await c.store.currentRevision());
    expect(await must(await c.api("/api/v1/namespaces/wb/pods/p3"))).toEqual(created);
    expect(await listItem("/api/v1/namespaces/wb/pods", "p3")).toEqual(created);
    // A watch from the create's own revision still sees the object's next write (delete) with the stored bytes.
    const rv = (await must(await c.api("/api/v1/namespaces/wb/pods"))).metadata.resourceVersion;
    const deleted = watchFor("/api/v1/namespaces/wb/pods", rv, "p3", "DELETED");
    await must(await c.api("/api/v1/namespaces/wb/pods/p3?gracePeriodSeconds=0", { method: "DELETE" }));
    const del = await deleted;
    expect(del.spec).toEqual(created.spec);
    expect(del.metadata.uid).toBe(created.metadata.uid);

    const p1 = await must(await c.api("/api/v1/namespaces/wb/pods/p1"));
    await c.stop();
    c = await startTestCluster({ dataDir });
    expect(await must(await c.api("/api/v1/namespaces/wb/pods/p1"))).toEqual(p1);
    expect(await listItem("/api/v1/namespaces/wb/pods", "p1")).toEqual(p1);
    // Creates after the restart answer with what is stored, and the watch sees the same.
    const rv2 = (await must(await c.api("/api/v1/namespaces/wb/pods"))).metadata.resourceVersion;
    const watched = watchFor("/api/v1/namespaces/wb/pods", rv2, "p4");
    const p4 = await must(await c.api("/api/v1/namespaces/wb/pods", { method: "POST", headers: json, body: JSON.stringify(pod("p4")) }), [201]);
    expect(Number(p4.metadata.resourceVersion)).toBeGreaterThan(Number(p1.metadata.resourceVersion));
    expect(await watched).toEqual(p4);
    expect(await must(await c.api("/api/v1/namespaces/wb/pods/p4"))).toEqual(p4);
  });

  test("update, patch and apply answer with what GET and the MODIFIED event show; a no-op keeps its resourceVersion", async () => {
    const base = await must(await c.api("/api/v1/namespaces/wb/configmaps", { method: "POST", headers: json, body: JSON.stringify({ metadata: { name: "u1", labels: { a: "1" } }, data: { k: "v" } }) }), [201]);
    const path = "/api/v1/namespaces/wb/configmaps";
    const check = async (send: () => Promise<Response>, type = "MODIFIED") => {
      const rv = (await must(await c.api(path))).metadata.resourceVersion;
      const watched = watchFor(path, rv, "u1", type);
      const answer = await must(await send());
      expect(Number(answer.metadata.resourceVersion)).toBeGreaterThan(Number(rv) - 1);
      expect(await must(await c.api(`${path}/u1`))).toEqual(answer);
      expect(await watched).toEqual(answer);
      return answer;
    };
    const put = await check(() => c.api(`${path}/u1`, { method: "PUT", headers: json, body: JSON.stringify({ ...base, data: { k: "v2" } }) }));
    expect(put.data).toEqual({ k: "v2" });
    const merge = await check(() => c.api(`${path}/u1`, { method: "PATCH", headers: { "Content-Type": "application/merge-patch+json" }, body: JSON.stringify({ data: { m: "1" } }) }));
    expect(merge.data).toEqual({ k: "v2", m: "1" });
    const smp = await check(() => c.api(`${path}/u1`, { method: "PATCH", headers: { "Content-Type": "application/strategic-merge-patch+json" }, body: JSON.stringify({ metadata: { labels: { b: "2" } } }) }));
    expect(smp.metadata.labels).toEqual({ a: "1", b: "2" });
    const applied = await check(() => c.api(`${path}/u1?fieldManager=wb&force=true`, { method: "PATCH", headers: { "Content-Type": "application/apply-patch+yaml" }, body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "u1" }, data: { s: "a" } }) }));
    expect(applied.data.s).toBe("a");
    expect(applied.metadata.managedFields.some((m: any) => m.manager === "wb" && m.operation === "Apply")).toBe(true);
    // The same object again (and with a selfLink, which is never stored): nothing written, resourceVersion kept.
    const again = await must(await c.api(`${path}/u1`, { method: "PUT", headers: json, body: JSON.stringify({ ...applied, metadata: { ...applied.metadata, selfLink: "/x" } }) }));
    expect(again.metadata.resourceVersion).toBe(applied.metadata.resourceVersion);
    expect(await must(await c.api(`${path}/u1`))).toEqual(applied);
    // A status write of a pod answers with its stored bytes too.
    await must(await c.api("/api/v1/namespaces/wb/pods", { method: "POST", headers: json, body: JSON.stringify(pod("ps")) }), [201]);
    const live = await must(await c.api("/api/v1/namespaces/wb/pods/ps"));
    const st = await must(await c.api("/api/v1/namespaces/wb/pods/ps/status", { method: "PUT", headers: json, body: JSON.stringify({ ...live, status: { ...live.status, phase: "Running" } }) }));
    expect(st.status.phase).toBe("Running");
    expect(await must(await c.api("/api/v1/namespaces/wb/pods/ps"))).toEqual(st);
  });

  test("concurrent creates each get their own object back", async () => {
    const names = Array.from({ length: 40 }, (_, i) => `cc-${i}`);
    const answers = await Promise.all(names.map(async (n) => must(await c.api("/api/v1/namespaces/wb/configmaps", { method: "POST", headers: json, body: JSON.stringify({ metadata: { name: n }, data: { who: n } }) }), [201])));
    const list = await must(await c.api("/api/v1/namespaces/wb/configmaps"));
    for (const a of answers) {
      expect(a.data.who).toBe(a.metadata.name);
      expect(list.items.find((i: any) => i.metadata.name === a.metadata.name)).toEqual(a);
    }
    expect(new Set(answers.map((a) => a.metadata.resourceVersion)).size).toBe(names.length);
  });
});

describe("validation walks report the same paths", () => {
  const ri = { group: "", version: "v1", kind: "Pod", resource: "pods", namespaced: true } as any;
  test("type mismatches name Go's path and the field with indices and map keys", () => {
    const bad = { apiVersion: "v1", kind: "Pod", metadata: { name: "x", labels: { a: 1 } }, spec: { containers: [{ name: "a", image: "i" }, { name: "b", image: 3, ports: [{ containerPort: "80" }] }], nodeSelector: { k: true } } };
    const m = typeMismatches(ri, bad);
    expect(m.map((x) => x.field)).toEqual(["metadata.labels[a]", "spec.containers[1].image", "spec.containers[1].ports[0].containerPort", "spec.nodeSelector[k]"]);
    expect(m[1]!.goError).toBe("json: cannot unmarshal number into Go struct field Container.spec.containers.image of type string");
    expect(m[2]!.goError).toBe("json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32");
    expect(m[0]!.goError).toBe("json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string");
  });
  test("unknown fields name the path with list indices; map keys are never unknown", () => {
    const obj = { metadata: { name: "x", labels: { "any.key": "v" }, bogus: 1 }, spec: { containers: [{ name: "a" }, { name: "b", extra: { deep: 1 } }], "a.b": 2 } };
    expect(unknownFields(ri, obj)).toEqual(["metadata.bogus", "spec.containers[1].extra", "spec.a.b"]);
  });
  test("defaulting trusts a type check of the same object only while no null was turned into a value", () => {
    const clean: any = { apiVersion: "v1", kind: "Pod", metadata: { name: "x", namespace: "d" }, spec: { containers: [{ name: "a", image: "i" }] } };
    expect(typeErrors(ri, clean)).toEqual([]);
    defaultObject(ri, clean);
    expect(clean.spec.restartPolicy).toBe("Always");
    // [null] in a list of strings becomes [{}] (no sibling to copy the kind from): wrongly typed, so not defaulted,
    // and validation names the element.
    const nulls: any = { apiVersion: "v1", kind: "Pod", metadata: { name: "x", namespace: "d" }, spec: { containers: [{ name: "a", image: "i", args: [null] }] } };
    expect(typeErrors(ri, nulls)).toEqual([]);
    defaultObject(ri, nulls);
    expect(nulls.spec.restartPolicy).toBeUndefined();
    expect(validateObject(ri, nulls).map((c) => c.field)).toEqual(["spec.containers[0].args[0]"]);
  });
  test("validation after admission walks again what a mutating webhook patched (well-typed before is not enough)", async () => {
    const mk = (): any => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "x", namespace: "d" }, spec: { containers: [{ name: "a", image: "i" }] } });
    const admitWith = async (obj: any, mutate: (o: any) => any) => {
      expect(typeErrors(ri, obj)).toEqual([]);
      defaultObject(ri, obj);
      const deps: any = { admission: [], schema: { validateObject }, webhooks: { mutate: async (a: any) => mutate(a.object), validate: async () => {} } };
      return admit({ deps, ri, user: { username: "u", groups: [] } as any, operation: "CREATE", namespace: "d", name: "x", object: obj, dryRun: false });
    };
    // No webhook change: admitted (the type walk is skipped, the rules still run).
    expect((await admitWith(mk(), (o) => o))?.spec.containers[0].image).toBe("i");
    // A webhook's patch is a new object: a wrongly typed value in it is a 422 naming the field.
    const err = await admitWith(mk(), (o) => ({ ...structuredClone(o), spec: { ...o.spec, containers: [{ ...o.spec.containers[0], image: 3 }] } })).catch((e) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect(err.code).toBe(422);
    expect(JSON.stringify(err.toStatus())).toContain("spec.containers[0].image in body must be of type string");
    // Rules still run on an object whose walk was skipped.
    const bad = mk();
    bad.spec.containers[0].name = "Not_A_DNS_Label";
    const ruleErr = await admitWith(bad, (o) => o).catch((e) => e);
    expect(ruleErr.code).toBe(422);
  });
  test("managedFields of a create: every field name its own path element, prototype names included, past the name cache", () => {
    const gvk = { group: "", version: "v1", kind: "ConfigMap" };
    const fields = (data: Record<string, string>) =>
      (updateManagedFields({ updated: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data }, manager: "m", gvk, handOver: true }) as any).metadata.managedFields[0].fieldsV1;
    const data = JSON.parse('{"__proto__":"a","constructor":"b","toString":"c"}');
    expect(Object.keys(fields(data)["f:data"])).toEqual([".", "f:__proto__", "f:constructor", "f:toString"]);
    // Many distinct names (more than the cache keeps): each still gets exactly its own element.
    const many = Object.fromEntries(Array.from({ length: 9000 }, (_, i) => [`k${i}`, "v"]));
    const got = Object.keys(fields(many)["f:data"]).filter((k) => k !== ".");
    expect(got.length).toBe(9000);
    expect(new Set(got)).toEqual(new Set(Object.keys(many).map((k) => `f:${k}`)));
    expect(Object.keys(fields({ k1: "v", k8999: "v" })["f:data"])).toEqual([".", "f:k1", "f:k8999"]);
  });
  test("duplicate keys: nested, in lists, escaped, with any JSON whitespace", () => {
    expect(duplicateFields('{"a":1,"a":2}')).toEqual(["a"]);
    expect(duplicateFields('{"spec":{"containers":[{"name":"a"},{"name":"b","name":"c"}]}}')).toEqual(["spec.containers[1].name"]);
    expect(duplicateFields('{"m":{"k":[1,2,{"x":1}],"k":{}},"m":0}')).toEqual(["m.k", "m"]);
    // "\u0061" is "a": a duplicate once unescaped.
    expect(duplicateFields('{ "a" : 1 ,\n\t"\\u0061"\r\n:\t2 }')).toEqual(["a"]);
    expect(duplicateFields('{"q\\"":1,"q\\"":2,"x":"a\\"b","y":"a\\"b"}')).toEqual(['q"']);
    expect(duplicateFields('[{"a":1},{"a":1},[{"b":1,"b":2}]]')).toEqual(["[2][0].b"]);
    expect(duplicateFields('{"__proto__":1,"__proto__":2,"constructor":{"a":true,"a":null}}')).toEqual(["__proto__", "constructor.a"]);
    expect(duplicateFields('{"a":"{\\"a\\":1,\\"a\\":2}"}')).toEqual([]);
  });
});
