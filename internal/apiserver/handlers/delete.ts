import { readOptionalObject } from "../body.ts";
import { deleteObject, deleteOptions } from "../deletes.ts";
import { listObjects, objectsOf, parseSelectors } from "../listing.ts";
import type { Rest } from "../rest.ts";
import { writeCtx } from "../rest.ts";
import { json, renderObjects, renderObject } from "../respond.ts";

import { StatusError, success } from "../../api/status.ts";
import { RETURNS_DELETED_OBJECT } from "../strategy.ts";

export async function handleDelete(r: Rest): Promise<Response> {
  const opts = deleteOptions(await readOptionalObject(r.c), r.q);
  const w = writeCtx(r, r.subresource, opts.dryRun);
  const res = await deleteObject(w, r.name!, opts);
  // Upstream answers 200 even when the object lingers (finalizers, graceful termination), except for the
  // legacy orphanDependents=false request, kept at 202 for old clients.
  const code = !res.deleted && opts.orphanDependents === false ? 202 : 200;
  if (!res.deleted || RETURNS_DELETED_OBJECT.has(`${r.ri.group}/${r.ri.resource}`)) {
    return renderObject(r.c, r.deps, r.ri, res.obj, code);
  }
  const details: Record<string, string> = { name: r.name!, kind: r.ri.resource, uid: res.obj.metadata.uid };
  if (r.ri.group) details.group = r.ri.group;
  return json(r.c, success(details), code);
}

export async function handleDeleteCollection(r: Rest): Promise<Response> {
  const opts = deleteOptions(await readOptionalObject(r.c), r.q);
  const w = writeCtx(r, r.subresource, opts.dryRun);
  const q = new URLSearchParams(r.q);
  q.delete("limit");
  q.delete("continue");
  const listed = await listObjects(r.deps.store, r.ri, r.namespace, q, parseSelectors(r.ri, q));
  const deleted = [];
  for (const obj of objectsOf(listed)) {
    try {
      const res = await deleteObject({ ...w, namespace: obj.metadata.namespace }, obj.metadata.name, opts);
      deleted.push(res.obj);
    } catch (err) {
      if (err instanceof StatusError && err.code === 404) continue;
      throw err;
    }
  }
  return renderObjects(r.c, r.deps, r.ri, deleted, { resourceVersion: String(listed.revision) });
}
