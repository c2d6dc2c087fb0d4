// JSON type mismatches against the OpenAPI schema ("replicas": "three"), which upstream rejects while
// decoding into Go structs with 400 BadRequest:
//   Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go
//   struct field DeploymentSpec.spec.replicas of type int32
import type { ResourceInfo } from "../../api/resources.ts";
import { definitionNameForKind, definitions, refName, type Schema } from "../openapi/definitions.ts";
import { hasOpenAPIType } from "./util.ts";

const INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (typeof v === "boolean") return "bool";
  return typeof v === "object" ? "object" : typeof v; // "string" | "number" | "object"
}

/** Go's name for a schema's type: int32, string, bool, []v1.Container, map[string]string, v1.PodSpec. */
function goType(s: Schema | undefined): string {
  if (!s) return "interface {}";
  if (s.$ref) {
    const name = refName(s.$ref);
    const parts = name.split(".");
    return `${parts[parts.length - 2]}.${parts[parts.length - 1]}`;
  }
  switch (s.type) {
    case "integer":
      return s.format === "int64" ? "int64" : "int32";
    case "number":
      return "float64";
    case "boolean":
      return "bool";
    case "string":
      return s.format === "byte" ? "[]uint8" : "string";
    case "array":
      return `[]${goType(s.items)}`;
    case "object":
      return s.additionalProperties && typeof s.additionalProperties === "object" ? `map[string]${goType(s.additionalProperties)}` : "map[string]interface {}";
  }
  return "interface {}";
}

/** Whether a JSON value can decode into the schema's Go type (nulls always can). */
function accepts(s: Schema, v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (s.$ref) {
    const name = refName(s.$ref);
    if (name === INT_OR_STRING) return typeof v === "number" || typeof v === "string";
    if (name === QUANTITY) return typeof v === "number" || typeof v === "string";
    const def = definitions()[name];
    return def ? accepts(def, v) : true;
  }
  return hasOpenAPIType(s.type, v);
}

/** One value of the wrong JSON type. */
export interface TypeMismatch {
  /** Field path with list indices and map keys, e.g. "spec.template.spec.containers[0].image". */
  field: string;
  /** Go's decoding error text. */
  goError: string;
  /** JSON type found ("string", "number", ...) and the OpenAPI type expected ("integer", ...). */
  found: string;
  expected: string;
  /** The unstructured converter's error text, which a strategic merge patch result fails with upstream. */
  restoreError: string;
}

/** Go's reflect.Kind of a value decoded from JSON into interface{} (integral numbers are int64). */
function goKindOf(v: unknown): string {
  if (Array.isArray(v)) return "slice";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int64" : "float64";
  return typeof v === "object" ? "map" : "string";
}

/** runtime.DefaultUnstructuredConverter's message for restoring `v` into the schema's Go type. */
function restoreError(s: Schema, target: Schema, v: unknown): string {
  const from = goKindOf(v);
  if (target.type === "array") return `cannot restore slice from ${from}`;
  if (target.type === "object" || target.properties) {
    // A struct (named definition with fields) or a map (additionalProperties).
    return s.$ref && target.properties ? `cannot restore struct from: ${from}` : `cannot restore map from ${from}`;
  }
  if (from === "map" || from === "slice") return `unrecognized type: ${goType(s)}`;
  return `cannot convert ${from} to ${goType(s)}`;
}

interface Ctx {
  out: TypeMismatch[];
}

function schemaTypeName(s: Schema): string {
  if (s.$ref) {
    const name = refName(s.$ref);
    if (name === INT_OR_STRING) return "integer-or-string";
    if (name === QUANTITY) return "string";
    return definitions()[name]?.type ?? "object";
  }
  return s.type ?? "object";
}

// What walk needs from a schema's $ref, worked out once per schema object (the walk runs twice per write, over
// every field). The target definition itself is still looked up each time: custom definitions can be replaced.
interface RefInfo {
  name?: string;
  /** IntOrString or Quantity: a scalar that is not walked into. */
  scalar: boolean;
  /** The Go struct name a $ref names ("PodSpec"). */
  ownName?: string;
}
const NOT_A_REF: RefInfo = { scalar: false };
const refInfos = new WeakMap<Schema, RefInfo>();

function refInfo(schema: Schema): RefInfo {
  if (!schema.$ref) return NOT_A_REF;
  let r = refInfos.get(schema);
  if (!r) {
    const name = refName(schema.$ref);
    r = { name, scalar: name === INT_OR_STRING || name === QUANTITY, ownName: name.split(".").pop()! };
    refInfos.set(schema, r);
  }
  return r;
}

// The path being walked, as a stack of segments: a property name, a list index or a map key (SEG_* below). Printed
// only for a mismatch, so the walk over every field of a valid object builds no strings.
const SEG_PROP = 0;
const SEG_INDEX = 1;
const SEG_KEY = 2;
interface PathStack {
  segs: (string | number)[];
  kinds: number[];
}

