// Swagger 2.0 paths for the served resources, laid out as upstream does (one path per collection, item and
// subresource, operations tagged with x-kubernetes-action and x-kubernetes-group-version-kind).
// kubectl reads them to decide whether the server supports `fieldValidation` (then it skips client-side
// schema validation) and strategic merge patch for a kind (then it computes patches from the schemas).
import { RESOURCES, groupVersion, isBuiltin, type ResourceInfo } from "../../api/resources.ts";
import { definitionNameForKind, type Schema } from "./definitions.ts";

export const PATCH_CONTENT_TYPES = [
  "application/apply-patch+yaml",
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
];
const PRODUCES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];
const META = "io.k8s.apimachinery.pkg.apis.meta.v1";

function query(name: string, type: string, description: string): Schema {
  return { name, in: "query", type, uniqueItems: true, description };
}
const P = {
  pretty: query("pretty", "string", "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."),
  dryRun: query("dryRun", "string", "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed"),
  fieldManager: query("fieldManager", "string", "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint."),
  fieldValidation: query("fieldValidation", "string", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered."),
  force: query("force", "boolean", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests."),
  labelSelector: query("labelSelector", "string", "A selector to restrict the list of returned objects by their labels. Defaults to everything."),
  fieldSelector: query("fieldSelector", "string", "A selector to restrict the list of returned objects by their fields. Defaults to everything."),
  limit: query("limit", "integer", "limit is a maximum number of responses to return for a list call."),
  continue: query("continue", "string", "The continue option should be set when retrieving more results from the server."),
  resourceVersion: query("resourceVersion", "string", "resourceVersion sets a constraint on what resource versions a request may be served from."),
  resourceVersionMatch: query("resourceVersionMatch", "string", "resourceVersionMatch determines how resourceVersion is applied to list calls."),
  watch: query("watch", "boolean", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications."),
  allowWatchBookmarks: query("allowWatchBookmarks", "boolean", "allowWatchBookmarks requests watch events with type \"BOOKMARK\"."),
  timeoutSeconds: query("timeoutSeconds", "integer", "Timeout for the list/watch call."),
  gracePeriodSeconds: query("gracePeriodSeconds", "integer", "The duration in seconds before the object should be deleted."),
  propagationPolicy: query("propagationPolicy", "string", "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'."),
  name: (kind: string): Schema => ({ name: "name", in: "path", required: true, type: "string", uniqueItems: true, description: `name of the ${kind}` }),
  namespace: { name: "namespace", in: "path", required: true, type: "string", uniqueItems: true, description: "object name and auth scope, such as for teams and projects" },
  body: (schema: Schema): Schema => ({ name: "body", in: "body", required: true, schema }),
};
const LIST_PARAMS = [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.timeoutSeconds, P.watch];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];

const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });

function groupCamel(group: string): string {
  if (!group) return "Core";
  return group
    .replace(/\.k8s\.io$/, "")
    .split(/[.-]/)
    .map((s) => s[0]!.toUpperCase() + s.slice(1))
    .join("");
}

function responses(code: string, schema: Schema, extra: string[] = []): Schema {
  const out: Schema = { [code]: { description: code === "200" ? "OK" : code === "201" ? "Created" : "Accepted", schema } };
  for (const c of extra) out[c] = { description: c === "201" ? "Created" : "Accepted", schema };
  out["401"] = { description: "Unauthorized" };
  return out;
}

interface OpCtx {
  ri: ResourceInfo;
  gvk: { group: string; version: string; kind: string };
  opName: string; // "CoreV1NamespacedPod"
  tag: string;
}

function op(ctx: OpCtx, verb: string, action: string, extra: Schema): Schema {
  return {
    description: extra.description ?? `${verb} ${ctx.gvk.kind}`,
    consumes: ["*/*"],
    produces: PRODUCES,
    schemes: ["https"],
    tags: [ctx.tag],
    operationId: `${verb}${ctx.opName}`,
    ...extra,
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": ctx.gvk,
  };
}

