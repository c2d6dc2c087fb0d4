// Label selector and node selector matching, with upstream semantics, shared by the scheduler, controllers and kubelet
// (metav1.LabelSelector, v1.NodeSelectorTerm including Gt/Lt and matchFields on metadata.name).

import type { LabelSelector, LabelSelectorRequirement } from "kubernetes-types/meta/v1";
import type { NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Node } from "kubernetes-types/core/v1";

export type Labels = Record<string, string> | undefined;

function matchExpr(labels: Labels, r: LabelSelectorRequirement): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels![r.key] : undefined;
  switch (r.operator) {
    case "In":
      return has && (r.values ?? []).includes(v!);
    case "NotIn":
      return !has || !(r.values ?? []).includes(v!);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    default:
      return false;
  }
}

/** A null selector matches nothing; an empty one matches everything (upstream LabelSelectorAsSelector). */
export function selectorMatches(sel: LabelSelector | null | undefined, labels: Labels): boolean {
  if (!sel) return false;
  if (sel.matchLabels) for (const [k, v] of Object.entries(sel.matchLabels)) if (labels?.[k] !== v) return false;
  if (sel.matchExpressions) for (const r of sel.matchExpressions) if (!matchExpr(labels, r)) return false;
  return true;
}

function nodeReq(value: string | undefined, r: NodeSelectorRequirement): boolean {
  const has = value !== undefined;
  switch (r.operator) {
    case "In":
      return has && (r.values ?? []).includes(value!);
    case "NotIn":
      return !has || !(r.values ?? []).includes(value!);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    case "Gt":
    case "Lt": {
      if (!has || (r.values ?? []).length !== 1) return false;
      const a = parseIntStrict(value!);
      const b = parseIntStrict(r.values![0]!);
      if (a === undefined || b === undefined) return false;
      return r.operator === "Gt" ? a > b : a < b;
    }
    default:
      return false;
  }
}

function parseIntStrict(s: string): number | undefined {
  return /^[+-]?\d+$/.test(s) ? Number(s) : undefined;
}

/** One term: all its expressions and fields must match; a term with neither matches nothing (upstream). */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels;
  for (const r of exprs) if (!nodeReq(labels?.[r.key], r)) return false;
  for (const r of fields) {
    // metadata.name is the only supported field (upstream validation rejects others).
    if (r.key !== "metadata.name") return false;
    if (!nodeReq(node.metadata?.name, r)) return false;
  }
  return true;
}

/** Terms are ORed. */
export function nodeSelectorMatches(sel: NodeSelector, node: Node): boolean {
  return (sel.nodeSelectorTerms ?? []).some((t) => nodeSelectorTermMatches(t, node));
}
