// autoscaling/v1 Scale for deployments, replicasets, statefulsets and replicationcontrollers: a view onto spec.replicas.
import { readObject, mediaType, parseText, readBodyText } from "../body.ts";
import type { KObject } from "../objects.ts";
import { writeCtx, type Rest } from "../rest.ts";
import { json } from "../respond.ts";
import { formatLabelSelector, fromLabelSelectorObject } from "../../api/selectors/labels.ts";
import { badRequest, conflict, MODIFIED, methodNotAllowed, notFound, StatusError } from "../../api/status.ts";
import { readLive, updateObject } from "../writes.ts";

export function scaleOf(obj: KObject): KObject {
  const m = obj.metadata;
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: obj.spec?.replicas ?? 1 },
    status: { replicas: obj.status?.replicas ?? 0, selector: selectorString(obj) },
  };
}

/** ReplicationControllers select with a plain label map; the apps kinds with a LabelSelector. */
function selectorString(obj: KObject): string {
  if (obj.kind === "ReplicationController") {
    const sel = (obj.spec?.selector ?? {}) as Record<string, string>;
    return Object.keys(sel)
      .sort()
      .map((k) => `${k}=${sel[k]}`)
      .join(",");
  }
  return formatLabelSelector(fromLabelSelectorObject(obj.spec?.selector));
}

/** Upstream's 422 for a Scale whose spec.replicas is not a non-negative integer. */
export function invalidReplicas(name: string, v: unknown): StatusError {
  return new StatusError(422, "Invalid", `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(v)}: must be greater than or equal to 0`, {
    name,
    group: "autoscaling",
    kind: "Scale",
    causes: [{ reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(v)}: must be greater than or equal to 0`, field: "spec.replicas" }],
  });
}

/** A Scale patched by a JSON, merge, strategic-merge or apply patch (apply sets spec fields only). */
export function patchScale(lib: Rest["deps"]["patch"], current: KObject, patch: any, patchType: string): any {
  if (!lib) throw badRequest("patch is not supported");
  const gvk = { group: "autoscaling", version: "v1", kind: "Scale" };
  if (patchType === "application/json-patch+json") return lib.applyJsonPatch(current, patch);
  if (patchType === "application/merge-patch+json") return lib.applyMergePatch(current, patch);
  if (patchType === "application/strategic-merge-patch+json") return lib.applyStrategicMergePatch(current, patch, gvk);
  if (patchType === "application/apply-patch+yaml") return { ...current, spec: { ...current.spec, ...(patch?.spec ?? {}) } };
  throw new StatusError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
}

export async function handleScale(r: Rest, method: string): Promise<Response> {
  const name = r.name!;
  if (method === "GET") {
    const live = await readLive(r.deps, r.ri, r.namespace, name);
    if (!live) throw notFound(r.ri, name);
    return json(r.c, scaleOf(live.obj));
  }
  if (method !== "PUT" && method !== "PATCH") throw methodNotAllowed();
  let scaleBody: any;
  let patch: any;
  let patchType = "";
  if (method === "PUT") scaleBody = await readObject(r.c);
  else {
    patchType = mediaType(r.c);
    patch = parseText(await readBodyText(r.c), patchType === "application/apply-patch+yaml" ? patchType : "application/json");
  }
  const w = writeCtx(r, "scale");
  const res = await updateObject(w, name, (live) => {
    if (!live) throw notFound(r.ri, name);
    const current = scaleOf(live);
    let wanted: any = scaleBody;
    if (patch !== undefined) {
      wanted = patchScale(r.deps.patch, current, patch, patchType);
    }
    const rv = wanted?.metadata?.resourceVersion;
    if (rv && rv !== "0" && rv !== live.metadata.resourceVersion && (patch === undefined || patch?.metadata?.resourceVersion)) throw conflict(r.ri, name, MODIFIED);
    const replicas = wanted?.spec?.replicas;
    if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) throw invalidReplicas(name, replicas);
    live.spec = { ...(live.spec ?? {}), replicas };
    delete live.metadata.resourceVersion;
    return live;
  });
  return json(r.c, scaleOf(res.obj));
}
