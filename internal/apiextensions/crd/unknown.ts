// Unknown fields of CustomResourceDefinition objects (the CRD's own Go types, which the built-in OpenAPI
// definitions do not cover): reported as `unknown field "spec.foo"` under fieldValidation=Strict and dropped
// otherwise, as upstream's strict decoder and pruning do. Paths name schema map entries as upstream does:
// spec.versions[0].schema.openAPIV3Schema.properties[spec].typo.
import { has, isObject } from "../schema/types.ts";

/** What a field holds: a scalar (or anything), a schema, a nested object, or a list of objects. */
type Field = "leaf" | "any" | "schema" | Shape | ListOf;
type Shape = { [field: string]: Field };
class ListOf {
  constructor(readonly item: Shape) {}
}
const list = (item: Shape) => new ListOf(item);

const OBJECT_META = "any"; // ObjectMeta is checked by the generic code
const SCHEMA_FIELDS = new Set([
  "id", "$schema", "$ref", "description", "type", "format", "title", "default", "maximum", "exclusiveMaximum", "minimum",
  "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "multipleOf", "enum",
  "maxProperties", "minProperties", "required", "items", "allOf", "oneOf", "anyOf", "not", "properties",
  "additionalProperties", "patternProperties", "dependencies", "additionalItems", "definitions", "externalDocs", "example",
  "nullable", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string",
  "x-kubernetes-list-map-keys", "x-kubernetes-list-type", "x-kubernetes-map-type", "x-kubernetes-validations",
]);
const RULE: Shape = { rule: "leaf", message: "leaf", messageExpression: "leaf", reason: "leaf", fieldPath: "leaf", optionalOldSelf: "leaf" };

const NAMES: Shape = { plural: "leaf", singular: "leaf", shortNames: "leaf", kind: "leaf", listKind: "leaf", categories: "leaf" };
const CLIENT_CONFIG: Shape = { url: "leaf", caBundle: "leaf", service: { namespace: "leaf", name: "leaf", path: "leaf", port: "leaf" } };
const CRD: Shape = {
  apiVersion: "leaf",
  kind: "leaf",
  metadata: OBJECT_META,
  spec: {
    group: "leaf",
    names: NAMES,
    scope: "leaf",
    preserveUnknownFields: "leaf",
    conversion: { strategy: "leaf", webhook: { clientConfig: CLIENT_CONFIG, conversionReviewVersions: "leaf" } },
    versions: list({
        name: "leaf",
        served: "leaf",
        storage: "leaf",
        deprecated: "leaf",
        deprecationWarning: "leaf",
        schema: { openAPIV3Schema: "schema" },
        subresources: { status: {}, scale: { specReplicasPath: "leaf", statusReplicasPath: "leaf", labelSelectorPath: "leaf" } },
        additionalPrinterColumns: list({ name: "leaf", type: "leaf", format: "leaf", description: "leaf", priority: "leaf", jsonPath: "leaf" }),
        selectableFields: list({ jsonPath: "leaf" }),
      }),
  },
  status: {
    conditions: list({ type: "leaf", status: "leaf", lastTransitionTime: "leaf", reason: "leaf", message: "leaf", observedGeneration: "leaf" }),
    acceptedNames: NAMES,
    storedVersions: "leaf",
  },
};

/** Unknown field paths of a CRD object; with `drop` they are removed too. */
export function crdUnknownFields(obj: unknown, drop: boolean): string[] {
  const out: string[] = [];
  walk(obj, CRD, "", out, drop);
  return out;
}

const child = (p: string, k: string) => (p ? `${p}.${k}` : k);

function walk(v: unknown, shape: Shape, path: string, out: string[], drop: boolean): void {
  if (!isObject(v)) return;
  for (const k of Object.keys(v)) {
    const p = child(path, k);
    if (!has(shape, k)) {
      out.push(p);
      if (drop) delete v[k];
      continue;
    }
    visit(v[k], shape[k]!, p, out, drop);
  }
}

function visit(v: unknown, s: Field, p: string, out: string[], drop: boolean): void {
  if (s === "leaf" || s === "any") return;
  if (s === "schema") return schema(v, p, out, drop);
  if (s instanceof ListOf) {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, s.item, `${p}[${i}]`, out, drop));
    return;
  }
  walk(v, s, p, out, drop);
}

function schema(v: unknown, path: string, out: string[], drop: boolean): void {
  if (!isObject(v)) return;
  for (const k of Object.keys(v)) {
    if (!SCHEMA_FIELDS.has(k)) {
      out.push(child(path, k));
      if (drop) delete v[k];
      continue;
    }
    const x = v[k];
    if (k === "properties" || k === "patternProperties" || k === "definitions" || k === "dependencies") {
      if (isObject(x)) for (const name of Object.keys(x)) schema(x[name], `${path}.${k}[${name}]`, out, drop);
    } else if (k === "items" || k === "additionalItems") {
      if (Array.isArray(x)) x.forEach((s, i) => schema(s, `${path}.${k}[${i}]`, out, drop));
      else schema(x, `${path}.${k}`, out, drop);
    } else if (k === "allOf" || k === "oneOf" || k === "anyOf") {
      if (Array.isArray(x)) x.forEach((s, i) => schema(s, `${path}.${k}[${i}]`, out, drop));
    } else if (k === "not" || k === "additionalProperties") {
      schema(x, `${path}.${k}`, out, drop);
    } else if (k === "x-kubernetes-validations" && Array.isArray(x)) {
      x.forEach((r, i) => walk(r, RULE, `${path}.${k}[${i}]`, out, drop));
    }
  }
}
