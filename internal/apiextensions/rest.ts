// What the generic REST handler does differently for custom resources: the scale subresource at the CRD's
// replica paths, no creates while the CRD is terminating, and the deprecation Warning of deprecated versions.
import { mediaType, parseText, readBodyText, readObject } from "../apiserver/body.ts";
import { decode, encode, type KObject } from "../apiserver/objects.ts";
import { matches, parseSelectors } from "../apiserver/listing.ts";
import { storageKey, storagePrefix } from "../api/resources.ts";
import { ConflictError } from "../store/types.ts";
import { isCRDResource } from "./schemalib.ts";
import { CLEANUP_FINALIZER } from "./crd/types.ts";
import { writeCtx, type Rest } from "../apiserver/rest.ts";
import { json } from "../apiserver/respond.ts";
import { invalidReplicas, patchScale } from "../apiserver/subresources/scale.ts";
import { readLive, updateObject } from "../apiserver/writes.ts";
import type { CustomResourceHooks } from "../apiserver/deps.ts";
import { conflict, methodNotAllowed, MODIFIED, notFound, StatusError } from "../api/status.ts";
import type { ResourceInfo } from "../api/resources.ts";
import { evaluate } from "./jsonpath.ts";
import { servedVersion, type ServedVersion } from "./served.ts";

/** Upstream's version.CompareKubeAwareVersionStrings order: GA > beta > alpha, then by numbers; > 0 when a is newer. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return undefined;
    return [Number(m[1]), m[2] === "alpha" ? 0 : m[2] === "beta" ? 1 : 2, Number(m[3] ?? 0)];
  };
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : b.localeCompare(a);
  if (pa[1] !== pb[1]) return pa[1]! - pb[1]!;
  if (pa[0] !== pb[0]) return pa[0]! - pb[0]!;
  return pa[2]! - pb[2]!;
}

/** The Warning a request to a deprecated version gets (the CRD's text, else upstream's default). */
export function deprecationWarning(ri: ResourceInfo): string | undefined {
  const sv = servedVersion(ri);
  if (!sv?.version.deprecated) return undefined;
  if (sv.version.deprecationWarning) return sv.version.deprecationWarning;
  const { group } = sv.crd.spec;
  const kind = sv.ri.kind;
  let msg = `${group}/${sv.version.name} ${kind} is deprecated`;
  const newer = sv.crd.spec.versions
    .filter((v) => v.served && !v.deprecated && compareVersions(v.name, sv.version.name) > 0)
    .map((v) => v.name)
    .sort((a, b) => compareVersions(b, a));
  if (newer.length) msg += `; use ${group}/${newer[0]} ${kind}`;
  return msg;
}

function get(obj: unknown, path: string): unknown {
  return evaluate(obj, path)[0];
}

/** Sets a ".spec.a.b" path, creating objects on the way. */
function set(obj: Record<string, any>, path: string, value: unknown): void {
  const parts = path.replace(/^\./, "").split(".");
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (cur[p] === null || typeof cur[p] !== "object" || Array.isArray(cur[p])) cur[p] = {};
    cur = cur[p];
  }
  cur[parts[parts.length - 1]!] = value;
}

function scaleOf(sv: ServedVersion, obj: KObject): KObject {
  const sc = sv.version.subresources!.scale!;
  const m = obj.metadata;
  const status: Record<string, unknown> = { replicas: Number(get(obj, sc.statusReplicasPath)) || 0 };
  if (sc.labelSelectorPath) {
    const sel = get(obj, sc.labelSelectorPath);
    if (typeof sel === "string" && sel) status.selector = sel;
  }
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: Number(get(obj, sc.specReplicasPath)) || 0 },
    status,
  };
}

const SCALE_PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"];

