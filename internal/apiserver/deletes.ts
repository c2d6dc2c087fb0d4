// DELETE semantics: preconditions, graceful pod deletion, propagation finalizers, finalizers that keep
// the object around with deletionTimestamp set, and immediate removal otherwise.
import { ConflictError, NotFoundError } from "../store/types.ts";
import { admit } from "./admission.ts";
import { clone, decode, deepEqual, encode, nowRFC3339, type KObject } from "./objects.ts";
import { queryBool } from "./queryopts.ts";
import { storageKey } from "../api/resources.ts";
import { badRequest, conflict, MODIFIED, notFound, StatusError } from "../api/status.ts";
import { conflictRetry, type WriteCtx } from "./writes.ts";

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  /** From the body; the query's dryRun is read by writeCtx. */
  dryRun?: unknown;
}

export interface DeleteResult {
  obj: KObject;
  /** False when the object is still there (finalizers or graceful termination pending). */
  deleted: boolean;
}

const TERMINAL = new Set(["Succeeded", "Failed"]);

/** Merge DeleteOptions from the body and from query parameters (query wins, as upstream). */
export function deleteOptions(body: Record<string, any> | undefined, q: URLSearchParams): DeleteOptions {
  const o: DeleteOptions = {};
  if (body) {
    if (body.kind !== undefined && body.kind !== "DeleteOptions") {
      throw badRequest(`the body of the request was not a DeleteOptions object (kind ${body.kind})`);
    }
    if (body.gracePeriodSeconds !== undefined && body.gracePeriodSeconds !== null) {
      if (!Number.isInteger(body.gracePeriodSeconds)) {
        throw badRequest(`DeleteOptions in version "v1" cannot be handled as a DeleteOptions: json: cannot unmarshal ${typeof body.gracePeriodSeconds} into Go struct field DeleteOptions.gracePeriodSeconds of type int64`);
      }
      o.gracePeriodSeconds = body.gracePeriodSeconds;
    }
    if (body.propagationPolicy) o.propagationPolicy = body.propagationPolicy;
    if (body.orphanDependents !== undefined && body.orphanDependents !== null) o.orphanDependents = Boolean(body.orphanDependents);
    if (body.preconditions) o.preconditions = body.preconditions;
    if (body.dryRun !== undefined && body.dryRun !== null) o.dryRun = body.dryRun;
  }
  const g = q.get("gracePeriodSeconds");
  if (g !== null && g !== "") {
    if (!/^-?\d+$/.test(g)) throw badRequest(`invalid gracePeriodSeconds "${g}"`);
    o.gracePeriodSeconds = Number(g);
  }
  const p = q.get("propagationPolicy");
  if (p) o.propagationPolicy = p as DeleteOptions["propagationPolicy"];
  const od = queryBool(q, "orphanDependents");
  if (od !== undefined) o.orphanDependents = od;
  if (o.propagationPolicy && !["Orphan", "Background", "Foreground"].includes(o.propagationPolicy)) {
    throw new StatusError(422, "Invalid", `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${o.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`, {
      kind: "DeleteOptions",
      group: "meta.k8s.io",
      causes: [{ reason: "FieldValueNotSupported", message: `Unsupported value: "${o.propagationPolicy}"`, field: "propagationPolicy" }],
    });
  }
  if (o.orphanDependents !== undefined && o.propagationPolicy) {
    throw new StatusError(422, "Invalid", `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "${o.propagationPolicy}": orphanDependents and deletionPropagation cannot be both set`);
  }
  if (o.gracePeriodSeconds !== undefined && o.gracePeriodSeconds < 0) o.gracePeriodSeconds = 1;
  return o;
}

function withPropagation(finalizers: string[] | undefined, o: DeleteOptions): string[] {
  let f = [...(finalizers ?? [])];
  const policy = o.propagationPolicy ?? (o.orphanDependents === true ? "Orphan" : o.orphanDependents === false ? "Background" : undefined);
  if (policy === "Orphan") {
    f = f.filter((x) => x !== "foregroundDeletion");
    if (!f.includes("orphan")) f.push("orphan");
  } else if (policy === "Foreground") {
    f = f.filter((x) => x !== "orphan");
    if (!f.includes("foregroundDeletion")) f.push("foregroundDeletion");
  } else if (policy === "Background") {
    f = f.filter((x) => x !== "orphan" && x !== "foregroundDeletion");
  }
  return f;
}

