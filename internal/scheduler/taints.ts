// Taint/toleration matching as upstream's v1helper.TolerationsTolerateTaint.

import type { Taint, Toleration } from "kubernetes-types/core/v1";

export function tolerates(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key !== undefined && tol.key !== "" && tol.key !== taint.key) return false;
  // An empty key with Exists matches every taint.
  const op = tol.operator ?? "Equal";
  if (op === "Exists") return true;
  if (op === "Equal") return (tol.value ?? "") === (taint.value ?? "");
  return false;
}

export function toleratedBy(taint: Taint, tols: Toleration[] | undefined): boolean {
  if (!tols) return false;
  for (const t of tols) if (tolerates(t, taint)) return true;
  return false;
}

/** First taint with one of the effects that no toleration tolerates. */
export function firstUntolerated(
  taints: Taint[] | undefined,
  tols: Toleration[] | undefined,
  effects: (t: Taint) => boolean,
): Taint | undefined {
  if (!taints) return undefined;
  for (const t of taints) if (effects(t) && !toleratedBy(t, tols)) return t;
  return undefined;
}
