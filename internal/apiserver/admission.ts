// Runs the admission chain (all mutating plugins, then mutating webhooks, then validation, then validating
// plugins, then validating webhooks) and turns AdmissionError into a Status.
import { AdmissionError, type AdmissionRequest, type Operation } from "../admission/types.ts";
import type { ApiServerDeps } from "./deps.ts";
import { invalid, StatusError } from "../api/status.ts";
import type { ResourceInfo } from "../api/resources.ts";
import type { UserInfo } from "../auth/types.ts";
import type { KObject } from "./objects.ts";

function asStatus(err: unknown): unknown {
  if (err instanceof AdmissionError) return new StatusError(err.code, err.reason, err.message);
  // Admission plugins may raise an ApiError-like error carrying a full Status.
  const e = err as { code?: number; reason?: string; status?: any; message?: string };
  if (e && typeof e.code === "number" && typeof e.reason === "string") {
    return new StatusError(e.code, e.reason, e.status?.message ?? e.message ?? "", e.status?.details);
  }
  return err;
}

export interface AdmitArgs {
  deps: ApiServerDeps;
  ri: ResourceInfo;
  user: UserInfo;
  operation: Operation;
  subresource?: string;
  namespace?: string;
  name?: string;
  object?: KObject;
  oldObject?: KObject;
  dryRun: boolean;
  /** CreateOptions / UpdateOptions / DeleteOptions, as webhooks receive them. */
  options?: Record<string, unknown>;
  /** Warning headers of the response (webhooks add theirs). */
  warnings?: string[];
}

/** Mutating admission, then schema validation, then validating admission. Returns the (mutated) object. */
export async function admit(a: AdmitArgs): Promise<KObject | undefined> {
  const req: AdmissionRequest = {
    operation: a.operation,
    user: a.user,
    group: a.ri.group,
    version: a.ri.version,
    resource: a.ri.resource,
    subresource: a.subresource,
    kind: a.ri.kind,
    namespace: a.namespace,
    name: a.name,
    object: a.object,
    oldObject: a.oldObject,
    dryRun: a.dryRun,
  };
  try {
    for (const p of a.deps.admission) if (p.admit) await p.admit(req);
  } catch (err) {
    throw asStatus(err);
  }
  let obj = req.object as KObject | undefined;
  const webhooks = a.deps.webhooks || undefined;
  const attrs = { ...a, ri: a.ri, object: obj };
  if (webhooks) obj = req.object = await webhooks.mutate(attrs);
  if (obj && a.deps.schema && (a.operation === "CREATE" || a.operation === "UPDATE")) {
    const causes = a.deps.schema.validateObject(a.ri, obj, a.operation === "UPDATE" ? a.oldObject : undefined, {
      subresource: a.subresource ?? "",
    });
    if (causes.length) throw invalid(a.ri, obj.metadata?.name ?? a.name ?? "", causes);
  }
  try {
    for (const p of a.deps.admission) if (p.validate) await p.validate(req);
  } catch (err) {
    throw asStatus(err);
  }
  if (webhooks) await webhooks.validate({ ...attrs, object: obj });
  return obj;
}
