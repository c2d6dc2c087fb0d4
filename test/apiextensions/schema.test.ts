// The structural-schema library: validation messages as upstream prints them, defaulting, pruning and
// the CRD-level checks (structural schema, names, versions).
import { describe, expect, test } from "bun:test";
import { applyDefaults } from "../../internal/apiextensions/schema/default.ts";
import { prune } from "../../internal/apiextensions/schema/prune.ts";
import { validateStructuralSchema } from "../../internal/apiextensions/schema/structural.ts";
import { validateValue } from "../../internal/apiextensions/schema/validate.ts";
import { defaultCRD, validateCRD, validateCRDUpdate } from "../../internal/apiextensions/crd/validate.ts";
import type { Schema } from "../../internal/apiextensions/schema/types.ts";

const msgs = (v: unknown, s: Schema) => validateValue(v, s).map((c) => `${c.field}: ${c.message}`);
const obj = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({ type: "object", properties, ...extra });

describe("validation messages", () => {
  const s = obj({
    spec: obj({
      size: { type: "integer", minimum: 1, maximum: 10 },
      ratio: { type: "number", exclusiveMinimum: true, minimum: 0, exclusiveMaximum: true, maximum: 1, multipleOf: 0.25 },
      color: { type: "string", enum: ["red", "green"] },
      name: { type: "string", minLength: 2, maxLength: 5, pattern: "^[a-z]+$" },
      tags: { type: "array", items: { type: "string" }, minItems: 1, maxItems: 2 },
      labels: { type: "object", additionalProperties: { type: "string" }, minProperties: 1, maxProperties: 2 },
      when: { type: "string", format: "date-time" },
      port: { "x-kubernetes-int-or-string": true },
      opt: { type: "string", nullable: true },
      count: { type: "integer", format: "int32" },
    }, { required: ["size"] }),
  });
  test("each keyword", () => {
    expect(msgs({ spec: { size: 11 } }, s)).toEqual(["spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"]);
    expect(msgs({ spec: { size: 0 } }, s)).toEqual(["spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"]);
    expect(msgs({ spec: {} }, s)).toEqual(["spec.size: Required value"]);
    expect(msgs({ spec: { size: "x" } }, s)).toEqual(['spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"']);
    expect(msgs({ spec: { size: 1, color: "purple" } }, s)).toEqual(['spec.color: Unsupported value: "purple": supported values: "red", "green"']);
    expect(msgs({ spec: { size: 1, ratio: 1 } }, s)).toEqual(["spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1"]);
    expect(msgs({ spec: { size: 1, ratio: 0 } }, s)).toEqual(["spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0"]);
    expect(msgs({ spec: { size: 1, ratio: 0.3 } }, s)).toEqual(["spec.ratio: Invalid value: 0.3: spec.ratio in body should be a multiple of 0.25"]);
    expect(msgs({ spec: { size: 1, name: "toolong" } }, s)).toEqual(["spec.name: Too long: may not be longer than 5"]);
    expect(msgs({ spec: { size: 1, name: "a" } }, s)).toEqual(['spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long']);
    expect(msgs({ spec: { size: 1, name: "A1" } }, s)).toEqual(["spec.name: Invalid value: \"A1\": spec.name in body should match '^[a-z]+$'"]);
    expect(msgs({ spec: { size: 1, tags: ["a", "b", "c"] } }, s)).toEqual(["spec.tags: Too many: 3: must have at most 2 items"]);
    expect(msgs({ spec: { size: 1, tags: [] } }, s)).toEqual(["spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items"]);
    expect(msgs({ spec: { size: 1, tags: [1] } }, s)).toEqual(['spec.tags[0]: Invalid value: "integer": spec.tags[0] in body must be of type string: "integer"']);
    expect(msgs({ spec: { size: 1, labels: { a: "1", b: "2", c: "3" } } }, s)).toEqual(["spec.labels: Too many: 3: must have at most 2 items"]);
    expect(msgs({ spec: { size: 1, labels: {} } }, s)).toEqual(["spec.labels: Invalid value: 0: spec.labels in body should have at least 1 properties"]);
    expect(msgs({ spec: { size: 1, labels: { a: 1 } } }, s)).toEqual(['spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer"']);
    expect(msgs({ spec: { size: 1, when: "yesterday" } }, s)).toEqual(['spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"']);
    expect(msgs({ spec: { size: 1, when: "2024-01-02T03:04:05Z", port: "http", opt: null } }, s)).toEqual([]);
    expect(msgs({ spec: { size: 1, port: 8080 } }, s)).toEqual([]);
    expect(msgs({ spec: { size: 1, port: true } }, s)).toHaveLength(1);
    expect(msgs({ spec: { size: 1, count: 2 ** 40 } }, s)).toEqual([`spec.count: Invalid value: ${2 ** 40}: spec.count in body must be of type int32: "${2 ** 40}"`]);
    expect(msgs({ spec: { size: 1, color: null } }, s)).toEqual(['spec.color: Invalid value: "null": spec.color in body must be of type string: "null"']);
  });

  test("junctors", () => {
    const j = obj({
      a: { type: "integer", allOf: [{ minimum: 1 }, { maximum: 5 }] },
      b: { type: "string", anyOf: [{ pattern: "^x" }, { pattern: "^y" }] },
      c: { type: "integer", oneOf: [{ minimum: 0 }, { maximum: 10 }] },
      d: { type: "string", not: { enum: ["forbidden"] } },
    });
    expect(msgs({ a: 9 }, j)).toEqual(["a: Invalid value: 9: a in body should be less than or equal to 5"]);
    expect(msgs({ b: "z" }, j)[0]).toBe('b: Invalid value: "z": b in body must validate at least one schema (anyOf)');
    expect(msgs({ b: "y1" }, j)).toEqual([]);
    expect(msgs({ c: 5 }, j)).toEqual(["c: Invalid value: 5: c in body must validate one and only one schema (oneOf). Found 2 valid alternatives"]);
    expect(msgs({ c: 50 }, j)).toEqual([]);
    expect(msgs({ d: "forbidden" }, j)).toEqual(['d: Invalid value: "forbidden": d in body must not validate the schema (not)']);
  });

  test("list types and embedded resources", () => {
    const l = obj({
      set: { type: "array", "x-kubernetes-list-type": "set", items: { type: "string" } },
      map: { type: "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"], items: obj({ name: { type: "string" } }, { required: ["name"] }) },
      embedded: { type: "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true },
    });
    expect(msgs({ set: ["a", "b", "a"] }, l)).toEqual(['set[2]: Duplicate value: "a"']);
    expect(msgs({ map: [{ name: "a" }, { name: "a" }] }, l)).toEqual(['map[1]: Duplicate value: map[string]interface {}{"name":"a"}']);
    expect(msgs({ embedded: { metadata: {} } }, l)).toEqual(["embedded.apiVersion: Required value: must not be empty", "embedded.kind: Required value: must not be empty"]);
    expect(msgs({ embedded: { apiVersion: "v1", kind: "Pod", spec: {} } }, l)).toEqual([]);
    const bad = msgs({ embedded: { apiVersion: "v1", kind: "Pod", metadata: { name: "Bad_Name", labels: { "a b": "x" } } } }, l);
    expect(bad[0]).toStartWith('embedded.metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain');
    expect(bad[1]).toStartWith('embedded.metadata.labels: Invalid value: "a b": name part must consist of alphanumeric characters');
  });
});

