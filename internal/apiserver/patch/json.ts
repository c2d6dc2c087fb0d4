// Small JSON helpers shared by the patchers.
import { copyJSON } from "../jsoncopy.ts";

export type JSONValue = null | boolean | number | string | JSONValue[] | { [k: string]: JSONValue };
export type JSONObject = { [k: string]: JSONValue };

export function isObject(v: unknown): v is JSONObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function clone<T>(v: T): T {
  return v === undefined ? v : copyJSON(v);
}

/** Deep equality of JSON values (object key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b as object, k) && deepEqual((a as any)[k], (b as any)[k]));
}

// Untrusted keys: "__proto__", "constructor", "prototype" are ordinary field names in Kubernetes. A plain
// `o[k]` read of a key the object lacks finds Object.prototype's members, and `o[k] = v` with k "__proto__"
// changes o's prototype instead of adding a field. Every walker of request data reads and writes through these.

/** The object's own value for k (never an inherited one). */
export function own(o: object, k: string): JSONValue | undefined {
  return Object.hasOwn(o, k) ? (o as JSONObject)[k] : undefined;
}

/** Sets k as an own, enumerable data property (also when k is "__proto__"). */
export function setOwn(o: object, k: string, v: JSONValue): void {
  if (k === "__proto__") Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else (o as JSONObject)[k] = v;
}
