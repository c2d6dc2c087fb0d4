// FieldsV1 encoding and set algebra (structured-merge-diff's fieldpath.Set).
import { expect, test } from "bun:test";
import { FieldSet, pathString } from "../../internal/apiserver/patch/index.ts";

const fieldsV1 = {
  "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
  "f:spec": {
    "f:containers": {
      'k:{"name":"nginx"}': { ".": {}, "f:image": {}, "f:name": {} },
    },
    "f:finalizers": { 'v:"a"': {} },
  },
};

test("FieldsV1 decodes and encodes back unchanged, '.' marking nodes that are members", () => {
  const s = FieldSet.fromFieldsV1(fieldsV1);
  expect(s.toFieldsV1()).toEqual(fieldsV1);
  expect(s.has(["f:metadata", "f:labels"])).toBe(true);
  expect(s.has(["f:metadata"])).toBe(false);
  expect(s.has(["f:spec", "f:containers", 'k:{"name":"nginx"}', "f:image"])).toBe(true);
  expect(s.hasPrefix(["f:spec", "f:containers"])).toBe(true);
});

test("fields come before keyed items, then values; members print as {}", () => {
  const s = FieldSet.fromPaths([
    ["f:list", 'v:"b"'],
    ["f:list", 'k:{"a":1}'],
    ["f:list", "f:x"],
    ["f:b"],
    ["f:a"],
  ]);
  expect(Object.keys(s.toFieldsV1())).toEqual(["f:a", "f:b", "f:list"]);
  expect(Object.keys(s.toFieldsV1()["f:list"] as object)).toEqual(["f:x", 'k:{"a":1}', 'v:"b"']);
});

test("union, intersection, difference and recursive difference", () => {
  const a = FieldSet.fromPaths([["f:spec", "f:replicas"], ["f:spec", "f:template", "f:x"], ["f:status"]]);
  const b = FieldSet.fromPaths([["f:spec", "f:replicas"], ["f:spec", "f:paused"]]);
  expect(a.union(b).paths().map(pathString)).toEqual([".spec.paused", ".spec.replicas", ".spec.template.x", ".status"]);
  expect(a.intersection(b).paths().map(pathString)).toEqual([".spec.replicas"]);
  expect(a.difference(b).paths().map(pathString)).toEqual([".spec.template.x", ".status"]);
  // difference is exact: owning ".spec" does not remove what is below it; recursiveDifference does.
  const spec = FieldSet.fromPaths([["f:spec"]]);
  expect(a.difference(spec).paths()).toHaveLength(3);
  expect(a.recursiveDifference(spec).paths().map(pathString)).toEqual([".status"]);
  // Inputs are unchanged.
  expect(a.paths()).toHaveLength(3);
});

test("paths print as upstream prints them in conflict messages", () => {
  expect(pathString(["f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"nginx"}', "f:image"])).toBe(
    '.spec.template.spec.containers[name="nginx"].image',
  );
  expect(pathString(["f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}', "f:targetPort"])).toBe(
    '.spec.ports[port=80,protocol="TCP"].targetPort',
  );
  expect(pathString(["f:metadata", "f:finalizers", 'v:"example.com/x"'])).toBe('.metadata.finalizers[="example.com/x"]');
});

test("garbage FieldsV1 decodes to an empty set", () => {
  expect(FieldSet.fromFieldsV1("x").empty()).toBe(true);
  expect(FieldSet.fromFieldsV1(null).empty()).toBe(true);
  expect(FieldSet.fromFieldsV1({ ".": {} }).empty()).toBe(true);
});
