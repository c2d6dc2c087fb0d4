// Authentication (bearer tokens) and authorization filters, with upstream's 401/403 Status messages.
import type { UserInfo, RequestAttributes } from "../auth/types.ts";
import type { ApiServerDeps } from "./deps.ts";
import type { RequestInfo } from "./requestinfo.ts";
import { forbidden, StatusError, unauthorized } from "./status.ts";

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
    name: info.name,
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
