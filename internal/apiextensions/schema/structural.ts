// Checks that a CRD version's openAPIV3Schema is structural and uses only what apiextensions/v1 allows
// (upstream's ValidateCustomResourceDefinitionOpenAPISchema + structural schema validation), with
// upstream's field paths ("...openAPIV3Schema.properties[spec].type") and wording.
import type { Cause } from "../../apiserver/validation/errors.ts";
import { goValue } from "../../apiserver/validation/errors.ts";
import { ruleCompileError } from "./cel.ts";
import { applyDefaults } from "./default.ts";
import { prune } from "./prune.ts";
import { isObject, type Schema } from "./types.ts";
import { validateValue } from "./validate.ts";

const TYPES = ["array", "boolean", "integer", "number", "object", "string"];
/** Fields a junctor (allOf/anyOf/oneOf/not) branch may not set: they would change the structural spine. */
const NOT_IN_JUNCTORS = ["type", "default", "description", "nullable", "additionalProperties", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string"] as const;
/** Upper bound on schema nodes (bounds the server's work on one CRD write). */
const MAX_NODES = 200_000;

class Errs {
  list: Cause[] = [];
  nodes = 0;
  required(field: string, detail: string) {
    this.list.push({ reason: "FieldValueRequired", field, message: `Required value: ${detail}` });
  }
  forbidden(field: string, detail: string) {
    this.list.push({ reason: "FieldValueForbidden", field, message: `Forbidden: ${detail}` });
  }
  invalid(field: string, value: unknown, detail: string) {
    this.list.push({ reason: "FieldValueInvalid", field, message: `Invalid value: ${goValue(value)}: ${detail}` });
  }
  notSupported(field: string, value: unknown, supported: string[]) {
    this.list.push({ reason: "FieldValueNotSupported", field, message: `Unsupported value: ${goValue(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(", ")}` });
  }
}

export function validateStructuralSchema(schema: Schema | undefined, path: string): Cause[] {
  const e = new Errs();
  if (!isObject(schema)) {
    e.required(path, "schemas are required");
    return e.list;
  }
  if (schema.type !== "object") {
    if (!schema.type) e.required(`${path}.type`, "must not be empty at the root");
    else e.invalid(`${path}.type`, schema.type, "must be object at the root");
  }
  if (schema.nullable) e.forbidden(`${path}.nullable`, "must be false at the root");
  const meta = schema.properties?.metadata;
  if (meta) {
    const extra = Object.keys(meta).filter((k) => k !== "type" && k !== "properties");
    const fields = Object.keys(meta.properties ?? {}).filter((k) => k !== "name" && k !== "generateName");
    if (extra.length || fields.length) e.forbidden(`${path}.properties[metadata]`, "must not specify anything other than name and generateName, but metadata is implicitly specified");
  }
  node(e, schema, path, false, schema);
  return e.list;
}

function node(e: Errs, s: Schema, path: string, inJunctor: boolean, root: Schema, intOrStringParent = false): void {
  if (++e.nodes > MAX_NODES) {
    if (e.nodes === MAX_NODES + 1) e.forbidden(path, `the schema has more than ${MAX_NODES} nodes`);
    return;
  }
  if (!isObject(s)) {
    e.invalid(path, s, "must be an object");
    return;
  }
  if (s.$ref !== undefined) e.forbidden(`${path}.$ref`, "$ref is not supported");
  if (s.type !== undefined && !TYPES.includes(s.type)) e.notSupported(`${path}.type`, s.type, TYPES);
  const preserve = s["x-kubernetes-preserve-unknown-fields"] === true;
  const intOrString = s["x-kubernetes-int-or-string"] === true;
  if (!inJunctor) {
    if (!s.type && !preserve && !intOrString) e.required(`${path}.type`, "must not be empty for specified object fields");
  } else {
    for (const f of NOT_IN_JUNCTORS) {
      // x-kubernetes-int-or-string's usual spelling: anyOf: [{type: integer}, {type: string}].
      if (f === "type" && intOrStringParent && (s.type === "integer" || s.type === "string")) continue;
      if (s[f] !== undefined) e.forbidden(`${path}.${f}`, "must be empty to be structural");
    }
  }
  if (intOrString && s.type) e.forbidden(`${path}.type`, "must be empty if x-kubernetes-int-or-string is true");
  if (s["x-kubernetes-embedded-resource"] && s.type !== "object") e.invalid(`${path}.type`, s.type ?? "", "must be object if x-kubernetes-embedded-resource is true");
  if (s["x-kubernetes-embedded-resource"] && !preserve && !s.properties) e.required(`${path}.properties`, "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields");
  if (s.uniqueItems === true) e.forbidden(`${path}.uniqueItems`, "uniqueItems cannot be set to true since the runtime complexity becomes quadratic");
  const ap = s.additionalProperties as unknown;
  if (ap === false) e.forbidden(`${path}.additionalProperties`, "additionalProperties cannot be set to false");
  if (ap !== undefined && ap !== true && s.properties) e.forbidden(`${path}.additionalProperties`, "additionalProperties and properties are mutual exclusive");
  if (s.type === "array" && !s.items && !inJunctor) e.required(`${path}.items`, "must be specified");
  if (s.type !== undefined && s.type !== "object" && (s.properties || isObject(ap))) {
    e.forbidden(`${path}.properties`, "must be empty for types other than object");
  }
  if (s.pattern !== undefined) {
    try {
      new RegExp(s.pattern, "u");
    } catch {
      e.invalid(`${path}.pattern`, s.pattern, "must be a valid regular expression");
    }
  }
  listType(e, s, path);
  (s["x-kubernetes-validations"] ?? []).forEach((rule, i) => {
    const rp = `${path}.x-kubernetes-validations[${i}]`;
    if (!rule || typeof rule.rule !== "string" || !rule.rule) return e.required(`${rp}.rule`, "");
    const err = ruleCompileError(rule.rule);
    if (err) e.invalid(`${rp}.rule`, rule.rule, `compilation failed: ${err}`);
    if (rule.messageExpression) {
      const merr = ruleCompileError(rule.messageExpression);
      if (merr) e.invalid(`${rp}.messageExpression`, rule.messageExpression, `compilation failed: ${merr}`);
    }
    if (rule.reason !== undefined && !["FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"].includes(rule.reason)) {
      e.notSupported(`${rp}.reason`, rule.reason, ["FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"]);
    }
  });

  for (const [k, p] of Object.entries(s.properties ?? {})) node(e, p, `${path}.properties[${k}]`, inJunctor, root);
  if (isObject(ap)) node(e, ap as Schema, `${path}.additionalProperties`, inJunctor, root);
  if (s.items) {
    if (Array.isArray(s.items)) e.forbidden(`${path}.items`, "items must be a schema object and not an array");
    else node(e, s.items as Schema, `${path}.items`, inJunctor, root);
  }
  for (const j of ["allOf", "anyOf", "oneOf"] as const) (s[j] ?? []).forEach((sub, i) => node(e, sub, `${path}.${j}[${i}]`, true, root, intOrString || intOrStringParent));
  if (s.not) node(e, s.not, `${path}.not`, true, root);

  if (s.default !== undefined && !inJunctor) {
    // A default must survive pruning unchanged and be valid against its own schema.
    const copy = structuredClone(s.default);
    if (isObject(copy)) {
      applyDefaults(copy, s);
      const dropped = prune({ x: copy }, { type: "object", properties: { x: s } });
      if (dropped.length) e.invalid(`${path}.default`, s.default, `must not have unknown fields: ${dropped.map((d) => d.replace(/^x\.?/, "")).join(", ")}`);
    }
    for (const c of validateValue(copy, s, "default")) e.list.push({ ...c, field: `${path}.${c.field}` });
  }
}

function listType(e: Errs, s: Schema, path: string) {
  const lt = s["x-kubernetes-list-type"];
  const keys = s["x-kubernetes-list-map-keys"];
  if (lt !== undefined && !["atomic", "set", "map"].includes(lt)) e.notSupported(`${path}.x-kubernetes-list-type`, lt, ["atomic", "set", "map"]);
  if (lt !== undefined && s.type !== "array") e.invalid(`${path}.type`, s.type ?? "", "must be array if x-kubernetes-list-type is specified");
  if (keys !== undefined && lt !== "map") e.forbidden(`${path}.x-kubernetes-list-map-keys`, `must be empty if x-kubernetes-list-type is not map`);
  if (lt === "map") {
    if (!keys?.length) e.required(`${path}.x-kubernetes-list-map-keys`, "must not be empty if x-kubernetes-list-type is map");
    const item = s.items && !Array.isArray(s.items) ? (s.items as Schema) : undefined;
    if (item && item.type !== "object") e.invalid(`${path}.items.type`, item.type ?? "", "must be object if parent array's x-kubernetes-list-type is map");
    for (const k of keys ?? []) {
      const ks = item?.properties?.[k];
      if (!ks) e.invalid(`${path}.x-kubernetes-list-map-keys`, keys, `entries must all be names of item properties`);
      else if (!(item?.required ?? []).includes(k) && ks.default === undefined) {
        e.required(`${path}.items.properties[${k}]`, "all map list keys are required or have a default value");
      }
    }
  }
  if (lt === "set") {
    const item = s.items && !Array.isArray(s.items) ? (s.items as Schema) : undefined;
    if (item?.type === "object" || item?.type === "array") e.invalid(`${path}.items.type`, item.type, "must be a scalar type if parent array's x-kubernetes-list-type is set");
  }
  const mt = s["x-kubernetes-map-type"];
  if (mt !== undefined && !["atomic", "granular"].includes(mt)) e.notSupported(`${path}.x-kubernetes-map-type`, mt, ["atomic", "granular"]);
}
