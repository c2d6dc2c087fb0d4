// The generic REST handler: maps (verb, resource, subresource) of a request to one handler.
import type { Context } from "hono";
import type { AppEnv } from "./app.ts";
import type { ApiServerDeps } from "./deps.ts";
import { handleCreate } from "./handlers/create.ts";
import { handleDelete, handleDeleteCollection } from "./handlers/delete.ts";
import { handleGet } from "./handlers/get.ts";
import { handleList } from "./handlers/list.ts";
import { handlePatch } from "./handlers/patch.ts";
import { handleUpdate } from "./handlers/update.ts";
import { handleWatch } from "./handlers/watch.ts";
import { handleComputed } from "./apiservices.ts";
import { handleMetrics } from "./metricsapi/rest.ts";
import { findResource } from "../api/resources.ts";
import type { Rest } from "./rest.ts";
import { handleReview } from "./reviews.ts";
import { checkAcceptable } from "./respond.ts";
import { methodNotAllowed, StatusError } from "../api/status.ts";
import { SUBRESOURCE_HANDLERS } from "./subresources/index.ts";
import type { WatchCache } from "./watchhub.ts";

function notFoundPath(): StatusError {
  return new StatusError(404, "NotFound", "the server could not find the requested resource", {});
}

export async function dispatch(c: Context<AppEnv>, deps: ApiServerDeps, watchCache: WatchCache): Promise<Response> {
  const info = c.get("info");
  const ri = findResource(info.group, info.version, info.resource ?? "");
  // Streams proxied from kubelets (logs, exec, proxy) carry their own media types.
  if (!info.subresource || !["log", "exec", "attach", "portforward", "proxy"].includes(info.subresource)) checkAcceptable(c);
  if (!ri) throw notFoundPath();
  const isNamespaceObject = ri.group === "" && ri.resource === "namespaces";
  if (!ri.namespaced && info.namespace && !isNamespaceObject) throw notFoundPath();
  if (ri.namespaced && !info.namespace && info.name) throw notFoundPath();

  const r: Rest = {
    c,
    deps,
    watchCache,
    ri,
    info,
    q: new URL(c.req.url).searchParams,
    user: c.get("user"),
    namespace: ri.namespaced ? info.namespace : undefined,
    name: info.name,
    subresource: info.subresource,
  };
  const method = c.req.method.toUpperCase();

  const custom = deps.customResources;
  if (custom) {
    const warnings = custom.warnings(ri);
    const res = (await custom.intercept(r, method)) ?? (await dispatchResource(r, method));
    for (const w of warnings) res.headers.append("Warning", `299 - ${JSON.stringify(w)}`);
    return res;
  }
  return dispatchResource(r, method);
}

async function dispatchResource(r: Rest, method: string): Promise<Response> {
  const { ri, info } = r;
  const isNamespaceObject = ri.group === "" && ri.resource === "namespaces";

  if (ri.virtual) {
    if (method !== "POST" || info.name) throw methodNotAllowed();
    if (ri.resource === "bindings") return SUBRESOURCE_HANDLERS.binding!(r, method);
    return handleReview(r);
  }

  if (ri.computed) {
    if (info.subresource && !ri.subresources?.includes(info.subresource)) throw notFoundPath();
    if (ri.group === "metrics.k8s.io") return handleMetrics(r, method, r.deps.metricsScraper);
    return handleComputed(r, method);
  }

  if (info.subresource) {
    const sub = info.subresource;
    if (!ri.subresources?.includes(sub)) throw notFoundPath();
    if (sub === "status" || sub === "approval" || sub === "ephemeralcontainers" || (sub === "finalize" && isNamespaceObject)) {
      if (method === "GET" && sub !== "finalize") return handleGet(r);
      if (method === "PUT") return handleUpdate(r);
      if (method === "PATCH" && sub !== "finalize") return handlePatch(r);
      throw methodNotAllowed();
    }
    const h = SUBRESOURCE_HANDLERS[sub];
    if (!h) throw notFoundPath();
    return h(r, method);
  }

  const verb = info.verb;
  if (!ri.verbs.includes(verb)) throw methodNotAllowed();
  if (!info.name && (verb === "update" || verb === "patch")) throw methodNotAllowed();
  switch (verb) {
    case "get":
      return handleGet(r);
    case "list":
      return handleList(r);
    case "watch":
      return handleWatch(r);
    case "create":
      if (info.name) throw methodNotAllowed();
      return handleCreate(r);
    case "update":
      return handleUpdate(r);
    case "patch":
      return handlePatch(r);
    case "delete":
      return handleDelete(r);
    case "deletecollection":
      return handleDeleteCollection(r);
  }
  throw methodNotAllowed();
}