/** GET/PUT/PATCH of /scale on a custom resource: autoscaling/v1 Scale at the CRD's replica paths. */
async function handleScale(r: Rest, method: string, sv: ServedVersion): Promise<Response> {
  const name = r.name!;
  const sc = sv.version.subresources!.scale!;
  if (method === "GET") {
    const live = await readLive(r.deps, r.ri, r.namespace, name);
    if (!live) throw notFound(r.ri, name);
    return json(r.c, scaleOf(sv, live.obj));
  }
  if (method !== "PUT" && method !== "PATCH") throw methodNotAllowed();
  let body: any;
  let patch: any;
  let type = "";
  if (method === "PUT") body = await readObject(r.c);
  else {
    type = mediaType(r.c);
    if (!SCALE_PATCH_TYPES.includes(type)) {
      throw new StatusError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: ${SCALE_PATCH_TYPES.join(", ")}`);
    }
    patch = parseText(await readBodyText(r.c), type === "application/apply-patch+yaml" ? type : "application/json");
  }
  const w = writeCtx(r, "scale");
  const res = await updateObject(w, name, (live) => {
    if (!live) throw notFound(r.ri, name);
    const current = scaleOf(sv, live);
    let wanted = body;
    if (patch !== undefined) {
      // `type` is one of SCALE_PATCH_TYPES (checked above), so no strategic merge and no 415 here.
      wanted = patchScale(r.deps.patch, current, patch, type);
    }
    const rv = wanted?.metadata?.resourceVersion;
    if (rv && rv !== live.metadata.resourceVersion && (patch === undefined || patch?.metadata?.resourceVersion)) throw conflict(r.ri, name, MODIFIED);
    const replicas = wanted?.spec?.replicas;
    if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) throw invalidReplicas(name, replicas ?? null);
    set(live, sc.specReplicasPath, replicas);
    delete live.metadata.resourceVersion;
    return live;
  });
  return json(r.c, scaleOf(sv, res.obj));
}

/**
 * Before a CRD is deleted it gets the cleanup finalizer and a Terminating condition (upstream's CRD REST
 * Delete does the same), so the generic delete only marks it and the controller removes its objects first.
 * A collection delete marks every CRD the selectors name.
 */
async function markForCleanup(r: Rest): Promise<void> {
  if (r.q.getAll("dryRun").length) return;
  const sel = parseSelectors(r.ri, r.q);
  const keys = r.name ? [storageKey(r.ri, undefined, r.name)] : (await r.deps.store.list(storagePrefix(r.ri))).items.map((kv) => kv.key);
  for (const key of keys) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const { kv } = await r.deps.store.get(key);
      if (!kv) break;
      const crd = decode(kv);
      if (!r.name && !matches(r.ri, sel, crd)) break;
      const fins: string[] = crd.metadata.finalizers ?? [];
      if (crd.metadata.deletionTimestamp || fins.includes(CLEANUP_FINALIZER)) break;
      crd.metadata.finalizers = [...fins, CLEANUP_FINALIZER];
      const conds: any[] = ((crd.status ??= {}).conditions ??= []);
      const cond = { type: "Terminating", status: "True", lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"), reason: "InstanceDeletionPending", message: "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon" };
      const i = conds.findIndex((c) => c.type === "Terminating");
      if (i >= 0) conds[i] = cond;
      else conds.push(cond);
      try {
        await r.deps.store.update(key, encode(crd), kv.modRevision);
        break;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
  }
}

export const CUSTOM_PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"];

export const customResourceHooks: CustomResourceHooks = {
  intercept(r, method) {
    if (method === "DELETE" && isCRDResource(r.ri) && !r.subresource) return markForCleanup(r).then(() => undefined);
    const sv = servedVersion(r.ri);
    if (!sv) return undefined;
    if (sv.crd.metadata.deletionTimestamp && method === "POST" && !r.subresource) {
      throw methodNotAllowed("create not allowed while custom resource definition is terminating");
    }
    if (r.subresource === "scale" && r.ri.subresources?.includes("scale")) return handleScale(r, method, sv);
    return undefined;
  },
  warnings(ri) {
    const w = deprecationWarning(ri);
    return w ? [w] : [];
  },
  patchTypes(ri) {
    return servedVersion(ri) ? CUSTOM_PATCH_TYPES : undefined;
  },
};
