// RBAC rule matching, as upstream's pkg/registry/rbac/validation (rule.go) and plugin/pkg/auth/authorizer/rbac:
// verbs, apiGroups, resources ("pods/log", "*/scale", "*"), resourceNames, nonResourceURLs (exact, "*" or "prefix*").
import type { PolicyRule } from "kubernetes-types/rbac/v1";
import type { RequestAttributes } from "../types.ts";

export const ALL = "*";

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === ALL || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === ALL || g === group);
}

/** combined = "pods" or "pods/log"; subresource = "log" or "". */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === ALL || r === combined) return true;
    // "*/scale" matches the scale subresource of any resource.
    if (subresource && r.length === subresource.length + 2 && r.startsWith("*/") && r.endsWith(subresource)) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  if (names.length === 0) return true;
  return names.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
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
