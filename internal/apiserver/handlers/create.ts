import { readObject } from "../body.ts";
import type { Rest } from "../rest.ts";
import { writeCtx } from "../rest.ts";
import { renderObject } from "../respond.ts";
import { checkBodyIdentity, checkUnknownFields, createObject } from "../writes.ts";

export async function handleCreate(r: Rest): Promise<Response> {
  const body = await readObject(r.c);
  const w = writeCtx(r);
  checkBodyIdentity(w, body as any);
  checkUnknownFields(w, body as any);
  const obj = await createObject(w, body as any);
  return renderObject(r.c, r.deps, r.ri, obj, 201);
}
