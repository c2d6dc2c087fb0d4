// Taint/toleration matching as upstream (v1helper.TolerationsTolerateTaint).

import type { Taint, Toleration } from "kubernetes-types/core/v1";

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === "Exists") return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? "") === (taint.value ?? "");
}

export function toleratesAll(tolerations: Toleration[] | undefined, taints: Taint[]): boolean {
  return taints.every((taint) => (tolerations ?? []).some((t) => tolerates(t, taint)));
}
