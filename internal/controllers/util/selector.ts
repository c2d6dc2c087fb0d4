// Label selector helpers of the controllers (map selectors, emptiness, the string form for list calls); matching a
// metav1.LabelSelector is internal/api/selectors/objects.ts's selectorMatches.

import type { LabelSelector } from "kubernetes-types/meta/v1";

import type { Labels } from "../../api/selectors/objects.ts";

/** A plain key=value map selector (Service.spec.selector). Empty/missing selects nothing, as for Services. */
export function mapSelectorMatches(sel: Record<string, string> | undefined, labels: Labels): boolean {
  if (!sel || Object.keys(sel).length === 0) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel)) if (l[k] !== v) return false;
  return true;
}

export function isEmptySelector(sel: LabelSelector | undefined): boolean {
  return !sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length);
}

/** String form for list calls (labelSelector query parameter). */
export function selectorToString(sel: LabelSelector): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const r of sel.matchExpressions ?? []) {
    if (r.operator === "In") parts.push(`${r.key} in (${(r.values ?? []).join(",")})`);
    else if (r.operator === "NotIn") parts.push(`${r.key} notin (${(r.values ?? []).join(",")})`);
    else if (r.operator === "Exists") parts.push(r.key);
    else if (r.operator === "DoesNotExist") parts.push(`!${r.key}`);
  }
  return parts.join(",");
}
