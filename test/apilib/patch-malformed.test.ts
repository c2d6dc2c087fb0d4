// Malformed patches and applied configurations must end in a PatchError (a clear Status), never a crash.
import { expect, test } from "bun:test";
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  ApplyConflictError,
  PatchError,
  serverSideApply,
  updateManagedFields,
} from "../../internal/apiserver/patch/index.ts";

const POD = { group: "", version: "v1", kind: "Pod" };
const live: any = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "default", labels: { a: "b" }, finalizers: ["f"] },
  spec: { containers: [{ name: "c", image: "i", ports: [{ containerPort: 80 }], env: [{ name: "E", value: "v" }] }] },
};

const weird: unknown[] = [
  null,
  1,
  "x",
  [],
  { spec: { containers: "not a list" } },
  { spec: { containers: [1, 2] } },
  { spec: { containers: [[{ name: "c" }]] } },
  { spec: { containers: [{ name: "c", ports: "x" }] } },
  { spec: { containers: [{ name: "c", ports: [{ protocol: "UDP" }] }] } },
  { spec: { containers: [{ name: "c", env: [{ value: "no name" }] }] } },
  { spec: { containers: [{ $patch: "merge", name: "c" }] } },
  { spec: { containers: [{ $patch: 7 }] } },
  { spec: { "$setElementOrder/containers": [{ image: "x" }] } },
  { spec: { "$setElementOrder/containers": [1] } },
  { metadata: { "$deleteFromPrimitiveList/finalizers": [{ a: 1 }] } },
  { metadata: { $retainKeys: [1, 2] } },
  { metadata: { labels: [1] } },
  { metadata: { labels: { a: { nested: true } } } },
  { metadata: { finalizers: { a: 1 } } },
  { metadata: "string" },
  { spec: null, metadata: { managedFields: "x" } },
];

test.each(weird.map((w, i) => [i, w]))("strategic merge patch %# fails cleanly or succeeds", (_i, patch) => {
  try {
    const out = applyStrategicMergePatch(live, patch, POD);
    expect(typeof out).toBe("object");
  } catch (e) {
    expect(e).toBeInstanceOf(PatchError);
    expect([400, 422, 500]).toContain((e as PatchError).code);
    expect((e as PatchError).message.length).toBeGreaterThan(0);
  }
});

test.each(weird.map((w, i) => [i, w]))("server-side apply of %# fails cleanly or succeeds", (_i, cfg) => {
  const applied = cfg && typeof cfg === "object" && !Array.isArray(cfg) ? { apiVersion: "v1", kind: "Pod", ...(cfg as object) } : cfg;
  const owned = updateManagedFields({ updated: live, manager: "creator", gvk: POD });
  try {
    const out = serverSideApply({ live: owned, applied: applied as object, manager: "m", gvk: POD });
    expect(typeof out).toBe("object");
  } catch (e) {
    const ok = e instanceof PatchError || e instanceof ApplyConflictError;
    expect(ok).toBe(true);
  }
});

test("merge and JSON patch reject non-patches with 400", () => {
  for (const p of [null, 1, "x", []]) {
    expect(() => applyMergePatch(live, p)).toThrow(PatchError);
  }
  for (const p of [null, 1, { op: "add" }, [null], ["x"]]) {
    expect(() => applyJsonPatch(live, p)).toThrow(PatchError);
  }
});

test("managedFields with garbage entries are ignored rather than crashing", () => {
  const obj = structuredClone(live);
  obj.metadata.managedFields = [null, 1, { operation: "Bogus" }, { manager: "x", operation: "Update", fieldsV1: "nope" }];
  const next = structuredClone(obj);
  next.spec.containers[0].image = "j";
  const out: any = updateManagedFields({ old: obj, updated: next, manager: "m", gvk: POD });
  expect(out.metadata.managedFields.map((e: any) => e.manager)).toEqual(["m"]);
});
