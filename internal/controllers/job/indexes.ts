// Indexed Jobs: completion indexes carried by pods and the compressed interval list in status.completedIndexes.

import type { Pod } from "kubernetes-types/core/v1";

export const INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index";

export function podIndex(p: Pod): number | undefined {
  const v = p.metadata?.annotations?.[INDEX_ANNOTATION] ?? p.metadata?.labels?.[INDEX_ANNOTATION];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** "1,3-5,7" → {1,3,4,5,7} */
export function parseIndexes(s: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? "").split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : lo;
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

/** {1,3,4,5,7} → "1,3-5,7" (upstream's format; ranges of two are written "3,4"). */
export function formatIndexes(set: Set<number>): string {
  const xs = [...set].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    if (j === i) parts.push(String(xs[i]));
    else if (j === i + 1) parts.push(`${xs[i]},${xs[j]}`);
    else parts.push(`${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}
