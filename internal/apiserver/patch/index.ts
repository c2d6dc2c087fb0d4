// Patch semantics of the API server as a pure library: JSON patch, merge patch, strategic merge patch,
// server-side apply and managedFields bookkeeping. The generic PATCH/UPDATE/CREATE handlers call these;
// errors are PatchError (code + reason for a metav1.Status) and ApplyConflictError (409).
export { applyJsonPatch, decodeJsonPatch } from "./json-patch.ts";
export { applyMergePatch } from "./merge-patch.ts";
export { applyStrategicMergePatch } from "./strategic.ts";
export { serverSideApply, type ServerSideApplyOptions } from "./apply.ts";
export { updateManagedFields, type UpdateManagedFieldsOptions } from "./update.ts";
export { ApplyConflictError, PatchError, type FieldConflict, type StatusCause } from "./errors.ts";
export { computeFieldSet, stripManagedFields, patchTypeOf, applyPatchByContentType } from "./helpers.ts";
export { FieldSet, pathString } from "./fieldpath.ts";
export type { GVK } from "./schema/index.ts";
