// Defaulting and validation of API objects, as upstream's registry strategies do them. Pure functions
// the REST handler calls: defaultObject → (admission) → validateObject; unknownFields for fieldValidation.
import type { ResourceInfo } from "../../api/resources.ts";
import type { Cause } from "./errors.ts";
import { validateCreate } from "./kinds.ts";
import { stripNulls } from "./nulls.ts";
import { takeWellTyped, typeMismatches } from "./types.ts";
import { validateUpdate } from "./update.ts";
import { generateJobSelector } from "./workloads.ts";

export { defaultObject, defaultPodSpec, defaultPullPolicy, qosClass } from "./defaults.ts";
export { unknownFields } from "./unknown.ts";
export { duplicateFields } from "./duplicates.ts";
export { typeErrors, typeMismatches, restoreErrors, decodeErrorMessage, type TypeMismatch } from "./types.ts";
export { stripNulls } from "./nulls.ts";
export { isDNS1123Label, isDNS1123Subdomain, isDNS1035Label, isQualifiedName, isValidLabelValue } from "./names.ts";
export { selectorMatches } from "./meta.ts";
export type { Cause, CauseReason } from "./errors.ts";

/**
 * Validates an object on create (no `old`) or update. Pass `opts.subresource` for writes through a
 * subresource (status, binding, scale, ...), whose strategies don't apply the main resource's spec rules;
 * "" means the main resource. Returns upstream's field errors as Status causes;
 * empty means valid. On create of a Job without a manual selector it also generates the selector and
 * template labels from metadata.uid, as upstream's Job strategy does just before validating.
 */
export function validateObject(ri: ResourceInfo, obj: any, old?: any, opts: { subresource?: string } = {}): Cause[] {
  const changed = stripNulls(obj);
  // Values of the wrong type make the rest meaningless (upstream never gets that far: it fails decoding). An object
  // found well-typed earlier in this write and touched only by the server since (see markWellTyped) is not walked again.
  const mismatches = !takeWellTyped(obj) || changed ? typeMismatches(ri, obj) : [];
  if (mismatches.length) {
    return mismatches.map((m) => ({
      reason: "FieldValueTypeInvalid",
      field: m.field,
      message: `Invalid value: "${m.found}": ${m.field} in body must be of type ${m.expected}: "${m.found}"`,
    }));
  }
  if (!old && ri.kind === "Job" && ri.group === "batch") generateJobSelector(obj);
  return (old ? validateUpdate(ri, obj, old, opts.subresource) : validateCreate(ri, obj)).list;
}

/** The 422 message: `Deployment.apps "x" is invalid: spec.replicas: Invalid value: -1: must be ...`. */
export function invalidMessage(ri: Pick<ResourceInfo, "kind" | "group">, name: string, causes: Cause[]): string {
  const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
  const kind = ri.group ? `${ri.kind}.${ri.group}` : ri.kind;
  return `${kind} "${name}" is invalid: ${summary}`;
}
