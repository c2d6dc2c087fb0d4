import { readObject } from "../body.ts";
import { storageFormOf } from "../conversion.ts";
import type { Rest } from "../rest.ts";
import { writeCtx } from "../rest.ts";
import { renderStored } from "../respond.ts";
import { checkBodyIdentity, checkUnknownFields, createStored } from "../writes.ts";

export async function handleCreate(r: Rest): Promise<Response> {
  let body = (await readObject(r.c, r.ri.kind)) as any;
  const w = writeCtx(r);
  checkBodyIdentity(w, body);
  checkUnknownFields(w, body, r.c.get("bodyText" as never) as string | undefined);
  const form = storageFormOf(r.ri);
  if (form) {
    body = form.toStorage(body);
    w.ri = form.ri;
  }
  return renderStored(r.c, r.deps, r.ri, await createStored(w, body), 201);
}
