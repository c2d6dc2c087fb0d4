// JSON patch (RFC 6902) and JSON merge patch (RFC 7386) with upstream's status codes.
import { describe, expect, test } from "bun:test";
import { applyJsonPatch, applyMergePatch, applyPatchByContentType, PatchError } from "../../internal/apiserver/patch/index.ts";

const cm = (): any => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "c", namespace: "default", labels: { a: "1" } },
  data: { k1: "v1", k2: "v2" },
});

function caught(fn: () => unknown): PatchError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PatchError);
    return e as PatchError;
  }
  throw new Error("expected a PatchError");
}

describe("applyJsonPatch", () => {
  test("add, replace, remove, copy, move and a passing test", () => {
    const src = cm();
    const out = applyJsonPatch(src, [
      { op: "test", path: "/data/k1", value: "v1" },
      { op: "add", path: "/data/k3", value: "v3" },
      { op: "replace", path: "/data/k1", value: "new" },
      { op: "remove", path: "/data/k2" },
      { op: "copy", from: "/data/k3", path: "/metadata/labels/b" },
      { op: "move", from: "/metadata/labels/a", path: "/metadata/labels/c" },
      { op: "add", path: "/metadata/finalizers", value: ["x"] },
      { op: "add", path: "/metadata/finalizers/-", value: "y" },
    ]);
    expect(out.data).toEqual({ k1: "new", k3: "v3" } as any);
    expect(out.metadata.labels).toEqual({ b: "v3", c: "1" } as any);
    expect((out.metadata as any).finalizers).toEqual(["x", "y"]);
    expect(src).toEqual(cm()); // input untouched
  });

  test("a failed test operation is 422 with upstream's generic message and the detail as a cause", () => {
    const e = caught(() => applyJsonPatch(cm(), [{ op: "test", path: "/data/k1", value: "nope" }, { op: "remove", path: "/data" }]));
    expect(e.code).toBe(422);
    expect(e.reason).toBe("Invalid");
    expect(e.message).toBe("the server rejected our request due to an error in our request");
    expect(e.causes).toEqual([]); // upstream sends none: kubectl prints only the generic message
    expect(e.detail).toBe("testing value /data/k1 failed: test failed");
  });

  test("operations on missing paths are 422", () => {
    expect(caught(() => applyJsonPatch(cm(), [{ op: "replace", path: "/spec/replicas", value: 1 }])).code).toBe(422);
    expect(caught(() => applyJsonPatch(cm(), [{ op: "remove", path: "/data/missing" }])).code).toBe(422);
    expect(caught(() => applyJsonPatch(cm(), [{ op: "add", path: "/a/b/c", value: 1 }])).code).toBe(422);
    expect(caught(() => applyJsonPatch(cm(), [{ op: "move", from: "/nope", path: "/x" }])).code).toBe(422);
  });

  test("unknown operations and missing values are 422", () => {
    const e = caught(() => applyJsonPatch(cm(), [{ op: "frob", path: "/data" }]));
    expect(e.code).toBe(422);
    expect(e.detail).toBe("Unexpected kind: frob");
    expect(caught(() => applyJsonPatch(cm(), [{ op: "add", path: "/data/x" }])).code).toBe(422);
  });

  test("a body that is not a list of operations is 400 BadRequest", () => {
    const e = caught(() => applyJsonPatch(cm(), { op: "add" }));
    expect(e.code).toBe(400);
    expect(e.reason).toBe("BadRequest");
    expect(e.message).toBe("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
    expect(caught(() => applyJsonPatch(cm(), "[{not json")).code).toBe(400);
    expect(caught(() => applyJsonPatch(cm(), [1])).code).toBe(400);
  });

  test('results look like upstream\'s Go round trip: emptied label maps are gone, null strings are ""', () => {
    const out = applyJsonPatch(cm(), [
      { op: "remove", path: "/metadata/labels/a" },
      { op: "add", path: "/metadata/annotations", value: { x: null } },
    ]);
    expect(out.metadata).toEqual({ name: "c", namespace: "default", annotations: { x: "" } } as any);
    const m = applyMergePatch(cm(), { metadata: { labels: { a: null } } });
    expect(m.metadata).toEqual({ name: "c", namespace: "default" } as any);
  });

  test("accepts the raw body text", () => {
    const out = applyJsonPatch(cm(), '[{"op":"replace","path":"/data/k1","value":"t"}]');
    expect(out.data.k1).toBe("t");
  });
});

describe("applyMergePatch", () => {
  // RFC 7386 Appendix A.
  const cases: any[][] = [
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  test.each(cases)("RFC 7386 example %#", (target, patch, result) => {
    expect(applyMergePatch(target, patch)).toEqual(result);
  });

  test("lists (e.g. containers) are replaced, nulls delete labels", () => {
    const pod: any = {
      metadata: { name: "p", labels: { a: "1", b: "2" } },
      spec: { containers: [{ name: "a", image: "x" }, { name: "b", image: "y" }] },
    };
    const out = applyMergePatch(pod, { metadata: { labels: { a: null } }, spec: { containers: [{ name: "b", image: "z" }] } });
    expect(out).toEqual({ metadata: { name: "p", labels: { b: "2" } }, spec: { containers: [{ name: "b", image: "z" }] } });
    expect(pod.spec.containers).toHaveLength(2);
  });

  test("a non-object patch is 400", () => {
    const e = caught(() => applyMergePatch(cm(), [1]));
    expect(e.code).toBe(400);
    expect(e.message).toBe("Invalid JSON Patch");
  });
});

describe("applyPatchByContentType", () => {
  test("dispatches on the media type and ignores parameters", () => {
    const gvk = { group: "", version: "v1", kind: "ConfigMap" };
    expect(applyPatchByContentType("application/merge-patch+json; charset=utf-8", cm(), { data: { k1: null } }, gvk).data).toEqual({ k2: "v2" } as any);
    expect(applyPatchByContentType("application/json-patch+json", cm(), [{ op: "remove", path: "/data" }], gvk).data).toBeUndefined();
    expect(applyPatchByContentType("application/strategic-merge-patch+json", cm(), { data: { k3: "3" } }, gvk).data.k3 as string).toBe("3");
  });

  test("unsupported media types are 415", () => {
    const e = caught(() => applyPatchByContentType("text/plain", cm(), {}, { group: "", version: "v1", kind: "ConfigMap" }));
    expect(e.code).toBe(415);
    expect(e.reason).toBe("UnsupportedMediaType");
    expect(e.message).toStartWith("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, ");
  });
});
