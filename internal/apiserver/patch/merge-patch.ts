// RFC 7386 JSON merge patch (Content-Type application/merge-patch+json): objects merge recursively,
// null deletes, anything else (lists included) replaces. Small enough that a library adds nothing.
import { badRequest } from "./errors.ts";
import { clone, isObject, own, setOwn, type JSONObject, type JSONValue } from "./json.ts";
import { normalizeTyped, typeOfObject } from "./normalize.ts";

/** Applies an RFC 7386 merge patch to a copy of obj. The patch must be a JSON object (400 otherwise, as upstream). */
export function applyMergePatch<T>(obj: T, patch: unknown): T {
  if (!isObject(patch)) throw badRequest("Invalid JSON Patch");
  const out = mergeValue(clone(obj) as JSONValue, patch) as JSONObject;
  return normalizeTyped(out, typeOfObject(out)) as T;
}

// Keys are data ("__proto__" included): own reads and writes only.
function mergeValue(target: JSONValue | undefined, patch: JSONValue): JSONValue {
  if (!isObject(patch)) return clone(patch);
  const out = isObject(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setOwn(out, k, mergeValue(own(out, k), v));
  }
  return out;
}
