// RBAC rule matching, as upstream's pkg/registry/rbac/validation (rule.go) and plugin/pkg/auth/authorizer/rbac:
// verbs, apiGroups, resources ("pods/log", "*/scale", "*"), resourceNames, nonResourceURLs (exact, "*" or "prefix*").
import type { PolicyRule } from "kubernetes-types/rbac/v1";
import type { RequestAttributes } from "../types.ts";

export const ALL = "*";

type ListField = "verbs" | "apiGroups" | "resources" | "resourceNames" | "nonResourceURLs";

/**
 * A rule's list, from its own properties only: a rule without apiGroups must never match through something
 * inherited (a polluted Object.prototype), and a non-list value matches nothing.
 */
function list(rule: PolicyRule, field: ListField): readonly string[] {
  const v = Object.hasOwn(rule, field) ? rule[field] : undefined;
  return Array.isArray(v) ? v : [];
}

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return list(rule, "verbs").some((v) => v === ALL || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return list(rule, "apiGroups").some((g) => g === ALL || g === group);
}

/** combined = "pods" or "pods/log"; subresource = "log" or "". */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of list(rule, "resources")) {
    if (r === ALL || r === combined) return true;
    // "*/scale" matches the scale subresource of any resource.
    if (subresource && r.length === subresource.length + 2 && r.startsWith("*/") && r.endsWith(subresource)) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = list(rule, "resourceNames");
  if (names.length === 0) return true;
  return names.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of list(rule, "nonResourceURLs")) {
    if (u === ALL || u === path) return true;
    if (u.endsWith("*") && path.startsWith(u.replace(/\*+$/, ""))) return true;
  }
  return false;
}

/** upstream RuleAllows. */
export function ruleAllows(attrs: RequestAttributes, rule: PolicyRule): boolean {
  if (attrs.resourceRequest) {
    const sub = attrs.subresource ?? "";
    const combined = sub ? `${attrs.resource ?? ""}/${sub}` : (attrs.resource ?? "");
    return (
      verbMatches(rule, attrs.verb) &&
      apiGroupMatches(rule, attrs.apiGroup ?? "") &&
      resourceMatches(rule, combined, sub) &&
      resourceNameMatches(rule, attrs.name ?? "")
    );
  }
  return verbMatches(rule, attrs.verb) && nonResourceURLMatches(rule, attrs.path ?? "");
}

export function rulesAllow(attrs: RequestAttributes, rules: PolicyRule[]): boolean {
  return rules.some((r) => ruleAllows(attrs, r));
}
