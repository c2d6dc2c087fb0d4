// RBAC privilege-escalation prevention, as upstream's pkg/registry/rbac/validation (Covers, ConfirmNoEscalation):
// a user may only create or change a Role/ClusterRole whose rules they already hold (or with the "escalate" verb),
// and may only bind a role whose rules they already hold (or with the "bind" verb on it).
import type { PolicyRule } from "kubernetes-types/rbac/v1";

function has(set: string[] | undefined, v: string): boolean {
  return (set ?? []).includes(v);
}

/** One verb × group × resource × resourceName (or verb × URL) per rule, as upstream's BreakdownRule. */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        if (rule.resourceNames?.length) {
          for (const name of rule.resourceNames) out.push({ apiGroups: [group], resources: [resource], resourceNames: [name], verbs: [verb] });
        } else {
          out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
        }
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

function resourceCoversAll(set: string[], covers: string[]): boolean {
  if (has(set, "*") || covers.every((c) => has(set, c))) return true;
  for (const path of covers) {
    if (has(set, path)) continue;
    const i = path.indexOf("/");
    if (i < 0) return false;
    if (!has(set, "*/" + path.slice(i + 1))) return false;
  }
  return true;
}

function nonResourceURLCovers(owner: string, sub: string): boolean {
  return owner === sub || (owner.endsWith("*") && sub.startsWith(owner.replace(/\*+$/, "")));
}

export function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = has(owner.verbs, "*") || sub.verbs.every((v) => has(owner.verbs, v));
  const groups = has(owner.apiGroups, "*") || (sub.apiGroups ?? []).every((g) => has(owner.apiGroups, g));
  const resources = resourceCoversAll(owner.resources ?? [], sub.resources ?? []);
  const urls = (sub.nonResourceURLs ?? []).every((u) => (owner.nonResourceURLs ?? []).some((o) => nonResourceURLCovers(o, u)));
  const names = sub.resourceNames?.length
    ? !owner.resourceNames?.length || sub.resourceNames.every((n) => has(owner.resourceNames, n))
    : !owner.resourceNames?.length;
  return verbs && groups && resources && names && urls;
}

/** upstream Covers: whether ownerRules cover every atomic piece of servantRules, and the uncovered pieces. */
export function covers(ownerRules: PolicyRule[], servantRules: PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const servant of servantRules) {
    for (const sub of breakdownRule(servant)) {
      if (!ownerRules.some((o) => ruleCovers(o, sub))) missing.push(sub);
    }
  }
  return { covered: missing.length === 0, missing };
}

/** upstream CompactRules: merge the verbs of simple rules (one group, one resource, no names). */
export function compactRules(rules: PolicyRule[]): PolicyRule[] {
  const simple = new Map<string, PolicyRule>();
  const out: PolicyRule[] = [];
  for (const r of rules) {
    const isSimple = r.apiGroups?.length === 1 && r.resources?.length === 1 && !r.resourceNames?.length && !r.nonResourceURLs?.length;
    if (!isSimple) {
      out.push(r);
      continue;
    }
    const k = `${r.apiGroups![0]}\u0000${r.resources![0]}`;
    const prev = simple.get(k);
    if (prev) {
      for (const v of r.verbs) if (!prev.verbs.includes(v)) prev.verbs.push(v);
    } else {
      const copy = { apiGroups: [...r.apiGroups!], resources: [...r.resources!], verbs: [...r.verbs] };
      simple.set(k, copy);
      out.push(copy);
    }
  }
  return out;
}

/** Go's %q of a []string: ["a" "b"]. */
function goQuoteList(xs: string[]): string {
  return `[${xs.map((x) => JSON.stringify(x)).join(" ")}]`;
}

/** upstream rbacv1helpers.CompactString. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${goQuoteList(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${goQuoteList(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${goQuoteList(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${goQuoteList(r.resourceNames)}`);
  if (r.verbs?.length) parts.push(`Verbs:${goQuoteList(r.verbs)}`);
  return `{${parts.join(", ")}}`;
}

/** The error text of upstream's ConfirmNoEscalation, or undefined when the owner holds every rule. */
export function escalationError(
  user: { username: string; groups: string[] },
  ownerRules: PolicyRule[],
  rules: PolicyRule[],
  resolutionErrors: string[] = [],
): string | undefined {
  const { covered, missing } = covers(ownerRules, rules);
  if (covered) return undefined;
  const descriptions = [...new Set(compactRules(missing).map(compactString))].sort();
  let msg = `user "${user.username}" (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${descriptions.join("\n")}`;
  if (resolutionErrors.length) msg += `; resolution errors: [${resolutionErrors.join(" ")}]`;
  return msg;
}
