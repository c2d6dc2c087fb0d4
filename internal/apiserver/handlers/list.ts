import { listObjects, parseSelectors } from "../listing.ts";
import type { Rest } from "../rest.ts";
import { renderList } from "../respond.ts";

export async function handleList(r: Rest): Promise<Response> {
  const sel = parseSelectors(r.ri, r.q);
  const res = await listObjects(r.deps.store, r.ri, r.namespace, r.q, sel);
  return renderList(r.c, r.deps, r.ri, res.kvs, {
    resourceVersion: String(res.revision),
    continue: res.continue,
    remainingItemCount: res.remainingItemCount,
  });
}
