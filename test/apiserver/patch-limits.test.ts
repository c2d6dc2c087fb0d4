// Patch amplification (issue #9 item 4): a JSON patch is limited to 10,000 operations and its copy operations to
// 3 MiB copied in total (checked as they run); any patch result (JSON, merge, strategic, apply) larger than the
// 3 MiB request body limit is refused. The server runs in this process, so its memory is this process's.
import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { applyJsonPatch, PatchError } from "../../internal/apiserver/patch/index.ts";

let c: TestCluster;
const JSON_CT = { "content-type": "application/json" };
const BIG_ARG = "x".repeat(1000);

beforeAll(async () => {
  c = await startTestCluster();
  const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "seed" }, data: { v: "x".repeat(1000) } };
  expect((await c.api("/api/v1/namespaces/default/configmaps", { method: "POST", headers: JSON_CT, body: JSON.stringify(cm) })).status).toBe(201);
  // ~2 MB: fine as a body, but two of it are not.
  const tpl = {
    apiVersion: "v1",
    kind: "PodTemplate",
    metadata: { name: "big" },
    template: { spec: { containers: [{ name: "c", image: "busybox", args: Array(2000).fill(BIG_ARG) }] } },
  };
  expect((await c.api("/api/v1/namespaces/default/podtemplates", { method: "POST", headers: JSON_CT, body: JSON.stringify(tpl) })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

async function patch(path: string, type: string, body: string) {
  const res = await c.api(path, { method: "PATCH", headers: { "content-type": type }, body });
  return { status: res.status, body: (await res.json()) as any };
}

async function expectHealthy(): Promise<void> {
  const res = await c.api("/api/v1/namespaces/default/configmaps/seed");
  expect(res.status).toBe(200);
  expect(((await res.json()) as any).data.v).toHaveLength(1000);
}

describe("JSON patch bounds", () => {
  test("the 18-copy doubling patch is refused while it runs and the server stays small and healthy", async () => {
    const ops = Array.from({ length: 18 }, (_, i) => ({ op: "copy", from: "/data", path: `/data/c${i}` }));
    expect(JSON.stringify(ops).length).toBeLessThan(3000);
    Bun.gc(true);
    const before = process.memoryUsage().rss;
    const r = await patch("/api/v1/namespaces/default/configmaps/seed", "application/json-patch+json", JSON.stringify(ops));
    expect(r.status).toBe(422);
    expect(r.body.reason).toBe("Invalid");
    expect(r.body.message).toBe("the server rejected our request due to an error in our request");
    // Unbounded, 18 doublings of this 1 KB object are a quarter of a GiB of JSON (and several times that in
    // objects); bounded, the server copies at most 3 MiB.
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
    await expectHealthy();
  });

  test("more than 10,000 operations is upstream's 413", async () => {
    const ops = Array.from({ length: 10_001 }, () => ({ op: "test", path: "/kind", value: "ConfigMap" }));
    const r = await patch("/api/v1/namespaces/default/configmaps/seed", "application/json-patch+json", JSON.stringify(ops));
    expect(r.status).toBe(413);
    expect(r.body.reason).toBe("RequestEntityTooLarge");
    expect(r.body.message).toBe("Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001");
    const ok = await patch("/api/v1/namespaces/default/configmaps/seed", "application/json-patch+json", JSON.stringify(ops.slice(1)));
    expect(ok.status).toBe(200);
    await expectHealthy();
  });

  test("library: the copy limit counts every copy and says how much was copied", () => {
    const doc = { apiVersion: "v1", kind: "ConfigMap", data: { v: "x".repeat(1000) } };
    const ops = Array.from({ length: 18 }, (_, i) => ({ op: "copy", from: "/data", path: `/data/c${i}` }));
    let err: PatchError | undefined;
    try {
      applyJsonPatch(doc, ops);
    } catch (e) {
      err = e as PatchError;
    }
    expect(err).toBeInstanceOf(PatchError);
    expect(err!.code).toBe(422);
    expect(err!.detail).toMatch(/^Unable to complete the copy, the accumulated size increase of copy is \d+, exceeding the limit 3145728$/);
    // the same copies under a lower limit, and a few copies well within it
    expect(() => applyJsonPatch(doc, ops.slice(0, 2), { maxCopyBytes: 1500 })).toThrow(PatchError);
    const out = applyJsonPatch(doc, ops.slice(0, 3)) as any;
    expect(Object.keys(out.data)).toEqual(["v", "c0", "c1", "c2"]);
    expect(out.data.c2.c1.c0.v).toHaveLength(1000);
  });
});

describe("patch results are bounded like request bodies", () => {
  const TPL = "/api/v1/namespaces/default/podtemplates/big";
  const tooLarge = (r: { status: number; body: any }) => {
    expect(r.status).toBe(413);
    expect(r.body.reason).toBe("RequestEntityTooLarge");
    expect(r.body.message).toBe("Request entity too large: limit is 3145728");
  };

  test("JSON patch adding ~2 MB to a ~2 MB object", async () => {
    const ops = Array.from({ length: 2000 }, () => ({ op: "add", path: "/template/spec/containers/0/args/-", value: BIG_ARG }));
    tooLarge(await patch(TPL, "application/json-patch+json", JSON.stringify(ops)));
    await expectHealthy();
  });

  test("merge patch", async () => {
    tooLarge(await patch(TPL, "application/merge-patch+json", JSON.stringify({ metadata: { labels: { a: "b" } }, template: { spec: { initContainers: [{ name: "i", image: "busybox", args: Array(2000).fill(BIG_ARG) }] } } })));
    await expectHealthy();
  });

  test("strategic merge patch", async () => {
    tooLarge(await patch(TPL, "application/strategic-merge-patch+json", JSON.stringify({ template: { spec: { containers: [{ name: "d", image: "busybox", args: Array(2000).fill(BIG_ARG) }] } } })));
    await expectHealthy();
  });

  test("an object defaulting made larger than the limit only takes patches that do not grow it", async () => {
    // ~1.5 MB as sent, over 3 MiB once each container has its defaults
    const containers = Array.from({ length: 16_000 }, (_, i) => ({ name: `c${i}`, image: "busybox", ports: [{ containerPort: 1000 + i }], env: [{ name: "A", value: "b" }] }));
    const body = JSON.stringify({ apiVersion: "v1", kind: "PodTemplate", metadata: { name: "wide" }, template: { spec: { containers } } });
    expect(body.length).toBeLessThan(3 * 1024 * 1024);
    const created = await c.api("/api/v1/namespaces/default/podtemplates", { method: "POST", headers: JSON_CT, body });
    expect(created.status).toBe(201);
    const stored = (await created.json()) as any;
    expect(JSON.stringify({ ...stored, metadata: { ...stored.metadata, managedFields: undefined } }).length).toBeGreaterThan(3 * 1024 * 1024);
    tooLarge(await patch("/api/v1/namespaces/default/podtemplates/wide", "application/merge-patch+json", JSON.stringify({ metadata: { labels: { a: "b" } } })));
    const shrink = await patch("/api/v1/namespaces/default/podtemplates/wide", "application/json-patch+json", JSON.stringify([{ op: "remove", path: "/template/spec/containers/0" }]));
    expect(shrink.status).toBe(200);
    expect(shrink.body.template.spec.containers).toHaveLength(15_999);
    await expectHealthy();
  });

  test("server-side apply", async () => {
    const applied = { apiVersion: "v1", kind: "PodTemplate", metadata: { name: "big" }, template: { spec: { containers: [{ name: "e", image: "busybox", args: Array(2000).fill(BIG_ARG) }] } } };
    tooLarge(await patch(`${TPL}?fieldManager=big&force=true`, "application/apply-patch+yaml", JSON.stringify(applied)));
    // the object is unchanged and still patchable within the limit
    const small = await patch(TPL, "application/merge-patch+json", JSON.stringify({ metadata: { labels: { ok: "yes" } } }));
    expect(small.status).toBe(200);
    expect(small.body.template.spec.containers).toHaveLength(1);
    await expectHealthy();
  });
});
