// The API server's authorizer chain, in upstream's order: the privileged group system:masters, then the Node
// authorizer, then RBAC. The first allow wins; otherwise the request is denied with the reasons the authorizers
// gave, joined by newlines (upstream's union authorizer). Use forbiddenStatus() to build upstream's 403 body.
import type { Authorizer, Decision, RequestAttributes, UserInfo } from "./types.ts";
import type { Store } from "../store/types.ts";
import { PRIVILEGED_GROUP } from "../api/names.ts";
import { RBACCache } from "./rbac/cache.ts";
import { RBACAuthorizer } from "./rbac/authorizer.ts";
import { NodeGraph } from "./node/graph.ts";
import { NodeAuthorizer, nodeIdentity } from "./node/authorizer.ts";


export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}
export interface NonResourceRule {
  verbs: string[];
  nonResourceURLs?: string[];
}
/** SelfSubjectRulesReview status. */
export interface SubjectRulesReviewStatus {
  resourceRules: ResourceRule[];
  nonResourceRules: NonResourceRule[];
  incomplete: boolean;
  evaluationError?: string;
}

export interface KubunAuthorizer extends Authorizer {
  /** What the user may do in `namespace` (SelfSubjectRulesReview), merged over the chain as upstream does. */
  rulesFor(user: UserInfo, namespace: string): Promise<SubjectRulesReviewStatus>;
  /** Resolves once the RBAC objects and the pod graph are loaded. */
  ready: Promise<void>;
  /** The RBAC part, for SelfSubjectRulesReview (rulesFor). */
  rbac: RBACAuthorizer;
  rbacCache: RBACCache;
  close(): void;
}

export function createAuthorizer(opts: { store?: Store; rbacCache?: RBACCache; nodeGraph?: NodeGraph }): KubunAuthorizer {
  const rbacCache = opts.rbacCache ?? new RBACCache(opts.store);
  const graph = opts.nodeGraph ?? new NodeGraph(opts.store);
  const rbac = new RBACAuthorizer(rbacCache);
  const node = new NodeAuthorizer(graph, opts.store);
  const chain: Authorizer[] = [node, rbac];
  return {
    ready: Promise.all([rbacCache.ready, graph.ready]).then(() => undefined),
    rbac,
    rbacCache,
    close() {
      rbacCache.close();
      graph.close();
    },
    async authorize(attrs: RequestAttributes): Promise<{ decision: Decision; reason?: string }> {
      if (attrs.user.groups.includes(PRIVILEGED_GROUP)) return { decision: "allow" };
      const reasons: string[] = [];
      for (const a of chain) {
        const r = await a.authorize(attrs);
        if (r.reason) reasons.push(r.reason);
        if (r.decision === "allow") return { decision: "allow", reason: r.reason };
        if (r.decision === "deny") return { decision: "deny", reason: r.reason };
      }
      // Nobody allowed it: upstream's union authorizer ends with NoOpinion (a 403; SubjectAccessReviews show allowed=false
      // without denied=true).
      return { decision: "no-opinion", reason: reasons.join("\n") };
    },
    async rulesFor(user: UserInfo, namespace: string): Promise<SubjectRulesReviewStatus> {
      await rbacCache.ready;
      const out: SubjectRulesReviewStatus = { resourceRules: [], nonResourceRules: [], incomplete: false };
      const errors: string[] = [];
      if (user.groups.includes(PRIVILEGED_GROUP)) {
        out.resourceRules.push({ verbs: ["*"], apiGroups: ["*"], resources: ["*"] });
        out.nonResourceRules.push({ verbs: ["*"], nonResourceURLs: ["*"] });
      }
      if (nodeIdentity(user).isNode) {
        out.incomplete = true;
        errors.push("node authorizer does not support user rule resolution");
      }
      const r = rbac.rulesFor(user.username, user.groups, namespace || undefined);
      for (const rule of r.rules) {
        if (rule.resources?.length) {
          const rr: ResourceRule = { verbs: rule.verbs, apiGroups: rule.apiGroups ?? [], resources: rule.resources };
          if (rule.resourceNames?.length) rr.resourceNames = rule.resourceNames;
          out.resourceRules.push(rr);
        }
        if (rule.nonResourceURLs?.length) out.nonResourceRules.push({ verbs: rule.verbs, nonResourceURLs: rule.nonResourceURLs });
      }
      errors.push(...r.errors);
      if (errors.length) out.evaluationError = errors.join(", ");
      return out;
    },
  };
}

/** upstream responsewriters.forbiddenMessage: the part after "... is forbidden: ". */
export function forbiddenMessage(attrs: RequestAttributes): string {
  const username = attrs.user?.username ?? "";
  if (!attrs.resourceRequest) return `User "${username}" cannot ${attrs.verb} path "${attrs.path ?? ""}"`;
  let resource = attrs.resource ?? "";
  if (attrs.subresource) resource = `${resource}/${attrs.subresource}`;
  if (attrs.namespace) {
    return `User "${username}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup ?? ""}" in the namespace "${attrs.namespace}"`;
  }
  return `User "${username}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup ?? ""}" at the cluster scope`;
}

/** The 403 Status upstream returns for a denied request (responsewriters.Forbidden + errors.NewForbidden). */
export function forbiddenStatus(attrs: RequestAttributes, reason?: string) {
  const msg = reason ? `${forbiddenMessage(attrs)}: ${reason}` : forbiddenMessage(attrs);
  const group = attrs.resourceRequest ? (attrs.apiGroup ?? "") : "";
  const resource = attrs.resourceRequest ? (attrs.resource ?? "") : "";
  const qualified = group ? `${resource}.${group}` : resource;
  const name = attrs.name ?? "";
  let message: string;
  if (!qualified) message = `forbidden: ${msg}`;
  else if (!name) message = `${qualified} is forbidden: ${msg}`;
  else message = `${qualified} "${name}" is forbidden: ${msg}`;
  const details: Record<string, string> = {};
  if (name) details.name = name;
  if (group) details.group = group;
  if (resource) details.kind = resource;
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: "Forbidden",
    details,
    code: 403,
  };
}