/** Swagger 2.0 path items of one resource. */
function resourcePaths(ri: ResourceInfo): Record<string, Schema> {
  const def = definitionNameForKind(ri.group, ri.version, ri.kind);
  if (!def) return {};
  const listDef = definitionNameForKind(ri.group, ri.version, ri.listKind);
  const gv = groupVersion(ri);
  const root = ri.group ? `/apis/${gv}` : `/api/${gv}`;
  const gvk = { group: ri.group, version: ri.version, kind: ri.kind };
  const tag = `${ri.group ? groupCamel(ri.group).replace(/^./, (c) => c.toLowerCase()) : "core"}_${ri.version}`;
  const ns = ri.namespaced ? "Namespaced" : "";
  const ctx: OpCtx = { ri, gvk, opName: `${groupCamel(ri.group)}${ri.version[0]!.toUpperCase()}${ri.version.slice(1)}${ns}${ri.kind}`, tag };
  const collection = ri.namespaced ? `${root}/namespaces/{namespace}/${ri.resource}` : `${root}/${ri.resource}`;
  const item = `${collection}/{name}`;
  const verbs = new Set(ri.verbs);
  const paths: Record<string, Schema> = {};
  const common = ri.namespaced ? [P.namespace, P.pretty] : [P.pretty];
  // Custom resources take no strategic merge patch (kubectl then computes merge patches for them).
  const patchTypes = isBuiltin(ri) ? PATCH_CONTENT_TYPES : PATCH_CONTENT_TYPES.filter((t) => !t.includes("strategic"));

  const coll: Schema = { parameters: common };
  if (verbs.has("list")) coll.get = op(ctx, "list", "list", { parameters: LIST_PARAMS, responses: responses("200", listDef ? ref(listDef) : { type: "object" }) });
  if (verbs.has("create")) coll.post = op(ctx, "create", "post", { parameters: [P.body(ref(def)), ...WRITE_PARAMS], responses: responses("200", ref(def), ["201", "202"]) });
  if (verbs.has("deletecollection")) coll.delete = op(ctx, "deletecollection", "deletecollection", { parameters: [P.body(ref(`${META}.DeleteOptions`)), ...LIST_PARAMS.filter((p) => p.name !== "watch"), P.dryRun, P.gracePeriodSeconds, P.propagationPolicy], responses: responses("200", ref(`${META}.Status`)) });
  if (coll.get || coll.post || coll.delete) paths[collection] = coll;

  if (!ri.virtual) {
    const it: Schema = { parameters: [P.name(ri.kind), ...common] };
    if (verbs.has("get")) it.get = op(ctx, "read", "get", { responses: responses("200", ref(def)) });
    if (verbs.has("update")) it.put = op(ctx, "replace", "put", { parameters: [P.body(ref(def)), ...WRITE_PARAMS], responses: responses("200", ref(def), ["201"]) });
    if (verbs.has("patch")) it.patch = op(ctx, "patch", "patch", { consumes: patchTypes, parameters: [P.body(ref(`${META}.Patch`)), ...WRITE_PARAMS, P.force], responses: responses("200", ref(def), ["201"]) });
    if (verbs.has("delete")) it.delete = op(ctx, "delete", "delete", { parameters: [P.body(ref(`${META}.DeleteOptions`)), P.dryRun, P.gracePeriodSeconds, P.propagationPolicy], responses: responses("200", ref(`${META}.Status`), ["202"]) });
    paths[item] = it;

    for (const sub of ri.subresources ?? []) {
      if (sub !== "status" && sub !== "scale" && sub !== "approval") continue;
      const subDef = sub === "scale" ? "io.k8s.api.autoscaling.v1.Scale" : def;
      const subGvk = sub === "scale" ? { group: "autoscaling", version: "v1", kind: "Scale" } : gvk;
      const subCtx: OpCtx = { ...ctx, gvk: subGvk, opName: `${ctx.opName}${sub[0]!.toUpperCase()}${sub.slice(1)}` };
      paths[`${item}/${sub}`] = {
        parameters: [P.name(sub === "scale" ? "Scale" : ri.kind), ...common],
        get: op(subCtx, "read", "get", { responses: responses("200", ref(subDef)) }),
        put: op(subCtx, "replace", "put", { parameters: [P.body(ref(subDef)), ...WRITE_PARAMS], responses: responses("200", ref(subDef), ["201"]) }),
        patch: op(subCtx, "patch", "patch", { consumes: patchTypes, parameters: [P.body(ref(`${META}.Patch`)), ...WRITE_PARAMS, P.force], responses: responses("200", ref(subDef), ["201"]) }),
      };
    }
  }
  if (ri.namespaced && verbs.has("list")) {
    paths[`${root}/${ri.resource}`] = {
      parameters: [...LIST_PARAMS, P.pretty],
      get: op({ ...ctx, opName: `${ctx.opName.replace("Namespaced", "")}ForAllNamespaces` }, "list", "list", { responses: responses("200", listDef ? ref(listDef) : { type: "object" }) }),
    };
  }
  return paths;
}

/** Paths of every served resource, keyed by group-version ("v1", "apps/v1"). */
export function pathsByGroupVersion(): Map<string, Record<string, Schema>> {
  const out = new Map<string, Record<string, Schema>>();
  for (const ri of RESOURCES) {
    const gv = groupVersion(ri);
    if (!out.has(gv)) out.set(gv, {});
    Object.assign(out.get(gv)!, resourcePaths(ri));
  }
  return out;
}
