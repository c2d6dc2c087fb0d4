// policy/v1 Eviction: delete a pod unless that would violate a PodDisruptionBudget (429 then).
import { readObject } from "../body.ts";
import { deleteObject, deleteOptions } from "../deletes.ts";
import { decode, type KObject } from "../objects.ts";
import { findResource, storagePrefix } from "../../api/resources.ts";
import { writeCtx, type Rest } from "../rest.ts";
import { json } from "../respond.ts";
import { fromLabelSelectorObject, matchLabels } from "../../api/selectors/labels.ts";
import { badRequest, methodNotAllowed, notFound, StatusError } from "../../api/status.ts";
import { readLive } from "../writes.ts";

const TERMINAL = new Set(["Succeeded", "Failed"]);

function healthy(pod: KObject): boolean {
  return !pod.metadata.deletionTimestamp && (pod.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
}

/** An IntOrString budget ("50%" or 2) resolved against the expected pod count (percentages round up). */
function resolve(v: number | string, total: number): number {
  if (typeof v === "number") return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number(v) || 0;
  return Math.ceil((Number(m[1]) * total) / 100);
}

export async function handleEviction(r: Rest, method: string): Promise<Response> {
  if (method !== "POST") throw methodNotAllowed();
  const body = (await readObject(r.c)) as any;
  const name = r.name!;
  if (body.metadata?.name && body.metadata.name !== name) {
    throw badRequest(`name in URL does not match name in Eviction object`);
  }
  const live = await readLive(r.deps, r.ri, r.namespace, name);
  if (!live) throw notFound(r.ri, name);
  const pod = live.obj;

  if (!TERMINAL.has(pod.status?.phase) && !pod.metadata.deletionTimestamp) {
    const pdbRI = findResource("policy", "v1", "poddisruptionbudgets")!;
    const pdbs = (await r.deps.store.list(`${storagePrefix(pdbRI)}${r.namespace}/`)).items
      .map(decode)
      .filter((p) => {
        const sel = p.spec?.selector;
        if (!sel || (!sel.matchLabels && !sel.matchExpressions)) return false;
        return matchLabels(fromLabelSelectorObject(sel), pod.metadata.labels);
      });
    if (pdbs.length > 1) {
      throw new StatusError(500, "InternalError", "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
    }
    if (pdbs.length === 1) {
      const pdb = pdbs[0]!;
      const sel = fromLabelSelectorObject(pdb.spec.selector);
      const pods = (await r.deps.store.list(`${storagePrefix(r.ri)}${r.namespace}/`)).items
        .map(decode)
        .filter((p) => !TERMINAL.has(p.status?.phase) && matchLabels(sel, p.metadata.labels));
      const expected = pods.length;
      const currentHealthy = pods.filter(healthy).length;
      const desiredHealthy =
        pdb.spec.minAvailable !== undefined
          ? resolve(pdb.spec.minAvailable, expected)
          : pdb.spec.maxUnavailable !== undefined
            ? Math.max(0, expected - resolve(pdb.spec.maxUnavailable, expected))
            : 0;
      const allowed = currentHealthy - desiredHealthy;
      // An unhealthy pod may go while the budget is met (upstream's IfHealthyBudget policy).
      const ok = healthy(pod) ? allowed >= 1 : currentHealthy >= desiredHealthy;
      if (!ok) {
        throw new StatusError(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.", {
          causes: [{
            reason: "DisruptionBudget",
            message: `The disruption budget ${pdb.metadata.name} needs ${desiredHealthy} healthy pods and has ${currentHealthy} currently`,
          }],
          retryAfterSeconds: 10,
        }, { "Retry-After": "10" });
      }
    }
  }
  // The eviction's own dryRun (query) and its DeleteOptions' dryRun both make the deletion a dry run.
  const opts = deleteOptions(body.deleteOptions ?? undefined, new URLSearchParams());
  const w = writeCtx(r, undefined, opts.dryRun);
  await deleteObject(w, name, opts);
  return json(r.c, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 }, 201);
}