describe("defaulting and pruning", () => {
  const s = obj({
    spec: obj({
      replicas: { type: "integer", default: 1 },
      mode: { type: "string", default: "fast" },
      items: { type: "array", items: obj({ port: { type: "integer", default: 80 }, name: { type: "string" } }) },
      free: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      ios: { "x-kubernetes-int-or-string": true },
      inner: { type: "object", default: {}, properties: { level: { type: "integer", default: 3 } } },
    }, { default: {} }),
  });
  test("defaults fill absent fields, nested, in arrays and for nulls", () => {
    const o: any = { spec: { mode: null, items: [{ name: "a" }, { port: 90 }] } };
    applyDefaults(o, s);
    expect(o.spec).toEqual({ replicas: 1, mode: "fast", items: [{ name: "a", port: 80 }, { port: 90 }], inner: { level: 3 } });
    const empty: any = {};
    applyDefaults(empty, s);
    expect(empty.spec.replicas).toBe(1);
  });
  test("prune drops unknown fields and reports their paths", () => {
    const o: any = { apiVersion: "x/v1", kind: "K", metadata: { name: "a" }, extra: 1, spec: { x: 1, items: [{ name: "a", y: 2 }], free: { anything: { deep: true } }, ios: 3 } };
    expect(prune(o, s)).toEqual(["extra", "spec.x", "spec.items[0].y"]);
    expect(o).toEqual({ apiVersion: "x/v1", kind: "K", metadata: { name: "a" }, spec: { items: [{ name: "a" }], free: { anything: { deep: true } }, ios: 3 } });
  });
  test("a schema that names metadata (`metadata: {type: object}`) does not prune its ObjectMeta fields", () => {
    const withMeta = { ...s, properties: { ...s.properties, metadata: { type: "object" } } } as typeof s;
    const o: any = { apiVersion: "x/v1", kind: "K", metadata: { name: "a", labels: { x: "y" }, bogus: 1 }, spec: {} };
    expect(prune(o, withMeta)).toEqual(["metadata.bogus"]);
    expect(o.metadata).toEqual({ name: "a", labels: { x: "y" } });
  });
  test("__proto__ is an ordinary field name", () => {
    const o = JSON.parse('{"spec":{"__proto__":{"polluted":true},"mode":"x"}}');
    expect(prune(o, s)).toEqual(["spec.__proto__"]);
    expect(({} as any).polluted).toBeUndefined();
    expect(Object.keys(o.spec)).toEqual(["mode"]);
  });
});

