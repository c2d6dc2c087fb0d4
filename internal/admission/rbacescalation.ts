// RBAC escalation check on writes of Roles, ClusterRoles and their bindings (upstream does this in the rbac
// registry's "policybased" storage; here it is a validating admission step with the same rules and messages).
import type { PolicyRule } from "kubernetes-types/rbac/v1";
import type { AdmissionPlugin, AdmissionRequest } from "./types.ts";
import type { Authorizer } from "../auth/types.ts";
import type { KubunAuthorizer } from "../auth/authorizer.ts";
import { escalationError } from "../auth/rbac/escalation.ts";
import { forbidden, notFound } from "./errors.ts";
import { PRIVILEGED_GROUP } from "../api/names.ts";

const RBAC_GROUP = "rbac.authorization.k8s.io";
const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ["*"], apiGroups: ["*"], resources: ["*"] },
  { verbs: ["*"], nonResourceURLs: ["*"] },
];

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

// Fields an update may change without an escalation check: upstream's IsOnlyMutatingGCFields (ownerReferences,
// finalizers, selfLink), plus what the server itself maintains. Labels are NOT among them: a label such as
// rbac.authorization.k8s.io/aggregate-to-view makes the aggregation controller copy the role's rules into another.
const SERVER_OR_GC_META = ["ownerReferences", "finalizers", "selfLink", "resourceVersion", "managedFields", "generation", "uid", "creationTimestamp"];

function withoutGCFields(o: any): unknown {
  const meta = { ...(o?.metadata ?? {}) };
  for (const k of SERVER_OR_GC_META) delete meta[k];
  const { metadata: _m, ...rest } = o ?? {};
  return { ...rest, metadata: meta };
}

function onlyGCFieldsChanged(obj: unknown, old: unknown): boolean {
  return same(withoutGCFields(obj), withoutGCFields(old));
}

export function rbacEscalationCheck(authorizer: KubunAuthorizer): AdmissionPlugin {
  const allow = async (req: AdmissionRequest, verb: string, resource: string, name: string | undefined, namespace?: string) =>
    (
      await (authorizer as Authorizer).authorize({
        user: req.user,
        verb,
        resourceRequest: true,
        apiGroup: RBAC_GROUP,
        apiVersion: "*",
        resource,
        name,
        namespace,
      })
    ).decision === "allow";

  const ownerRules = (req: AdmissionRequest) => authorizer.rbac.rulesFor(req.user.username, req.user.groups, req.namespace || undefined);

  return {
    name: "RBACEscalation",
    async validate(req: AdmissionRequest) {
      if (req.group !== RBAC_GROUP || req.subresource) return;
      if (req.operation !== "CREATE" && req.operation !== "UPDATE") return;
      if (req.user.groups.includes(PRIVILEGED_GROUP)) return;
      const obj = req.object;
      if (!obj) return;
      const name = obj.metadata?.name ?? req.name;
      const target = { group: RBAC_GROUP, resource: req.resource, name };
      await authorizer.ready;

      if (req.resource === "roles" || req.resource === "clusterroles") {
        const old = req.oldObject;
        if (old && onlyGCFieldsChanged(obj, old)) return;
        if (await allow(req, "escalate", req.resource, name, req.namespace)) return;
        const owner = ownerRules(req);
        const msg = escalationError(req.user, owner.rules, obj.rules ?? [], owner.errors);
        if (msg) throw forbidden(target, msg);
        if (req.resource === "clusterroles" && (obj.aggregationRule || old?.aggregationRule) && !same(obj.aggregationRule, old?.aggregationRule)) {
          if (escalationError(req.user, owner.rules, FULL_AUTHORITY)) {
            throw forbidden(target, "must have cluster-admin privileges to use the aggregationRule");
          }
        }
        return;
      }

      if (req.resource === "rolebindings" || req.resource === "clusterrolebindings") {
        const ref = obj.roleRef;
        if (!ref?.kind || !ref?.name) return; // schema validation reports it
        if (req.oldObject && same(req.oldObject.roleRef, ref) && same(req.oldObject.subjects, obj.subjects)) return;
        const refResource = ref.kind === "ClusterRole" ? "clusterroles" : ref.kind === "Role" ? "roles" : undefined;
        if (!refResource) return;
        if (await allow(req, "bind", refResource, ref.name, req.namespace)) return;
        const cache = authorizer.rbacCache;
        const rules =
          ref.kind === "ClusterRole" ? cache.clusterRoleRules(ref.name) : cache.roleRules(req.namespace ?? "", ref.name);
        if (!rules) {
          throw notFound(RBAC_GROUP, ref.kind === "ClusterRole" ? "clusterrole" : "role", ref.name);
        }
        const owner = ownerRules(req);
        const msg = escalationError(req.user, owner.rules, rules, owner.errors);
        if (msg) throw forbidden(target, msg);
      }
    },
  };
}
