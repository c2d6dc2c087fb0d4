// The patch library on "__proto__" / "constructor" / "prototype" keys (issue #9 item 1): every patcher treats them
// as ordinary keys, never reads an inherited member for a missing key and never writes through one.
import { afterEach, describe, expect, test } from "bun:test";
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, computeFieldSet, serverSideApply } from "../../internal/apiserver/patch/index.ts";

const CM = { group: "", version: "v1", kind: "ConfigMap" };
const NODE = { group: "", version: "v1", kind: "Node" };
const cm = (): any => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "d" }, data: { a: "1" } });
const parse = (s: string) => JSON.parse(s);

function expectClean() {
  const probe = {} as any;
  expect(probe.polluted).toBeUndefined();
  expect(probe.apiGroups).toBeUndefined();
  expect(Object.getPrototypeOf(probe)).toBe(Object.prototype);
}
afterEach(() => {
  delete (Object.prototype as any).polluted;
  delete (Object.prototype as any).apiGroups;
});

const own = (o: object, k: string) => Object.hasOwn(o, k);

describe("merge patch", () => {
  test("root and nested __proto__ are stored as data, never as prototypes", () => {
    const out = applyMergePatch(cm(), parse('{"__proto__":{"polluted":"x"},"data":{"__proto__":"p","constructor":"c"},"metadata":{"labels":{"__proto__":{"apiGroups":["*"]}}}}'));
    expectClean();
    expect(own(out, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out.data.__proto__).toBe("p");
    expect(out.data.constructor).toBe("c");
    expect(Object.getPrototypeOf(out.metadata.labels)).toBe(Object.prototype);
    const removed = applyMergePatch(out, parse('{"data":{"__proto__":null,"constructor":null}}'));
    expect(Object.keys(removed.data)).toEqual(["a"]);
  });
});

describe("strategic merge patch", () => {
  test("struct, map and list-item levels", () => {
    const node = { apiVersion: "v1", kind: "Node", metadata: { name: "n" }, status: { conditions: [{ type: "Ready", status: "True" }] } };
    const out = applyStrategicMergePatch(node, parse('{"__proto__":{"polluted":"x"},"status":{"__proto__":{"apiGroups":["*"]},"capacity":{"__proto__":"1"},"conditions":[{"type":"Ready","__proto__":{"polluted":"y"}}]}}'), NODE) as any;
    expectClean();
    expect(own(out.status, "__proto__")).toBe(true);
    expect(own(out.status.capacity, "__proto__")).toBe(true);
    expect(own(out.status.conditions[0], "__proto__")).toBe(true);
    expect(out.status.conditions[0].status).toBe("True");
    // $setElementOrder / $deleteFromPrimitiveList directives naming such fields
    const d = applyStrategicMergePatch(cm(), parse('{"$setElementOrder/__proto__":[],"$deleteFromPrimitiveList/constructor":["x"],"data":{"constructor":"c"}}'), CM) as any;
    expectClean();
    expect(d.data.constructor).toBe("c");
  });
});

describe("JSON patch", () => {
  test("pointers resolve own members only; __proto__ is an ordinary key", () => {
    const out = applyJsonPatch(cm(), [
      { op: "add", path: "/data/__proto__", value: { polluted: "x" } },
      { op: "add", path: "/data/__proto__/apiGroups", value: ["*"] },
      { op: "copy", from: "/data/__proto__", path: "/data/constructor" },
      { op: "move", from: "/data/constructor", path: "/data/prototype" },
      { op: "test", path: "/data/prototype/polluted", value: "x" },
    ]) as any;
    expectClean();
    expect(out.data.__proto__).toEqual({ polluted: "x", apiGroups: ["*"] });
    expect(out.data.prototype).toEqual({ polluted: "x", apiGroups: ["*"] });
    expect(own(out.data, "constructor")).toBe(false);
    for (const ops of [
      [{ op: "add", path: "/__proto__/polluted", value: "x" }],
      [{ op: "replace", path: "/constructor", value: "x" }],
      [{ op: "remove", path: "/toString" }],
      [{ op: "copy", from: "/hasOwnProperty", path: "/x" }],
      [{ op: "test", path: "/valueOf", value: "x" }],
    ]) {
      expect(() => applyJsonPatch(cm(), ops)).toThrow();
      expectClean();
    }
  });

  test("array indices: '-' appends, negative counts from the end, out of range is refused", () => {
    const doc = { apiVersion: "v1", kind: "ConfigMap", list: [1, 2, 3] } as any;
    expect(applyJsonPatch(doc, [{ op: "add", path: "/list/-", value: 4 }]).list).toEqual([1, 2, 3, 4]);
    expect(applyJsonPatch(doc, [{ op: "replace", path: "/list/-1", value: 9 }]).list).toEqual([1, 2, 9]);
    expect(applyJsonPatch(doc, [{ op: "remove", path: "/list/0" }]).list).toEqual([2, 3]);
    expect(() => applyJsonPatch(doc, [{ op: "add", path: "/list/5", value: 0 }])).toThrow();
    expect(() => applyJsonPatch(doc, [{ op: "remove", path: "/list/3" }])).toThrow();
    expect(doc.list).toEqual([1, 2, 3]);
  });
});

describe("server-side apply and managed fields", () => {
  test("apply, prune and field sets with __proto__ keys", () => {
    const applied = parse('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"d"},"__proto__":{"polluted":"x"},"data":{"__proto__":"p","constructor":"c"}}');
    const first = serverSideApply({ live: cm(), applied, manager: "m", gvk: CM }) as any;
    expectClean();
    expect(first.data.__proto__).toBe("p");
    expect(first.data.constructor).toBe("c");
    const second = serverSideApply({ live: first, applied: parse('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"d"},"data":{"b":"2"}}'), manager: "m", gvk: CM }) as any;
    expectClean();
    expect(own(second.data, "__proto__")).toBe(false);
    expect(own(second.data, "constructor")).toBe(false);
    expect(second.data.b).toBe("2");
    const set = computeFieldSet(parse('{"data":{"__proto__":"p"}}'), CM).toFieldsV1();
    expect(set).toEqual(parse('{"f:data":{"f:__proto__":{}}}'));
  });
});

describe("schema lookups", () => {
  test("a field named constructor or __proto__ is unknown, not Object's member", async () => {
    const { schemaAt } = await import("../../internal/apiserver/openapi/index.ts");
    const DEPLOY = { group: "apps", version: "v1", kind: "Deployment" };
    expect(schemaAt(DEPLOY, ["spec", "replicas"])?.type).toBe("integer");
    expect(schemaAt(DEPLOY, ["constructor"])).toBeUndefined();
    expect(schemaAt(DEPLOY, ["spec", "__proto__"])).toBeUndefined();
  });
});