describe("structural schema and CRD validation", () => {
  const P = "spec.versions[0].schema.openAPIV3Schema";
  test("structural rules", () => {
    const errs = (s: any) => validateStructuralSchema(s, P).map((c) => `${c.field}: ${c.message}`);
    expect(errs({ type: "object", properties: { spec: { properties: {} } } })).toEqual([`${P}.properties[spec].type: Required value: must not be empty for specified object fields`]);
    expect(errs({ type: "object", properties: { a: { type: "array", uniqueItems: true, items: { type: "string" } } } })).toEqual([`${P}.properties[a].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`]);
    expect(errs({ type: "object", properties: { a: { type: "string", anyOf: [{ type: "string" }] } } })).toEqual([`${P}.properties[a].anyOf[0].type: Forbidden: must be empty to be structural`]);
    expect(errs({ type: "object", properties: { a: { type: "integer", maximum: 3, default: 5 } } })).toEqual([`${P}.properties[a].default: Invalid value: 5: default in body should be less than or equal to 3`]);
    expect(errs({ type: "object", properties: { a: { type: "object", additionalProperties: false } } })).toEqual([`${P}.properties[a].additionalProperties: Forbidden: additionalProperties cannot be set to false`]);
    expect(errs(undefined)).toEqual([`${P}: Required value: schemas are required`]);
    expect(errs({ type: "object", "x-kubernetes-preserve-unknown-fields": true })).toEqual([]);
  });

  const crd = (over: any = {}): any => {
    const c: any = {
      metadata: { name: "widgets.example.com" },
      spec: {
        group: "example.com",
        scope: "Namespaced",
        names: { plural: "widgets", kind: "Widget" },
        versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object" } } }],
        ...over,
      },
    };
    defaultCRD(c);
    return c;
  };
  const errs = (c: any) => validateCRD(c).map((x) => `${x.field}: ${x.message}`);
  test("valid CRD and defaults", () => {
    const c = crd();
    expect(errs(c)).toEqual([]);
    expect(c.spec.names).toEqual({ plural: "widgets", kind: "Widget", singular: "widget", listKind: "WidgetList" });
    expect(c.spec.conversion).toEqual({ strategy: "None" });
  });
  test("names, group, versions", () => {
    expect(errs({ ...crd(), metadata: { name: "x.example.com" } })).toEqual(['metadata.name: Invalid value: "x.example.com": must be spec.names.plural+"."+spec.group']);
    const noDot = crd({ group: "example" });
    noDot.metadata.name = "widgets.example";
    expect(errs(noDot)).toEqual(['spec.group: Invalid value: "example": should be a domain with at least one dot']);
    const prot = crd({ group: "things.k8s.io" });
    prot.metadata.name = "widgets.things.k8s.io";
    expect(errs(prot)[0]).toContain("metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation");
    const two = crd({ versions: [
      { name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object" } } },
      { name: "v2", served: true, storage: true, schema: { openAPIV3Schema: { type: "object" } } },
    ] });
    expect(errs(two)[0]).toBe('spec.versions: Invalid value: []string{"v1", "v2"}: must have exactly one version marked as storage version');
    expect(errs(crd({ scope: "Global" }))).toEqual(['spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"']);
    const upd = crd({ scope: "Cluster" });
    expect(validateCRDUpdate(upd, crd()).map((x) => x.message)).toEqual(['Invalid value: "Cluster": field is immutable']);
  });
});

describe("CEL rules (x-kubernetes-validations)", () => {
  const { validateRules, ruleCompileError } = require("../../internal/apiextensions/schema/cel.ts");
  const s: Schema = obj({
    spec: obj({
      min: { type: "integer" },
      max: { type: "integer" },
      name: { type: "string", "x-kubernetes-validations": [{ rule: "self.matches('^[a-z]+$')", message: "must be lower case" }] },
      immutable: { type: "string", "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "is immutable" }] },
      items: { type: "array", items: { type: "string" }, "x-kubernetes-validations": [{ rule: "self.all(x, size(x) <= 3)", reason: "FieldValueForbidden" }] },
    }, { "x-kubernetes-validations": [{ rule: "self.min <= self.max", messageExpression: "'min ' + string(self.min) + ' is above max ' + string(self.max)" }, { rule: "has(self.max)", fieldPath: ".max", reason: "FieldValueRequired", message: "max is required" }] }),
  });
  const run = (o: unknown, old?: unknown) => validateRules(o, s, old).map((c: any) => `${c.field}: ${c.message}`);
  test("rules, messages, messageExpression, reason, fieldPath", () => {
    expect(run({ spec: { min: 1, max: 2, name: "ok", items: ["a"] } })).toEqual([]);
    expect(run({ spec: { min: 5, max: 2 } })).toEqual(['spec: Invalid value: "object": min 5 is above max 2']);
    expect(run({ spec: { min: 1, max: 2, name: "NO" } })).toEqual(['spec.name: Invalid value: "string": must be lower case']);
    expect(run({ spec: { min: 1, max: 2, items: ["abcd"] } })).toEqual(["spec.items: Forbidden: failed rule: self.all(x, size(x) <= 3)"]);
    expect(run({ spec: { min: 1 } })).toEqual(['spec: Invalid value: "object": no such key: max evaluating rule: self.min <= self.max', "spec.max: Required value: max is required"]);
  });
  test("transition rules run on update only", () => {
    expect(run({ spec: { min: 1, max: 2, immutable: "a" } })).toEqual([]);
    expect(run({ spec: { min: 1, max: 2, immutable: "b" } }, { spec: { min: 1, max: 2, immutable: "a" } })).toEqual(['spec.immutable: Invalid value: "string": is immutable']);
  });
  test("Kubernetes' CEL library subset", () => {
    const rule = (r: string, v: unknown) => validateRules({ v }, { type: "object", properties: { v: { type: "array", items: { type: "string" }, "x-kubernetes-validations": [{ rule: r }] } } } as any).length === 0;
    expect(rule("self.isSorted()", ["a", "b"])).toBe(true);
    expect(rule("self.isSorted()", ["b", "a"])).toBe(false);
    expect(rule("self.join(',') == 'a,b'", ["a", "b"])).toBe(true);
    expect(rule("self.all(x, isIP(x))", ["10.0.0.1", "::1"])).toBe(true);
    expect(rule("self.all(x, isCIDR(x))", ["10.0.0.0/33"])).toBe(false);
    expect(rule("self.all(x, isURL(x))", ["https://example.com/a"])).toBe(true);
    expect(rule("self.all(x, isQuantity(x))", ["500m", "1Gi"])).toBe(true);
    expect(rule("self.all(x, isQuantity(x))", ["lots"])).toBe(false);
    expect(rule("self[0].replace('-', '_') == 'a_b'", ["a-b"])).toBe(true);
    expect(rule("self[0].find('[0-9]+') == '42'", ["abc42def"])).toBe(true);
    expect(rule("self.indexOf('b') == 1", ["a", "b"])).toBe(true);
  });

  test("rules that do not compile are refused on the CRD", () => {
    expect(ruleCompileError("self.a +")).toContain("Unexpected token");
    const errs = validateStructuralSchema({ type: "object", properties: { a: { type: "string", "x-kubernetes-validations": [{ rule: "self +" }] } } } as any, "s");
    expect(errs[0]!.field).toBe("s.properties[a].x-kubernetes-validations[0].rule");
    expect(errs[0]!.message).toContain("compilation failed");
  });
});
