// Object <-> store value conversion and small metadata helpers shared by all handlers.
// The store assigns the revision after the write, so stored JSON never carries resourceVersion;
// it is filled from the key's modRevision when read.
import type { KeyValue } from "../store/types.ts";
import { groupVersion, type ResourceInfo } from "../api/resources.ts";
import { copyJSON } from "./jsoncopy.ts";
import { selectableFieldValues } from "../api/selectors/fields.ts";

export type KObject = Record<string, any> & { metadata: Record<string, any> };

export function decode(kv: KeyValue): KObject {
  const obj = JSON.parse(kv.value) as KObject;
  obj.metadata ??= {};
  obj.metadata.resourceVersion = String(kv.modRevision);
  return obj;
}

/** Stored form: apiVersion, kind and metadata first (rawJSON relies on it), without resourceVersion. */
export function encode(obj: KObject): string {
  let meta = obj.metadata ?? {};
  // Copied only when there is something to leave out (a create's metadata has neither).
  if (Object.hasOwn(meta, "resourceVersion") || Object.hasOwn(meta, "selfLink")) {
    const { resourceVersion: _rv, selfLink: _sl, ...rest } = meta;
    meta = rest;
  }
  const { apiVersion, kind, metadata: _m, ...rest } = obj;
  return JSON.stringify({ apiVersion, kind, metadata: meta, ...rest });
}

const HEAD = /^\{"apiVersion":"(?:[^"\\]|\\.)*","kind":"(?:[^"\\]|\\.)*","metadata":\{/;
const rawCache = new WeakMap<KeyValue, string>();

/**
 * The object's JSON text with metadata.resourceVersion filled in, without parsing it: lists and watches
 * of thousands of objects pass stored text through. Cached per KeyValue, which watch fan-out shares.
 */
export function rawJSON(kv: KeyValue): string {
  let out = rawCache.get(kv);
  if (out !== undefined) return out;
  const m = HEAD.exec(kv.value);
  // A value that already names a resourceVersion (written by something other than encode(), or an object
  // reference inside) takes the slow path, so that the spliced one can never be shadowed.
  if (m && !kv.value.includes('"resourceVersion"')) {
    const at = m[0].length;
    const rv = `"resourceVersion":${JSON.stringify(String(kv.modRevision))}`;
    out = kv.value.slice(0, at) + rv + (kv.value[at] === "}" ? "" : ",") + kv.value.slice(at);
  } else {
    // Written by something other than encode() (e.g. bootstrap data): take the slow path.
    out = JSON.stringify(decode(kv));
  }
  rawCache.set(kv, out);
  return out;
}

// The objects parsed last, shared by the watchers that render the same event (metadata-only, Table, protobuf) and by
// a request that reads an object twice. Bounded: stored values live on in the list cache and the watch window, and a
// parsed copy of each (~10× the JSON's size in objects) must not live as long as they do.
const RECENT = 256;
const parsedCache = new Map<KeyValue, KObject>();

/** decode(), shared with other readers of the same stored value for a short while; callers must not mutate it. */
export function decodeShared(kv: KeyValue): KObject {
  let o = parsedCache.get(kv);
  if (!o) {
    parsedCache.set(kv, (o = decode(kv)));
    if (parsedCache.size > RECENT) parsedCache.delete(parsedCache.keys().next().value!);
  }
  return o;
}

/** What selectors read of a stored object: its labels and the values of its kind's selectable fields. */
export interface Selectable {
  labels: Record<string, string> | undefined;
  fields: Record<string, string>;
}
const selectableCache = new WeakMap<KeyValue, Selectable & { of: string }>();

/**
 * The labels and selectable field values of a stored object, kept beside the stored value for as long as it lives
 * (as upstream's cacher keeps each object's label and field sets): matching a watcher's or a list's selectors then
 * parses a value once, and keeps a few strings of it instead of a parsed copy of the whole object.
 */
export function selectableOf(kv: KeyValue, ri: Pick<ResourceInfo, "group" | "version" | "resource">): Selectable {
  const of = `${ri.group}/${ri.version}/${ri.resource}`;
  const hit = selectableCache.get(kv);
  if (hit?.of === of) return hit;
  const obj = decodeShared(kv);
  const s = { of, labels: obj.metadata.labels as Record<string, string> | undefined, fields: selectableFieldValues(ri, obj) };
  // One resource per stored value: another version's request (a custom resource's other selectable fields) is
  // answered without replacing the entry.
  if (!hit) selectableCache.set(kv, s);
  return s;
}

/** Deep copy of plain JSON data. */
export function clone<T>(v: T): T {
  return v === undefined ? v : copyJSON(v);
}

/** Structural equality of JSON values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual(ao[k], bo[k]));
}

/** Everything but metadata and status: what counts as "spec" for metadata.generation. */
export function specPart(obj: KObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

export function setTypeMeta(ri: ResourceInfo, obj: KObject): KObject {
  obj.apiVersion = groupVersion(ri);
  obj.kind = ri.kind;
  return obj;
}

/** RFC 3339 without fractional seconds, as upstream's metav1.Time. */
export function nowRFC3339(offsetSeconds = 0): string {
  const second = Math.floor(Date.now() / 1000) + offsetSeconds;
  // A write stamps two or three times (creation, managedFields): the string is made once per second, not per call.
  if (second !== lastSecond) {
    lastSecond = second;
    lastStamp = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  }
  return lastStamp;
}
let lastSecond = NaN;
let lastStamp = "";

const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** generateName suffix: 5 characters from upstream's alphabet (no vowels, no confusable digits). */
export function randomSuffix(n = 5): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  let s = "";
  for (const b of bytes) s += NAME_ALPHABET[b % NAME_ALPHABET.length];
  return s;
}

export function hasStatus(ri: ResourceInfo): boolean {
  return ri.subresources?.includes("status") ?? false;
}
