// Unknown-field detection for fieldValidation=Strict/Warn, driven by the generated OpenAPI definitions
// (what upstream's strict JSON decoding into typed structs finds).
import type { ResourceInfo } from "../../api/resources.ts";
import { definitionNameForKind, definitions, refName, type Schema } from "../openapi/definitions.ts";

// "#/definitions/X" → "X", once per schema object (the walk resolves a $ref at every field of every write). The
// definition itself is looked up each time: custom resources' definitions can be replaced.
const refNames = new WeakMap<Schema, string>();
function resolve(schema: Schema): Schema {
  const s: Schema = schema.allOf?.[0] ?? schema;
  if (typeof s.$ref !== "string") return s;
  let name = refNames.get(s);
  if (name === undefined) refNames.set(s, (name = refName(s.$ref)));
  return definitions()[name] ?? schema;
}

// The path is kept as a stack of segments and printed only for an unknown field: a valid object builds no strings.
function walk(value: unknown, schema: Schema | undefined, path: (string | number)[], out: string[], depth: number) {
  if (!schema || value === null || value === undefined || depth > 64) return;
  const s = resolve(schema);
  if (Array.isArray(value)) {
    const items = s.items;
    if (!items) return;
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      walk(value[i], items, path, out, depth + 1);
      path.pop();
    }
    return;
  }
  if (typeof value !== "object") return;
  const props: Schema | undefined = s.properties;
  const extra = s.additionalProperties;
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (props && Object.hasOwn(props, k)) {
      path.push(k);
      walk(o[k], props[k], path, out, depth + 1);
      path.pop();
    } else if (extra && typeof extra === "object") {
      path.push(k);
      walk(o[k], extra, path, out, depth + 1);
      path.pop();
    } else if (props) out.push(printPath([...path, k]));
    // A schema without properties (RawExtension, FieldsV1, free-form objects) accepts anything.
  }
}

/** "spec.containers[0].bar": names joined with dots, list indices in brackets. */
function printPath(path: (string | number)[]): string {
  let p = "";
  for (const s of path) p = typeof s === "number" ? `${p}[${s}]` : p ? `${p}.${s}` : s;
  return p;
}

/** Paths ("spec.foo", "spec.containers[0].bar") of fields the kind's schema does not declare. */
export function unknownFields(ri: ResourceInfo, obj: unknown): string[] {
  const name = definitionNameForKind(ri.group, ri.version, ri.kind);
  if (!name) return [];
  const out: string[] = [];
  walk(obj, definitions()[name], [], out, 0);
  return out;
}
