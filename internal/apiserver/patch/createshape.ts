// The field set a create records depends only on the object's shape: which fields it sets, which are null or empty,
// and the key values that name the items of associative lists (a container's name, a port's number and protocol) and
// of sets — not on any other leaf's value. Objects created from one template (a ReplicaSet's pods, a Job's) share
// that shape, so the create's fieldsV1 is kept per shape and the schema-driven comparison runs once per shape.
// Only built-in types are kept: custom resources' schemas can change while the server runs.
import type { JSONObject } from "./json.ts";
import { TYPES } from "./schema/types.generated.ts";

/** Distinct shapes kept (a few per workload); the whole map is dropped when full. */
const MAX_SHAPES = 128;
/** Larger shapes (a ConfigMap with thousands of keys) are not kept: at most ~2 MB for the whole map. */
const MAX_SHAPE_CHARS = 8192;
const fieldsByShape = new Map<string, string>();

let listKeyFields: Set<string> | undefined;
/** Every field name that is a key of some associative list in the built-in schema. */
function keyFields(): Set<string> {
  if (listKeyFields) return listKeyFields;
  listKeyFields = new Set();
  for (const ts of Object.values(TYPES)) for (const fs of Object.values(ts.fields)) for (const k of fs.keys ?? []) listKeyFields.add(k);
  return listKeyFields;
}

/**
 * The object with every scalar that cannot name a path blanked ("" or 0): array items and list-key fields keep their
 * values, except in the object's own metadata (its name and uid are leaves of a struct, never list keys there).
 * Keeping more than needed only costs a miss; blanking a scalar never changes the field set, because a create
 * compares each leaf with the type's empty object, where it is absent or null either way.
 */
export function shapeOf(obj: JSONObject): string {
  const keys = keyFields();
  const meta = obj.metadata;
  return JSON.stringify(obj, function (this: unknown, k: string, v: unknown) {
    if (v === null || typeof v === "object" || typeof v === "boolean") return v;
    if (Array.isArray(this) || (this !== meta && keys.has(k))) return v;
    return typeof v === "string" ? "" : 0;
  });
}

/** fieldsV1 recorded for this shape before (a fresh copy), or undefined. */
export function cachedCreateFields(key: string): JSONObject | undefined {
  const hit = fieldsByShape.get(key);
  return hit === undefined ? undefined : (JSON.parse(hit) as JSONObject);
}

export function keepCreateFields(key: string, fieldsV1: JSONObject): void {
  if (key.length > MAX_SHAPE_CHARS) return;
  if (fieldsByShape.size >= MAX_SHAPES) fieldsByShape.clear();
  fieldsByShape.set(key, JSON.stringify(fieldsV1));
}

/** For tests: forget every shape. */
export function clearCreateShapes(): void {
  fieldsByShape.clear();
}
