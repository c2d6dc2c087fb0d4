// Required node affinity and nodeSelector matching (upstream nodeaffinity.GetRequiredNodeAffinity).

import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod } from "kubernetes-types/core/v1";

function matchExpr(values: Record<string, string>, r: NodeSelectorRequirement): boolean {
  const has = Object.prototype.hasOwnProperty.call(values, r.key);
  const v = values[r.key];
  switch (r.operator) {
    case "In":
      return has && (r.values ?? []).includes(v!);
    case "NotIn":
      return !has || !(r.values ?? []).includes(v!);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    case "Gt":
    case "Lt": {
      if (!has || (r.values ?? []).length !== 1) return false;
      const a = Number(v);
      const b = Number(r.values![0]);
      if (!Number.isInteger(a) || !Number.isInteger(b)) return false;
      return r.operator === "Gt" ? a > b : a < b;
    }
    default:
      return false;
  }
}

export function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  // An empty term matches nothing, as upstream.
  if (!exprs.length && !fields.length) return false;
  const labels = node.metadata?.labels ?? {};
  const fieldValues = { "metadata.name": node.metadata?.name ?? "" };
  return exprs.every((r) => matchExpr(labels, r)) && fields.every((r) => matchExpr(fieldValues, r));
}

/** nodeSelector and required node affinity of the pod both allow the node. */
export function podFitsNode(pod: Pod, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && !terms.some((t) => termMatches(t, node))) return false;
  return true;
}
