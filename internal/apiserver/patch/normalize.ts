// Upstream decodes every patched object of a built-in kind into its Go struct and encodes it again. That
// round trip drops nulls and the empty lists/maps of omitempty fields; we emulate it on patch results so
// `kubectl get -o yaml` shows what a real cluster shows (no `labels: {}` after removing the last label).
import { isObject, type JSONObject, type JSONValue } from "./json.ts";
import { fieldSchema, rootType, typeSchema, type GVK } from "./schema/index.ts";

/** Normalizes obj in place for the given root type (a no-op for kinds without a schema). */
export function normalizeTyped(obj: JSONObject, type: string | undefined): JSONObject {
  if (type && typeSchema(type)) normalizeStruct(obj, type);
  return obj;
}

/** The root type of an object from its own apiVersion/kind, when it is a built-in kind we serve. */
export function typeOfObject(obj: unknown): string | undefined {
  if (!isObject(obj) || typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") return undefined;
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/", 2) : ["", obj.apiVersion];
  return rootType({ group: group!, version: version!, kind: obj.kind } as GVK);
}

function normalizeStruct(m: JSONObject, type: string): void {
  for (const [k, v] of Object.entries(m)) {
    if (v === null) {
      delete m[k];
      continue;
    }
    const fs = fieldSchema(type, k);
    if (!fs) continue;
    if ((fs.list || fs.map) && !fs.always && isEmpty(v)) {
      delete m[k];
      continue;
    }
    if (fs.list && Array.isArray(v) && fs.type) {
      for (const item of v) if (isObject(item)) normalizeStruct(item, fs.type);
    } else if (fs.map && isObject(v) && fs.type) {
      for (const item of Object.values(v)) if (isObject(item)) normalizeStruct(item, fs.type);
    } else if (fs.map && isObject(v)) {
      // map[string]string: Go decodes a null value to "".
      for (const [mk, mv] of Object.entries(v)) if (mv === null) v[mk] = "";
    } else if (!fs.list && !fs.map && fs.type && isObject(v)) {
      normalizeStruct(v, fs.type);
    }
  }
}

function isEmpty(v: JSONValue): boolean {
  return Array.isArray(v) ? v.length === 0 : isObject(v) && Object.keys(v).length === 0;
}
