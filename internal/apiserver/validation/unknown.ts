// Unknown-field detection for fieldValidation=Strict/Warn, driven by the generated OpenAPI definitions
// (what upstream's strict JSON decoding into typed structs finds).
import type { ResourceInfo } from "../../api/resources.ts";
import { definitionNameForKind, definitions, deref, type Schema } from "../openapi/definitions.ts";

function walk(value: unknown, schema: Schema | undefined, path: string, out: string[], depth: number) {
  if (!schema || value === null || value === undefined || depth > 64) return;
  const s = deref(schema.allOf?.[0] ?? schema) ?? schema;
  if (Array.isArray(value)) {
    const items = s.items;
    if (items) value.forEach((v, i) => walk(v, items, `${path}[${i}]`, out, depth + 1));
    return;
  }
  if (typeof value !== "object") return;
  const props: Schema | undefined = s.properties;
  const extra = s.additionalProperties;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const p = path ? `${path}.${k}` : k;
    if (props && Object.hasOwn(props, k)) walk(v, props[k], p, out, depth + 1);
    else if (extra && typeof extra === "object") walk(v, extra, p, out, depth + 1);
    else if (props) out.push(p);
    // A schema without properties (RawExtension, FieldsV1, free-form objects) accepts anything.
  }
}

/** Paths ("spec.foo", "spec.containers[0].bar") of fields the kind's schema does not declare. */
export function unknownFields(ri: ResourceInfo, obj: unknown): string[] {
  const name = definitionNameForKind(ri.group, ri.version, ri.kind);
  if (!name) return [];
  const out: string[] = [];
  walk(obj, definitions()[name], "", out, 0);
  return out;
}
