import type { Rest } from "../rest.ts";
import { renderObject } from "../respond.ts";
import { notFound } from "../../api/status.ts";
import { readLive } from "../writes.ts";

/** GET of one object (also serves GET of its status subresource: the whole object, as upstream). */
export async function handleGet(r: Rest): Promise<Response> {
  const live = await readLive(r.deps, r.ri, r.namespace, r.name!);
  if (!live) throw notFound(r.ri, r.name!);
  return renderObject(r.c, r.deps, r.ri, live.obj);
}
