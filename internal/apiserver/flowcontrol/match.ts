// Classification of a request by FlowSchema, with upstream's matching rules (k8s.io/apiserver
// pkg/util/flowcontrol/rule.go): the schemas are tried by ascending matchingPrecedence (then name); the first whose
// rule matches both a subject and the request's resource or non-resource target wins.
import type { FlowSchema, NonResourcePolicyRule, PolicyRulesWithSubjects, ResourcePolicyRule, Subject } from "kubernetes-types/flowcontrol/v1";
import { SERVICE_ACCOUNT_USER_PREFIX } from "../../api/names.ts";
import type { UserInfo } from "../../auth/types.ts";
import type { RequestInfo } from "../requestinfo.ts";


const has = (list: string[] | undefined, v: string, all: string) => !!list && list.some((x) => x === all || x === v);

function subjectMatches(s: Subject, user: UserInfo): boolean {
  switch (s.kind) {
    case "User":
      return !!s.user && (s.user.name === "*" || s.user.name === user.username);
    case "Group":
      return !!s.group && (s.group.name === "*" || user.groups.includes(s.group.name));
    case "ServiceAccount": {
      const sa = s.serviceAccount;
      if (!sa || !user.username.startsWith(SERVICE_ACCOUNT_USER_PREFIX)) return false;
      const [ns, name, ...rest] = user.username.slice(SERVICE_ACCOUNT_USER_PREFIX.length).split(":");
      if (rest.length || !ns || !name) return false;
      return sa.namespace === ns && (sa.name === "*" || sa.name === name);
    }
    default:
      return false;
  }
}

function resourceRuleMatches(r: ResourcePolicyRule, info: RequestInfo): boolean {
  if (!has(r.verbs, info.verb, "*")) return false;
  const resource = info.subresource ? `${info.resource}/${info.subresource}` : (info.resource ?? "");
  if (!has(r.resources, resource, "*")) return false;
  if (!has(r.apiGroups, info.group, "*")) return false;
  if (!info.namespace) return r.clusterScope === true;
  return has(r.namespaces, info.namespace, "*");
}

function nonResourceRuleMatches(r: NonResourcePolicyRule, info: RequestInfo): boolean {
  if (!has(r.verbs, info.verb, "*")) return false;
  return r.nonResourceURLs.some((u) => u === "*" || u === info.path || (u.endsWith("/*") && info.path.startsWith(u.slice(0, -1))) || (u.endsWith("/*") && info.path === u.slice(0, -2)));
}

function ruleMatches(rule: PolicyRulesWithSubjects, user: UserInfo, info: RequestInfo): boolean {
  if (!rule.subjects?.some((s) => subjectMatches(s, user))) return false;
  if (info.resourceRequest) return !!rule.resourceRules?.some((r) => resourceRuleMatches(r, info));
  return !!rule.nonResourceRules?.some((r) => nonResourceRuleMatches(r, info));
}

export function flowSchemaMatches(fs: FlowSchema, user: UserInfo, info: RequestInfo): boolean {
  return !!fs.spec?.rules?.some((rule) => ruleMatches(rule, user, info));
}

/** Upstream's order: ascending matchingPrecedence, then name. */
export function sortFlowSchemas(list: FlowSchema[]): FlowSchema[] {
  return [...list].sort(
    (a, b) => (a.spec?.matchingPrecedence ?? 1000) - (b.spec?.matchingPrecedence ?? 1000) || (a.metadata!.name! < b.metadata!.name! ? -1 : a.metadata!.name! > b.metadata!.name! ? 1 : 0),
  );
}

/** The flow distinguisher: the user name (ByUser), the namespace (ByNamespace) or nothing. */
export function flowDistinguisher(fs: FlowSchema, user: UserInfo, info: RequestInfo): string {
  switch (fs.spec?.distinguisherMethod?.type) {
    case "ByUser":
      return user.username;
    case "ByNamespace":
      return info.namespace ?? "";
    default:
      return "";
  }
}