/** Grace period for a pod: only pods on a node that may still run get one. */
function podGrace(pod: KObject, o: DeleteOptions): number {
  if (!pod.spec?.nodeName || TERMINAL.has(pod.status?.phase)) return 0;
  const g = o.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, g);
}

/** DeleteOptions as admission webhooks receive them. */
function reviewDeleteOptions(w: WriteCtx, o: DeleteOptions): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: "DeleteOptions", apiVersion: "meta.k8s.io/v1" };
  for (const [k, v] of Object.entries(o)) if (v !== undefined && k !== "kind" && k !== "apiVersion") out[k] = v;
  if (w.dryRun) out.dryRun = ["All"];
  return out;
}

export async function deleteObject(w: WriteCtx, name: string, o: DeleteOptions): Promise<DeleteResult> {
  const { ri, deps } = w;
  const key = storageKey(ri, w.namespace, name);
  const retry = conflictRetry();
  for (;;) {
    const { kv } = await deps.store.get(key);
    if (!kv) throw notFound(ri, name);
    const live = decode(kv);
    const pre = o.preconditions;
    if (pre?.uid && pre.uid !== live.metadata.uid) {
      throw conflict(ri, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${live.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== live.metadata.resourceVersion) {
      throw conflict(ri, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${live.metadata.resourceVersion}`);
    }
    await admit({ deps, ri, user: w.user, operation: "DELETE", namespace: w.namespace, name, oldObject: live, dryRun: w.dryRun, options: reviewDeleteOptions(w, o), warnings: w.warnings });

    const isPod = ri.group === "" && ri.resource === "pods";
    const isNamespace = ri.group === "" && ri.resource === "namespaces";
    const grace = isPod ? podGrace(live, o) : 0;
    const finalizers = withPropagation(live.metadata.finalizers, o);
    const pendingSpecFinalizers = isNamespace && (live.spec?.finalizers ?? []).length > 0;
    const keep = finalizers.length > 0 || grace > 0 || pendingSpecFinalizers;

    try {
      if (keep) {
        const next = clone(live);
        const m = next.metadata;
        const current = m.deletionGracePeriodSeconds;
        if (!m.deletionTimestamp || (current !== undefined && grace < current)) {
          m.deletionTimestamp = nowRFC3339(grace);
          m.deletionGracePeriodSeconds = grace;
          if (ri.generation && !live.metadata.deletionTimestamp) m.generation = (m.generation ?? 0) + 1;
        }
        if (finalizers.length) m.finalizers = finalizers;
        else delete m.finalizers;
        if (isNamespace) next.status = { ...(next.status ?? {}), phase: "Terminating" };
        // A pod told to go now (grace 0) whose finalizers are all gone is removed now.
        if (!(m.deletionGracePeriodSeconds === 0 && finalizers.length === 0 && !pendingSpecFinalizers)) {
          // A repeated DELETE of an object already being deleted changes nothing and writes nothing.
          if (w.dryRun || deepEqual(next, live)) return { obj: next, deleted: false };
          const stored = await deps.store.update(key, encode(next), kv.modRevision);
          return { obj: decode(stored), deleted: false };
        }
      }
      if (w.dryRun) return { obj: live, deleted: true };
      const gone = await deps.store.delete(key, kv.modRevision);
      const out = decode({ ...gone, value: kv.value });
      if (deps.serviceAllocator && ri.group === "" && ri.resource === "services") await deps.serviceAllocator.release(out as any);
      return { obj: out, deleted: true };
    } catch (err) {
      if (err instanceof ConflictError) {
        if (pre?.resourceVersion || !(await retry())) throw conflict(ri, name, MODIFIED);
        continue;
      }
      if (err instanceof NotFoundError) throw notFound(ri, name);
      throw err;
    }
  }
}
