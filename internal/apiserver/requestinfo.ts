// Upstream's RequestInfo: what a URL + method mean (verb, group, resource, namespace, name, subresource).
// Used for authorization, metrics and routing, so it is computed once per request.
import { queryBool } from "./queryopts.ts";
import { badRequest } from "../api/status.ts";

export interface RequestInfo {
  resourceRequest: boolean;
  path: string;
  verb: string;
  apiPrefix?: "api" | "apis";
  group: string;
  version: string;
  namespace?: string;
  resource?: string;
  name?: string;
  subresource?: string;
  /** Name for authorization when a collection request selects a single object by metadata.name. */
  authzName?: string;
  /** Extra path after the subresource (nodes/proxy/<path>, pods/proxy/<path>). */
  rest?: string[];
  /** /api/v1/watch/... form. */
  legacyWatch: boolean;
}

const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);
/** Subresources whose verb is "create" even over GET (websocket upgrades). */
const CONNECT_SUBRESOURCES = new Set(["exec", "attach", "portforward"]);

/** As upstream: any watch value but "0"/"false" (any case) is a watch, so python's "watch=True" is one. */
function isWatch(q: URLSearchParams): boolean {
  return queryBool(q, "watch") === true;
}

export function parseRequestInfo(method: string, pathname: string, query: URLSearchParams): RequestInfo {
  let segs: string[];
  try {
    segs = pathname.split("/").filter((s) => s.length > 0).map(decodeURIComponent);
  } catch {
    throw badRequest(`malformed URL path: ${pathname}`);
  }
  const info: RequestInfo = {
    resourceRequest: false,
    path: pathname,
    verb: method.toLowerCase(),
    group: "",
    version: "",
    legacyWatch: false,
  };
  let rest: string[];
  if (segs[0] === "api" && segs.length >= 2) {
    info.apiPrefix = "api";
    info.version = segs[1]!;
    rest = segs.slice(2);
  } else if (segs[0] === "apis" && segs.length >= 3) {
    info.apiPrefix = "apis";
    info.group = segs[1]!;
    info.version = segs[2]!;
    rest = segs.slice(3);
  } else {
    return info;
  }
  if (rest.length === 0) return info;
  info.resourceRequest = true;
  if (rest[0] === "watch") {
    info.legacyWatch = true;
    rest = rest.slice(1);
  }
  if (rest[0] === "namespaces" && rest.length >= 3 && !(rest.length === 3 && NAMESPACE_SUBRESOURCES.has(rest[2]!))) {
    info.namespace = rest[1];
    rest = rest.slice(2);
  } else if (rest[0] === "namespaces" && rest.length >= 2) {
    // The namespace object itself: its name is also its namespace, as upstream reports it.
    info.namespace = rest[1];
  }
  // Store keys are "<prefix>/<namespace>/<name>": a "/" inside either would address another key.
  if ([info.namespace, rest[1]].some((x) => x !== undefined && (x.includes("/") || x === "." || x === ".."))) {
    throw badRequest(`invalid name or namespace in path: ${pathname}`);
  }
  const m = method.toUpperCase();
  info.resource = rest[0];
  info.name = rest[1];
  // As upstream: a collection read pinned to one name by fieldSelector=metadata.name=X names that object for
  // authorization, which lets the Node authorizer allow a kubelet's single-secret watch.
  if (!info.name && (m === "GET" || m === "DELETE")) {
    const fs = query.get("fieldSelector");
    const one = fs && !fs.includes(",") ? /^metadata\.name==?(.+)$/.exec(fs.trim()) : null;
    if (one) info.authzName = one[1];
  }
  info.subresource = rest[2];
  if (rest.length > 3) info.rest = rest.slice(3);

  const watching = info.legacyWatch || isWatch(query);
  if (info.subresource && CONNECT_SUBRESOURCES.has(info.subresource)) info.verb = "create";
  else if (m === "GET" || m === "HEAD") info.verb = info.name ? (watching ? "watch" : "get") : watching ? "watch" : "list";
  else if (m === "POST") info.verb = "create";
  else if (m === "PUT") info.verb = "update";
  else if (m === "PATCH") info.verb = "patch";
  else if (m === "DELETE") info.verb = info.name ? "delete" : "deletecollection";
  return info;
}
