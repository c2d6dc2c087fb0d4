// Which webhooks a request goes to, as upstream's webhook/predicates: rules (groups, versions, resources with
// subresources, operations, scope), matchPolicy Equivalent (the same objects served under another group/version),
// namespaceSelector and objectSelector.
import { RESOURCES, storagePrefix, type ResourceInfo } from "../../api/resources.ts";
import { selectorMatches } from "../../api/selectors/objects.ts";
import type { Rule, Webhook, WebhookAttributes } from "./types.ts";

/** Requests for these are never sent to webhooks, so a broken webhook cannot lock out its own repair. */
const EXEMPT = new Set([
  "admissionregistration.k8s.io/mutatingwebhookconfigurations",
  "admissionregistration.k8s.io/validatingwebhookconfigurations",
  "admissionregistration.k8s.io/validatingadmissionpolicies",
  "admissionregistration.k8s.io/validatingadmissionpolicybindings",
  "admissionregistration.k8s.io/mutatingadmissionpolicies",
  "admissionregistration.k8s.io/mutatingadmissionpolicybindings",
]);

export function isExempt(ri: ResourceInfo): boolean {
  return EXEMPT.has(`${ri.group}/${ri.resource}`);
}

const has = (list: string[] | undefined, v: string) => !!list && (list.includes("*") || list.includes(v));

function resourceMatches(patterns: string[] | undefined, resource: string, sub: string): boolean {
  for (const p of patterns ?? []) {
    if (p === "*/*") return true;
    const slash = p.indexOf("/");
    if (slash < 0) {
      if (!sub && (p === "*" || p === resource)) return true;
      continue;
    }
    const r = p.slice(0, slash);
    const s = p.slice(slash + 1);
    if (sub && (r === "*" || r === resource) && (s === "*" || s === sub)) return true;
  }
  return false;
}

export function ruleMatches(rule: Rule, ri: ResourceInfo, operation: string, subresource: string): boolean {
  if (!has(rule.operations, operation)) return false;
  if (!has(rule.apiGroups, ri.group) || !has(rule.apiVersions, ri.version)) return false;
  if (!resourceMatches(rule.resources, ri.resource, subresource)) return false;
  const scope = rule.scope ?? "*";
  // Namespaces themselves are cluster-scoped.
  if (scope === "Cluster" && ri.namespaced) return false;
  if (scope === "Namespaced" && !ri.namespaced) return false;
  return true;
}

/**
 * The resource row the webhook is called for: the request's own when a rule matches it, else (matchPolicy
 * Equivalent) another served version/group of the same stored objects that a rule matches; undefined: not called.
 */
export function matchingResource(hook: Webhook, a: WebhookAttributes): ResourceInfo | undefined {
  const sub = a.subresource ?? "";
  const rules = hook.rules ?? [];
  if (rules.some((r) => ruleMatches(r, a.ri, a.operation, sub))) return a.ri;
  if ((hook.matchPolicy ?? "Equivalent") !== "Equivalent") return undefined;
  for (const eq of equivalents(a.ri)) {
    if (sub && !(eq.subresources ?? []).includes(sub)) continue;
    if (rules.some((r) => ruleMatches(r, eq, a.operation, sub))) return eq;
  }
  return undefined;
}

/** Other rows serving the same stored objects (a CRD's other versions; core and events.k8s.io Events). */
function equivalents(ri: ResourceInfo): ResourceInfo[] {
  const prefix = storagePrefix(ri);
  return RESOURCES.filter((x) => x !== ri && storagePrefix(x) === prefix && x.namespaced === ri.namespaced);
}

const isEmptySelector = (s: unknown) =>
  !s || (typeof s === "object" && !Object.keys((s as any).matchLabels ?? {}).length && !((s as any).matchExpressions ?? []).length);

/** objectSelector: the new or the old object's labels match (upstream's MatchObjectSelector). */
export function objectSelectorMatches(hook: Webhook, a: WebhookAttributes): boolean {
  const sel = hook.objectSelector;
  if (isEmptySelector(sel)) return true;
  const labelsOf = (o: any) => (o && typeof o === "object" ? (o.metadata?.labels ?? {}) : undefined);
  const objs = [labelsOf(a.object), labelsOf(a.oldObject)].filter((l) => l !== undefined);
  return objs.some((l) => selectorMatches(sel as any, l));
}

/**
 * namespaceSelector against the labels of the request's namespace (a Namespace request: the namespace itself).
 * Cluster-scoped requests always match. `namespaceLabels` reads a namespace's labels (undefined: not found).
 */
export async function namespaceSelectorMatches(
  hook: Webhook,
  a: WebhookAttributes,
  namespaceLabels: (name: string) => Promise<Record<string, string> | undefined>,
): Promise<boolean> {
  const sel = hook.namespaceSelector;
  if (isEmptySelector(sel)) return true;
  const isNamespace = a.ri.group === "" && a.ri.resource === "namespaces";
  if (isNamespace) {
    const obj = a.object ?? a.oldObject;
    return selectorMatches(sel as any, obj?.metadata?.labels ?? {});
  }
  if (!a.ri.namespaced || !a.namespace) return true;
  return selectorMatches(sel as any, (await namespaceLabels(a.namespace)) ?? {});
}
