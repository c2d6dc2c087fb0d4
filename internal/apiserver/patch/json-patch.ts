// RFC 6902 JSON patch (Content-Type application/json-patch+json) with upstream's errors and limits:
// an undecodable patch is 400 BadRequest; more than 10,000 operations is 413 (kube-apiserver's
// maxJSONPatchOperations); a patch that does not apply (failed test, missing path) or whose copy operations
// together copy more than 3 MiB (evanphx/json-patch's AccumulatedCopySizeLimit, which kube-apiserver sets to its
// request body limit) is 422 with upstream's generic message and the detail kept for logs.
//
// Deliberately not fast-json-patch (used before): it resolves pointers through inherited properties (a path
// "/constructor" finds Object, "/toString" a function), refuses "__proto__" instead of treating it as an ordinary
// key, deep-copies with JSON round trips and cannot bound what copy operations allocate while they run.
import { badRequest, PatchError, unprocessable } from "./errors.ts";
import { clone, deepEqual, isObject, own, setOwn, type JSONObject, type JSONValue } from "./json.ts";
import { normalizeTyped, typeOfObject } from "./normalize.ts";

/** kube-apiserver's maxJSONPatchOperations. */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;
/** kube-apiserver's JSONPatchMaxCopyBytes (its MaxRequestBodyBytes, 3 MiB). */
export const MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024;

export interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

export interface JsonPatchOptions {
  /** Bytes (as JSON) all copy operations together may add; default 3 MiB. */
  maxCopyBytes?: number;
}

const OPS = new Set(["add", "remove", "replace", "move", "copy", "test"]);

