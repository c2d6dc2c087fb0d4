// Authentication (bearer tokens) and authorization filters, with upstream's 401/403 Status messages.
import type { UserInfo, RequestAttributes } from "../auth/types.ts";
import type { ApiServerDeps } from "./deps.ts";
import type { RequestInfo } from "./requestinfo.ts";
import { forbidden, StatusError, unauthorized } from "../api/status.ts";
import { ANONYMOUS_USER, AUTHENTICATED_GROUP, SERVICE_ACCOUNTS_GROUP } from "../api/names.ts";

export async function authenticate(deps: ApiServerDeps, authorization: string | undefined): Promise<UserInfo> {
  const m = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!m) throw unauthorized();
  const user = await deps.authenticator.authenticateToken(m[1]!);
  if (!user) throw unauthorized();
  return user;
}

export function attributesOf(user: UserInfo, info: RequestInfo): RequestAttributes {
  if (!info.resourceRequest) return { user, verb: info.verb, resourceRequest: false, path: info.path };
  return {
    user,
    verb: info.verb,
    resourceRequest: true,
    apiGroup: info.group,
    apiVersion: info.version,
    resource: info.resource,
    subresource: info.subresource,
    namespace: info.namespace,
    name: info.name ?? info.authzName,
  };
}

/** upstream's forbidden message: `pods "x" is forbidden: User "u" cannot get resource "pods" in API group "" in the namespace "ns"`. */
export function forbiddenError(a: RequestAttributes, reason?: string): StatusError {
  const user = a.user.username;
  const suffix = reason ? `: ${reason}` : "";
  if (!a.resourceRequest) {
    return forbidden(`forbidden: User "${user}" cannot ${a.verb} path "${a.path}"${suffix}`, {});
  }
  const gr = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource!;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const who = a.name ? `${gr} "${a.name}"` : gr;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : "at the cluster scope";
  const details: Record<string, string> = {};
  if (a.name) details.name = a.name;
  if (a.apiGroup) details.group = a.apiGroup;
  details.kind = a.resource!;
  return forbidden(
    `${who} is forbidden: User "${user}" cannot ${a.verb} resource "${res}" in API group "${a.apiGroup ?? ""}" ${scope}${suffix}`,
    details,
  );
}

export async function authorize(deps: ApiServerDeps, attrs: RequestAttributes): Promise<void> {
  const d = await deps.authorizer.authorize(attrs);
  if (d.decision !== "allow") throw forbiddenError(attrs, d.reason);
}

/** Upstream's unescapeExtraKey: percent-decoded; a malformed escape ("%ZZ") keeps the key as sent. */
function unescapeExtraKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

/**
 * Impersonation (Impersonate-User / -Group / -Uid / -Extra-* headers, kubectl --as/--as-group): the caller must
 * be allowed the "impersonate" verb on each requested identity; the request then runs as that identity.
 */
export async function impersonate(deps: ApiServerDeps, user: UserInfo, headers: Headers): Promise<UserInfo> {
  const name = headers.get("impersonate-user");
  const groups: string[] = [];
  // Extra keys come from header names: a prototype-free map, so "__proto__" or "constructor" is just a key.
  const extra: Record<string, string[]> = Object.create(null);
  for (const [k, v] of headers) {
    if (k === "impersonate-group") groups.push(...v.split(",").map((s) => s.trim()).filter(Boolean));
    if (k.startsWith("impersonate-extra-")) {
      const key = unescapeExtraKey(k.slice("impersonate-extra-".length));
      (extra[key] ??= []).push(...v.split(",").map((s) => s.trim()));
    }
  }
  const uid = headers.get("impersonate-uid");
  if (!name) {
    if (groups.length || uid || Object.keys(extra).length) {
      throw new StatusError(400, "BadRequest", "requested impersonation of groups, uid or extras without impersonating a user");
    }
    return user;
  }
  const checks: RequestAttributes[] = [];
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
  const base = { user, verb: "impersonate", resourceRequest: true, apiVersion: "v1" };
  if (sa) checks.push({ ...base, apiGroup: "", resource: "serviceaccounts", namespace: sa[1], name: sa[2] });
  else checks.push({ ...base, apiGroup: "", resource: "users", name });
  for (const g of groups) checks.push({ ...base, apiGroup: "", resource: "groups", name: g });
  if (uid) checks.push({ ...base, apiGroup: "authentication.k8s.io", resource: "uids", name: uid });
  for (const [k, vs] of Object.entries(extra)) {
    for (const v of vs) checks.push({ ...base, apiGroup: "authentication.k8s.io", resource: "userextras", subresource: k, name: v });
  }
  for (const a of checks) {
    const d = await deps.authorizer.authorize(a);
    if (d.decision !== "allow") throw forbiddenError(a, d.reason);
  }
  const all = new Set(groups);
  if (sa) {
    all.add(SERVICE_ACCOUNTS_GROUP);
    all.add(`${SERVICE_ACCOUNTS_GROUP}:${sa[1]}`);
  }
  if (name !== ANONYMOUS_USER) all.add(AUTHENTICATED_GROUP);
  const out: UserInfo = { username: name, groups: [...all] };
  if (uid) out.uid = uid;
  if (Object.keys(extra).length) out.extra = extra;
  return out;
}
