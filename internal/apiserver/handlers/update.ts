import { readObject } from "../body.ts";
import { storageFormOf } from "../conversion.ts";
import type { Rest } from "../rest.ts";
import { writeCtx } from "../rest.ts";
import { renderStored } from "../respond.ts";
import { badRequest } from "../../api/status.ts";
import { checkBodyIdentity, checkUnknownFields, updateObject } from "../writes.ts";

/** PUT of the object or of its status/finalize subresource. */
export async function handleUpdate(r: Rest): Promise<Response> {
  let body = (await readObject(r.c, r.ri.kind)) as any;
  const w = writeCtx(r);
  checkBodyIdentity(w, body);
  const name = r.name!;
  if (body.metadata.name && body.metadata.name !== name) {
    throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
  }
  body.metadata.name = name;
  checkUnknownFields(w, body, r.c.get("bodyText" as never) as string | undefined);
  const form = storageFormOf(r.ri);
  if (form) {
    body = form.toStorage(body);
    w.ri = form.ri;
  }
  const res = await updateObject(w, name, () => body);
  return renderStored(r.c, r.deps, r.ri, res, res.created ? 201 : 200);
}
