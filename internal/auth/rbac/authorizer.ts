// The RBAC authorizer, as upstream's plugin/pkg/auth/authorizer/rbac: visit the rules of every binding that names
// the user (ClusterRoleBindings first, then RoleBindings of the request's namespace), allow on the first match,
// otherwise no opinion with a reason listing the roles that could not be resolved.
import type { PolicyRule } from "kubernetes-types/rbac/v1";
import type { Authorizer, Decision, RequestAttributes } from "../types.ts";
import type { RBACCache, BindingRef } from "./cache.ts";
import { ruleAllows } from "./rules.ts";

export class RBACAuthorizer implements Authorizer {
  constructor(private cache: RBACCache) {}

  async authorize(attrs: RequestAttributes): Promise<{ decision: Decision; reason?: string }> {
    await this.cache.ready;
    return this.authorizeSync(attrs);
  }

  authorizeSync(attrs: RequestAttributes): { decision: Decision; reason?: string } {
    const errors: string[] = [];
    const ns = attrs.namespace || undefined;
    for (const b of this.cache.bindingsFor(attrs.user.username, attrs.user.groups, ns)) {
      const rules = this.rulesOf(b, errors);
      if (!rules) continue;
      for (const r of rules) {
        if (ruleAllows(attrs, r)) return { decision: "allow", reason: `RBAC: allowed by ${describe(b)}` };
      }
    }
    // Upstream formats the errors with utilerrors.NewAggregate: one error alone, several in brackets.
    const reason = errors.length === 0 ? "" : errors.length === 1 ? `RBAC: ${errors[0]}` : `RBAC: [${errors.join(", ")}]`;
    return { decision: "no-opinion", reason };
  }

  /** All rules the user has in `namespace` (for SelfSubjectRulesReview), plus resolution errors. */
  rulesFor(username: string, groups: string[], namespace?: string): { rules: PolicyRule[]; errors: string[] } {
    const errors: string[] = [];
    const rules: PolicyRule[] = [];
    for (const b of this.cache.bindingsFor(username, groups, namespace)) rules.push(...(this.rulesOf(b, errors) ?? []));
    return { rules, errors };
  }

  private rulesOf(b: BindingRef, errors: string[]): PolicyRule[] | undefined {
    if (b.roleRef.kind === "ClusterRole") {
      const rules = this.cache.clusterRoleRules(b.roleRef.name);
      if (!rules) errors.push(`clusterrole.rbac.authorization.k8s.io "${b.roleRef.name}" not found`);
      return rules;
    }
    if (b.roleRef.kind === "Role" && b.kind === "RoleBinding") {
      const rules = this.cache.roleRules(b.namespace!, b.roleRef.name);
      if (!rules) errors.push(`role.rbac.authorization.k8s.io "${b.roleRef.name}" not found`);
      return rules;
    }
    errors.push(`unsupported role reference kind: "${b.roleRef.kind}"`);
    return undefined;
  }
}

/** upstream's ruleAccumulator source strings. */
function describe(b: BindingRef): string {
  if (b.kind === "ClusterRoleBinding") return `ClusterRoleBinding "${b.name}" of ClusterRole "${b.roleRef.name}" to ${b.subject}`;
  return `RoleBinding "${b.name}/${b.namespace}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${b.subject}`;
}
