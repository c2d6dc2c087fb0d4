// A patch whose result has a value of the wrong type: upstream fails converting the patched data back into
// the kind and answers 422 with the field "patch". A strategic merge patch goes through the unstructured
// converter ("cannot restore map from string") and names the kind; JSON and merge patches go through the
// JSON decoder and name no kind.
import type { ResourceInfo } from "../../api/resources.ts";
import { StatusError } from "../../api/status.ts";
import type { ApiServerDeps } from "../deps.ts";

const SMP = "application/strategic-merge-patch+json";

/** Go's %v of a value decoded from JSON: map[a:1 b:[x y]] with sorted keys, <nil> for null. */
export function goValueString(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (Array.isArray(v)) return `[${v.map(goValueString).join(" ")}]`;
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o)
      .sort()
      .map((k) => `${k}:${goValueString(o[k])}`)
      .join(" ")}]`;
  }
  return String(v);
}

function invalidPatch(ri: ResourceInfo | undefined, value: string, err: string): StatusError {
  const message = `Invalid value: ${JSON.stringify(value)}: ${err}`;
  const details: Record<string, unknown> = { causes: [{ reason: "FieldValueInvalid", message, field: "patch" }] };
  if (ri?.group) details.group = ri.group;
  if (ri) details.kind = ri.kind;
  const kind = ri ? (ri.group ? `${ri.kind}.${ri.group}` : ri.kind) : "";
  return new StatusError(422, "Invalid", `${kind} "" is invalid: patch: ${message}`, details);
}

/** Throws upstream's 422 when the patched object `out` cannot be converted back into the kind. */
export function checkPatchedTypes(deps: ApiServerDeps, ri: ResourceInfo, type: string, patch: unknown, out: unknown): void {
  const schema = deps.schema;
  if (!schema) return;
  if (type === SMP) {
    const err = schema.restoreErrors?.(ri, out)[0];
    if (err) throw invalidPatch(ri, goValueString(patch), err);
    return;
  }
  const err = schema.typeErrors?.(ri, out)[0];
  if (err) throw invalidPatch(undefined, JSON.stringify(out), err);
}