/** Parses a JSON patch body (string or already-parsed JSON) into operations; 400 when it is not a list of objects. */
export function decodeJsonPatch(body: unknown): Operation[] {
  let ops = body;
  if (typeof body === "string" || body instanceof Uint8Array) {
    const text = typeof body === "string" ? body : new TextDecoder().decode(body);
    try {
      ops = JSON.parse(text);
    } catch (e) {
      throw badRequest(`invalid JSON patch: ${(e as Error).message}`);
    }
  }
  if (!Array.isArray(ops)) {
    // Same wording as the Go decoder upstream relies on.
    throw badRequest(`json: cannot unmarshal ${describe(ops)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of ops) {
    if (typeof op !== "object" || op === null || Array.isArray(op)) {
      throw badRequest(`json: cannot unmarshal ${describe(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new PatchError(
      413,
      "RequestEntityTooLarge",
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`,
    );
  }
  return ops as Operation[];
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  return typeof v === "object" ? "object" : typeof v;
}

/**
 * Applies RFC 6902 operations to a copy of obj. Throws PatchError 400 for a malformed patch, 413 for too many
 * operations, 422 when an operation does not apply (including a failed "test") or copies too much.
 */
export function applyJsonPatch<T>(obj: T, ops: unknown, opts: JsonPatchOptions = {}): T {
  const operations = decodeJsonPatch(ops);
  for (const op of operations) {
    const kind = own(op, "op");
    if (typeof kind !== "string" || !OPS.has(kind)) throw unprocessable(`Unexpected kind: ${String(kind ?? "unknown")}`);
    if (typeof own(op, "path") !== "string") throw unprocessable(`${kind} operation is missing path`);
    if ((kind === "add" || kind === "replace" || kind === "test") && !Object.hasOwn(op, "value")) {
      throw unprocessable(`${kind} operation, missing value field`);
    }
    if ((kind === "move" || kind === "copy") && typeof own(op, "from") !== "string") {
      throw unprocessable(`${kind} operation is missing from`);
    }
  }
  const state = { copied: 0, limit: opts.maxCopyBytes ?? MAX_JSON_PATCH_COPY_BYTES };
  let doc = clone(obj) as JSONValue;
  for (const op of operations) doc = applyOne(doc, op, state);
  return (isObject(doc) ? normalizeTyped(doc, typeOfObject(doc)) : doc) as T;
}

/** RFC 6901 pointer → reference tokens; undefined when it is not a pointer. */
function tokens(pointer: string): string[] | undefined {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) return undefined;
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** The value at a pointer through own properties only; undefined when missing. */
function get(doc: JSONValue, toks: string[]): JSONValue | undefined {
  let cur: JSONValue | undefined = doc;
  for (const t of toks) {
    if (Array.isArray(cur)) {
      const i = arrayIndex(t, cur.length, false);
      cur = i === undefined ? undefined : cur[i];
    } else if (isObject(cur)) {
      cur = own(cur, t);
    } else {
      return undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Index into a list of length len; for add, len itself (and "-") appends. Negative indices count from the end. */
function arrayIndex(t: string, len: number, forAdd: boolean): number | undefined {
  if (t === "-") return forAdd ? len : undefined;
  if (!/^-?(0|[1-9][0-9]*)$/.test(t)) return undefined;
  let i = Number(t);
  if (i < 0) {
    if (i < -len) return undefined;
    i += len;
  }
  return i <= (forAdd ? len : len - 1) ? i : undefined;
}

function missing(op: Operation, which: "path" | "from" = "path"): PatchError {
  const where = which === "from" ? `from path: "${op.from}"` : `path: "${op.path}"`;
  return unprocessable(`${op.op} operation does not apply: doc is missing ${where}: missing value`);
}

function applyOne(doc: JSONValue, op: Operation, state: { copied: number; limit: number }): JSONValue {
  const toks = tokens(op.path);
  if (!toks) throw missing(op);
  switch (op.op) {
    case "add":
      return add(doc, toks, clone(op.value as JSONValue), op);
    case "remove":
      if (toks.length === 0) throw missing(op);
      remove(doc, toks, op);
      return doc;
    case "replace":
      return replace(doc, toks, clone(op.value as JSONValue), op);
    case "move": {
      const from = tokens(op.from!);
      if (!from) throw missing(op, "from");
      const value = get(doc, from);
      if (value === undefined) throw missing(op, "from");
      if (from.length === 0) return doc;
      remove(doc, from, op);
      return add(doc, toks, value, op);
    }
    case "copy": {
      const from = tokens(op.from!);
      const value = from ? get(doc, from) : undefined;
      if (value === undefined) throw missing(op, "from");
      // Counted before the copy is made: a doubling patch stops at the limit, not after allocating it.
      state.copied += jsonSize(value);
      if (state.copied > state.limit) {
        throw unprocessable(`Unable to complete the copy, the accumulated size increase of copy is ${state.copied}, exceeding the limit ${state.limit}`);
      }
      return add(doc, toks, clone(value), op);
    }
    case "test": {
      const actual = get(doc, toks);
      if (actual === undefined ? op.value === null : deepEqual(actual, op.value)) return doc;
      throw unprocessable(`testing value ${op.path} failed: test failed`);
    }
  }
  throw unprocessable(`Unexpected kind: ${op.op}`);
}

function jsonSize(v: JSONValue): number {
  return JSON.stringify(v)?.length ?? 0;
}

function add(doc: JSONValue, toks: string[], value: JSONValue, op: Operation): JSONValue {
  if (toks.length === 0) return value;
  const parent = get(doc, toks.slice(0, -1));
  const last = toks[toks.length - 1]!;
  if (Array.isArray(parent)) {
    const i = arrayIndex(last, parent.length, true);
    if (i === undefined) throw unprocessable(`Unable to access invalid index: ${op.path}: invalid index referenced`);
    parent.splice(i, 0, value);
  } else if (isObject(parent)) {
    setOwn(parent, last, value);
  } else {
    throw missing(op);
  }
  return doc;
}

function replace(doc: JSONValue, toks: string[], value: JSONValue, op: Operation): JSONValue {
  if (toks.length === 0) return value;
  const parent = get(doc, toks.slice(0, -1));
  const last = toks[toks.length - 1]!;
  if (Array.isArray(parent)) {
    const i = arrayIndex(last, parent.length, false);
    if (i === undefined) throw unprocessable(`Unable to access invalid index: ${op.path}: invalid index referenced`);
    parent[i] = value;
  } else if (isObject(parent) && Object.hasOwn(parent, last)) {
    setOwn(parent, last, value);
  } else {
    throw unprocessable(`replace operation does not apply: doc is missing key: ${op.path}: missing value`);
  }
  return doc;
}

function remove(doc: JSONValue, toks: string[], op: Operation): void {
  const parent = get(doc, toks.slice(0, -1));
  const last = toks[toks.length - 1]!;
  if (Array.isArray(parent)) {
    const i = arrayIndex(last, parent.length, false);
    if (i === undefined) throw unprocessable(`Unable to access invalid index: ${op.path}: invalid index referenced`);
    parent.splice(i, 1);
  } else if (isObject(parent) && Object.hasOwn(parent, last)) {
    delete (parent as JSONObject)[last];
  } else {
    throw missing(op, op.op === "move" ? "from" : "path");
  }
}
