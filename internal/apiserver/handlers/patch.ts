// PATCH, dispatched by Content-Type: JSON patch, merge patch, strategic merge patch, server-side apply.
import { MAX_BODY_BYTES, mediaType, parseText, readBodyText } from "../body.ts";
import type { KObject } from "../objects.ts";
import { storageFormOf } from "../conversion.ts";
import type { Rest } from "../rest.ts";
import { writeCtx } from "../rest.ts";
import { queryBool } from "../queryopts.ts";
import { checkPatchedTypes } from "./patcherrors.ts";
import { renderStored } from "../respond.ts";
import { qualifiedResource, StatusError, badRequest } from "../../api/status.ts";
import { checkBodyIdentity, checkUnknownFields, updateObject } from "../writes.ts";

const PATCH_TYPES = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
  "application/apply-patch+yaml",
];

function patchFailed(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  // The patch library's PatchError carries upstream's code, reason and causes.
  const pe = err as { code?: unknown; reason?: unknown; message?: string; causes?: any[] };
  if (pe && typeof pe.code === "number" && typeof pe.reason === "string") {
    return new StatusError(pe.code, pe.reason, pe.message ?? "", pe.causes?.length ? { causes: pe.causes } : undefined);
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new StatusError(422, "Invalid", `the server rejected our request due to an error in our request: ${msg}`);
}

/** Whether the patch itself names a resourceVersion (then it is a precondition, as upstream). */
function pinsResourceVersion(type: string, patch: any): boolean {
  if (type === "application/json-patch+json") {
    return Array.isArray(patch) && patch.some((op) => op?.path === "/metadata/resourceVersion" && op.op !== "remove");
  }
  const rv = patch?.metadata?.resourceVersion;
  return rv !== undefined && rv !== null && rv !== "";
}

function conflictsError(r: Rest, err: any): StatusError {
  const conflicts: { manager: string; field: string; message?: string }[] = err.conflicts ?? [];
  const msg = err.message && /conflict/i.test(err.message) ? err.message : `Apply failed with ${conflicts.length} conflict${conflicts.length === 1 ? "" : "s"}`;
  const details: Record<string, any> = {
    causes: conflicts.map((c) => ({
      reason: "FieldManagerConflict",
      message: c.message ?? `conflict with "${c.manager}"`,
      field: c.field,
    })),
  };
  if (r.ri.group) details.group = r.ri.group;
  return new StatusError(409, "Conflict", msg, details);
}

/** Bytes of an object as JSON, without its managedFields. */
function objectSize(o: KObject): number {
  return Buffer.byteLength(JSON.stringify({ ...o, metadata: { ...o.metadata, managedFields: undefined } }));
}

/**
 * An applied configuration names its type itself (upstream's versionCheckManager): without apiVersion or kind
 * it is 400 "invalid object type" with the group/version/kind it did name, in Go's GroupVersionKind form.
 */
function checkApplyType(applied: Record<string, unknown>): void {
  const apiVersion = typeof applied.apiVersion === "string" ? applied.apiVersion : "";
  const kind = typeof applied.kind === "string" ? applied.kind : "";
  if (apiVersion && kind) return;
  const parts = apiVersion.split("/");
  const [group, version] = parts.length === 1 ? ["", parts[0]!] : parts.length === 2 ? [parts[0]!, parts[1]!] : ["", ""];
  throw badRequest(`invalid object type: ${group}/${version}, Kind=${kind}`);
}

export async function handlePatch(r: Rest): Promise<Response> {
  const type = mediaType(r.c);
  // Custom resources have no strategic merge patch (upstream answers 415 with the shorter list).
  const accepted = r.deps.customResources?.patchTypes(r.ri) ?? PATCH_TYPES;
  if (!accepted.includes(type)) {
    throw new StatusError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
    );
  }
  const lib = r.deps.patch;
  if (!lib) throw new StatusError(415, "UnsupportedMediaType", "patching is not available on this server");
  const text = await readBodyText(r.c);
  const patch = parseText(text, type === "application/apply-patch+yaml" ? type : "application/json") as any;
  const isApply = type === "application/apply-patch+yaml";
  if (type === "application/json-patch+json" ? !Array.isArray(patch) : patch === null || typeof patch !== "object" || Array.isArray(patch)) {
    throw badRequest(`the body of the request was not a valid ${type} patch`);
  }
  const w = writeCtx(r);
  const force = queryBool(r.q, "force");
  if (force !== undefined && !isApply) throw badRequest("force: Forbidden: may not be specified for non-apply patch");
  if (isApply && !r.q.get("fieldManager")) {
    throw new StatusError(422, "Invalid", `PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch`, {
      group: "meta.k8s.io",
      kind: "PatchOptions",
      causes: [{ reason: "FieldValueRequired", message: "Required value: is required for apply patch", field: "fieldManager" }],
    });
  }
  const pinned = pinsResourceVersion(type, patch);
  const gvk = { group: r.ri.group, version: r.ri.version, kind: r.ri.kind };
  const name = r.name!;

  // Versions stored in another version's shape (events.k8s.io Events, autoscaling/v1 HPAs) are patched in their
  // own shape and stored in the storage shape.
  const form = storageFormOf(r.ri);
  const res = await updateObject(
    form ? { ...w, ri: form.ri } : w,
    name,
    (stored) => {
      const live = stored && form ? form.fromStorage(stored) : stored;
      let out: KObject;
      try {
        if (isApply) {
          const applied = { ...patch, metadata: { ...(patch.metadata ?? {}) } };
          checkApplyType(applied);
          checkBodyIdentity({ ...w }, applied);
          if (applied.metadata.name && applied.metadata.name !== name) {
            throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
          }
          applied.metadata.name = name;
          out = lib.serverSideApply({ live, applied, manager: w.fieldManager, force: force === true, gvk, subresource: w.subresource });
        } else {
          if (!live) throw new StatusError(404, "NotFound", `${qualifiedResource(r.ri)} "${name}" not found`);
          if (type === "application/json-patch+json") out = lib.applyJsonPatch(live, patch);
          else if (type === "application/merge-patch+json") out = lib.applyMergePatch(live, patch);
          else out = lib.applyStrategicMergePatch(live, patch, gvk);
        }
      } catch (err: any) {
        if (err?.conflicts) throw conflictsError(r, err);
        throw patchFailed(err);
      }
      if (out === null || typeof out !== "object" || Array.isArray(out)) throw badRequest("patch produced a non-object");
      // A patch may build an object no request body could carry (many adds, or copies within the JSON patch
      // limit): the result is bounded like a body, before it is validated, admitted or stored. Managed fields
      // (which apply has already recorded) are the server's bookkeeping and do not count, as for a create; an
      // object that defaulting made larger than the limit only takes patches that do not grow it.
      const size = objectSize(out);
      if (size > MAX_BODY_BYTES && (!live || size > objectSize(live))) {
        throw new StatusError(413, "RequestEntityTooLarge", `Request entity too large: limit is ${MAX_BODY_BYTES}`);
      }
      out.metadata ??= {};
      if (live) {
        if (out.metadata.name !== undefined && out.metadata.name !== name) {
          throw badRequest(`the name of the object (${out.metadata.name}) does not match the name on the URL (${name})`);
        }
        if (out.apiVersion !== live.apiVersion || out.kind !== live.kind) checkBodyIdentity(w, out);
      } else {
        checkBodyIdentity(w, out);
      }
      out.metadata.name = name;
      if (!pinned) delete out.metadata.resourceVersion;
      if (!isApply) checkPatchedTypes(r.deps, r.ri, type, patch, out);
      checkUnknownFields(w, out);
      return form ? form.toStorage(out) : out;
    },
    { allowCreate: isApply, operation: isApply ? "Apply" : "Update", managedAlready: isApply },
  );
  return renderStored(r.c, r.deps, r.ri, res, res.created ? 201 : 200);
}