/** goPath names the field the way Go's decoder does (no list indices or map keys); field keeps them. */
function printPath(p: PathStack): { goPath: string; field: string } {
  let goPath = "";
  let field = "";
  for (let i = 0; i < p.segs.length; i++) {
    const s = p.segs[i]!;
    if (p.kinds[i] === SEG_PROP) {
      goPath = goPath ? `${goPath}.${s}` : String(s);
      field = field ? `${field}.${s}` : String(s);
    } else field = `${field}[${s}]`;
  }
  return { goPath, field };
}

function walk(value: unknown, schema: Schema, structName: string, p: PathStack, ctx: Ctx, depth: number) {
  if (depth > 64 || value === null || value === undefined) return;
  const ref = refInfo(schema);
  const target = ref.name !== undefined ? definitions()[ref.name] : schema;
  if (!target) return;
  // accepts(schema, value), with the $ref already resolved.
  const ok = ref.name === undefined ? hasOpenAPIType(schema.type, value) : ref.scalar ? typeof value === "number" || typeof value === "string" : accepts(target, value);
  if (!ok) {
    const what = typeof value === "number" && !Number.isInteger(value) ? `number ${value}` : jsonKind(value);
    const { goPath, field } = printPath(p);
    ctx.out.push({
      field,
      goError: `json: cannot unmarshal ${what} into Go struct field ${structName}.${goPath} of type ${goType(schema)}`,
      found: jsonKind(value) === "bool" ? "boolean" : jsonKind(value),
      expected: schemaTypeName(schema),
      restoreError: restoreError(schema, target, value),
    });
    return;
  }
  if (ref.scalar) return;
  if (Array.isArray(value)) {
    const items = target.items;
    if (!items) return;
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) continue;
      p.segs.push(i);
      p.kinds.push(SEG_INDEX);
      walk(value[i], items, structName, p, ctx, depth + 1);
      p.segs.pop();
      p.kinds.pop();
    }
    return;
  }
  if (typeof value !== "object") return;
  const ownName = ref.ownName ?? structName;
  const props = target.properties;
  const extra = target.additionalProperties && typeof target.additionalProperties === "object" ? target.additionalProperties : undefined;
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const prop = props && Object.hasOwn(props, k) ? props[k] : undefined;
    if (!prop && !extra) continue;
    p.segs.push(k);
    // A map: its values decode into the map's element type.
    p.kinds.push(prop ? SEG_PROP : SEG_KEY);
    if (prop) walk(o[k], prop, ownName, p, ctx, depth + 1);
    else walk(o[k], extra!, structName, p, ctx, depth + 1);
    p.segs.pop();
    p.kinds.pop();
  }
}

const rootSchemas = new Map<string, Schema>();
/** The same { $ref } object per kind, so refInfo's WeakMap answers it after the first walk. */
function rootSchema(name: string): Schema {
  let s = rootSchemas.get(name);
  if (!s) rootSchemas.set(name, (s = { $ref: `#/definitions/${name}` }));
  return s;
}

/** Every value of the wrong JSON type, in document order. */
export function typeMismatches(ri: Pick<ResourceInfo, "group" | "version" | "kind">, obj: unknown): TypeMismatch[] {
  const name = definitionNameForKind(ri.group, ri.version, ri.kind);
  if (!name || !obj || typeof obj !== "object") return [];
  const ctx: Ctx = { out: [] };
  walk(obj, rootSchema(name), ri.kind, { segs: [], kinds: [] }, ctx, 0);
  return ctx.out;
}

/**
 * Objects found well-typed and since touched only by the server's own code (strategy, defaulting, managedFields,
 * built-in admission plugins), so that the next step of the same write need not walk them again: typeErrors marks,
 * defaulting and validation take the mark. A mutating webhook's patch makes a new object, which has none.
 */
const wellTyped = new WeakSet<object>();

/** Whether `obj` was marked well-typed (once: the mark is used up). */
export function takeWellTyped(obj: object): boolean {
  return wellTyped.delete(obj);
}

export function markWellTyped(obj: object): void {
  wellTyped.add(obj);
}

/** Go decoding errors ("json: cannot unmarshal ...") for values of the wrong JSON type, in document order. */
export function typeErrors(ri: Pick<ResourceInfo, "group" | "version" | "kind">, obj: unknown): string[] {
  const found = typeMismatches(ri, obj);
  if (found.length === 0 && obj && typeof obj === "object") wellTyped.add(obj);
  return found.map((m) => m.goError);
}

/** The first value a strategic merge patch result cannot be converted back into the kind with, as upstream words it. */
export function restoreErrors(ri: Pick<ResourceInfo, "group" | "version" | "kind">, obj: unknown): string[] {
  return typeMismatches(ri, obj).map((m) => m.restoreError);
}

/** Upstream's 400 message for a body that cannot be decoded into the kind. */
export function decodeErrorMessage(ri: Pick<ResourceInfo, "version" | "kind">, err: string): string {
  return `${ri.kind} in version "${ri.version}" cannot be handled as a ${ri.kind}: ${err}`;
}
