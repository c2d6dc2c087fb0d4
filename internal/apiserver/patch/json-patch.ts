// RFC 6902 JSON patch (Content-Type application/json-patch+json) via fast-json-patch, with upstream's errors:
// an undecodable patch is 400 BadRequest; a patch that does not apply (failed test, missing path) is 422 with
// upstream's generic message and the detail in a cause, as kube-apiserver's jsonPatcher does.
import { applyPatch, JsonPatchError, type Operation } from "fast-json-patch";
import { badRequest, unprocessable } from "./errors.ts";
import { clone, isObject } from "./json.ts";
import { normalizeTyped, typeOfObject } from "./normalize.ts";

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
  return ops as Operation[];
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  return typeof v === "object" ? "object" : typeof v;
}

/**
 * Applies RFC 6902 operations to a copy of obj. Throws PatchError 400 for a malformed patch, 422 when an
 * operation does not apply (including a failed "test").
 */
export function applyJsonPatch<T>(obj: T, ops: unknown): T {
  const operations = decodeJsonPatch(ops);
  for (const op of operations) {
    const kind = (op as { op?: unknown }).op;
    if (typeof kind !== "string" || !OPS.has(kind)) throw unprocessable(`Unexpected kind: ${String(kind ?? "unknown")}`);
    if (typeof op.path !== "string") throw unprocessable(`${kind} operation is missing path`);
    if ((kind === "add" || kind === "replace" || kind === "test") && !("value" in op)) {
      throw unprocessable(`${kind} operation, missing value field`);
    }
  }
  try {
    const out = applyPatch(clone(obj), operations, true, true, true).newDocument;
    return (isObject(out) ? normalizeTyped(out, typeOfObject(out)) : out) as T;
  } catch (e) {
    if (e instanceof JsonPatchError) throw unprocessable(goStyleMessage(e));
    throw unprocessable((e as Error).message);
  }
}

// Messages in the style of evanphx/json-patch, which kube-apiserver uses.
function goStyleMessage(e: JsonPatchError): string {
  const op = e.operation as Operation & { from?: string };
  const path = op?.path;
  switch (e.name) {
    case "TEST_OPERATION_FAILED":
      return `testing value ${path} failed: test failed`;
    case "OPERATION_PATH_UNRESOLVABLE":
      return `${op.op} operation does not apply: doc is missing path: "${path}": missing value`;
    case "OPERATION_FROM_UNRESOLVABLE":
      return `${op.op} operation does not apply: doc is missing from path: "${op.from}": missing value`;
    case "OPERATION_PATH_CANNOT_ADD":
      return `add operation does not apply: doc is missing path: "${path}": missing value`;
    case "OPERATION_VALUE_OUT_OF_BOUNDS":
    case "OPERATION_PATH_ILLEGAL_ARRAY_INDEX":
      return `Unable to access invalid index: ${path}: invalid index referenced`;
    default:
      return e.message.split("\n")[0] ?? e.name;
  }
}
