// Defaulting (`default` in the schema) as upstream's structural defaulting: applied on create, update and
// when an object is read from storage. Null values of non-nullable fields are dropped first, then
// defaulted if they have a default.
import { has, isObject, type Schema } from "./types.ts";

export function applyDefaults(v: unknown, s: Schema | undefined): void {
  if (!s) return;
  if (Array.isArray(v)) {
    const item = s.items && !Array.isArray(s.items) ? (s.items as Schema) : undefined;
    if (item) for (const x of v) applyDefaults(x, item);
    return;
  }
  if (!isObject(v)) return;
  const props = s.properties;
  if (props) {
    for (const k of Object.keys(props)) {
      const ps = props[k]!;
      if (has(v, k) && v[k] === null && !ps.nullable) {
        if (ps.default !== undefined) v[k] = structuredClone(ps.default);
        else if (ps.type) delete v[k];
      } else if (!has(v, k) && ps.default !== undefined) {
        v[k] = structuredClone(ps.default);
      }
      if (has(v, k)) applyDefaults(v[k], ps);
    }
  }
  const ap = s.additionalProperties as unknown;
  if (isObject(ap)) {
    for (const k of Object.keys(v)) {
      if (props && has(props, k)) continue;
      if (v[k] === null && !(ap as Schema).nullable && (ap as Schema).default !== undefined) v[k] = structuredClone((ap as Schema).default);
      applyDefaults(v[k], ap as Schema);
    }
  }
}

/** True when the schema (or anything below it) sets a default: reads need the defaulting pass only then. */
export function hasDefaults(s: Schema | undefined): boolean {
  if (!s) return false;
  if (s.default !== undefined) return true;
  for (const p of Object.values(s.properties ?? {})) if (hasDefaults(p)) return true;
  const ap = s.additionalProperties as unknown;
  if (isObject(ap) && hasDefaults(ap as Schema)) return true;
  if (s.items && !Array.isArray(s.items) && hasDefaults(s.items as Schema)) return true;
  return false;
}
