// Conveniences for the apiserver: content-type dispatch, field sets, and the managedFields-free view.
import { applyJsonPatch } from "./json-patch.ts";
import { applyMergePatch } from "./merge-patch.ts";
import { applyStrategicMergePatch } from "./strategic.ts";
import { PatchError } from "./errors.ts";
import { FieldSet } from "./fieldpath.ts";
import { clone, isObject, type JSONObject } from "./json.ts";
import { STRIPPED, withoutManagedFields } from "./managed-fields.ts";
import { rootType, type GVK } from "./schema/index.ts";
import { structRef, toFieldSet } from "./typed.ts";

export type PatchType = "json" | "merge" | "strategic" | "apply";

const MEDIA_TYPES: Record<string, PatchType> = {
  "application/json-patch+json": "json",
  "application/merge-patch+json": "merge",
  "application/strategic-merge-patch+json": "strategic",
  "application/apply-patch+yaml": "apply",
  "application/apply-patch+cbor": "apply",
};

/** Patch type of a PATCH request's Content-Type (parameters ignored); undefined when unsupported. */
export function patchTypeOf(contentType: string | null | undefined): PatchType | undefined {
  const media = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return MEDIA_TYPES[media];
}

/**
 * Applies a json/merge/strategic patch chosen by Content-Type. Apply patches need ownership data and go
 * through serverSideApply. Unsupported types are 415 with upstream's message.
 */
export function applyPatchByContentType<T>(contentType: string | null | undefined, obj: T, patch: unknown, gvk: GVK): T {
  switch (patchTypeOf(contentType)) {
    case "json":
      return applyJsonPatch(obj, patch);
    case "merge":
      return applyMergePatch(obj, patch);
    case "strategic":
      return applyStrategicMergePatch(obj, patch, gvk);
    default:
      throw new PatchError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: ${Object.keys(MEDIA_TYPES)
          .filter((m) => !m.endsWith("cbor"))
          .join(", ")}`,
      );
  }
}

/** The set of fields an object sets, as server-side apply would record it (FieldsV1 via .toFieldsV1()). */
export function computeFieldSet(obj: object, gvk: GVK): FieldSet {
  const o = withoutManagedFields(clone(obj) as JSONObject);
  return toFieldSet(o, structRef(rootType(gvk))).difference(STRIPPED);
}

/** A copy without metadata.managedFields (kubectl hides them unless --show-managed-fields). */
export function stripManagedFields<T>(obj: T): T {
  return isObject(obj) ? (withoutManagedFields(obj as JSONObject) as T) : obj;
}
