// NodeResourcesFit (filter + LeastAllocated score) and NodeResourcesBalancedAllocation, as upstream.

import { MAX_NODE_SCORE, SKIP, unresolvable, unschedulable, type Plugin, type Status } from "../framework.ts";
import type { NodeInfo } from "../nodeinfo.ts";
import type { PodInfo } from "../podinfo.ts";

interface Insufficient {
  reason: string;
  unresolvable: boolean;
}

const FITS: readonly Insufficient[] = [];

/** What the node lacks for the pod; nothing is allocated when it fits (the common case, once per node per pod). */
export function insufficientResources(pi: PodInfo, ni: NodeInfo): readonly Insufficient[] {
  let out: Insufficient[] | undefined;
  const a = ni.allocatable;
  const r = ni.requested;
  if (ni.pods.size + 1 > a.pods) (out ??= []).push({ reason: "Too many pods", unresolvable: false });
  const q = pi.requests;
  if (q.milliCPU > 0 && q.milliCPU > a.milliCPU - r.milliCPU) (out ??= []).push({ reason: "Insufficient cpu", unresolvable: q.milliCPU > a.milliCPU });
  if (q.memory > 0 && q.memory > a.memory - r.memory) (out ??= []).push({ reason: "Insufficient memory", unresolvable: q.memory > a.memory });
  if (q.ephemeralStorage > 0 && q.ephemeralStorage > a.ephemeralStorage - r.ephemeralStorage)
    (out ??= []).push({ reason: "Insufficient ephemeral-storage", unresolvable: q.ephemeralStorage > a.ephemeralStorage });
  if (q.scalar)
    for (const [name, want] of Object.entries(q.scalar)) {
      const cap = a.scalar?.[name] ?? 0;
      if (want > cap - (r.scalar?.[name] ?? 0)) (out ??= []).push({ reason: `Insufficient ${name}`, unresolvable: want > cap });
    }
  return out ?? FITS;
}

function leastAllocated(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

export const nodeResourcesFit: Plugin = {
  name: "NodeResourcesFit",
  weight: 1,
  filter(_s, pi, ni): Status | undefined {
    const ins = insufficientResources(pi, ni);
    if (ins.length === 0) return undefined;
    const reasons = ins.map((i) => i.reason);
    return ins.some((i) => i.unresolvable) ? unresolvable("NodeResourcesFit", ...reasons) : unschedulable("NodeResourcesFit", ...reasons);
  },
  // LeastAllocated over cpu and memory (weight 1 each), with non-zero defaults for pods without requests.
  score(_s, pi, ni) {
    const cpu = leastAllocated(ni.nonZeroRequested.milliCPU + pi.nonZero.milliCPU, ni.allocatable.milliCPU);
    const mem = leastAllocated(ni.nonZeroRequested.memory + pi.nonZero.memory, ni.allocatable.memory);
    return Math.trunc((cpu + mem) / 2);
  },
};

export const balancedAllocation: Plugin = {
  name: "NodeResourcesBalancedAllocation",
  weight: 1,
  preScore(_s, pi) {
    // Best-effort pods (no cpu/memory requests) are not scored by this plugin.
    if (pi.requests.milliCPU === 0 && pi.requests.memory === 0) return SKIP;
  },
  score(_s, pi, ni) {
    if (pi.requests.milliCPU === 0 && pi.requests.memory === 0) return 0;
    const a = ni.allocatable;
    const fc = a.milliCPU ? Math.min(1, (ni.requested.milliCPU + pi.requests.milliCPU) / a.milliCPU) : 1;
    const fm = a.memory ? Math.min(1, (ni.requested.memory + pi.requests.memory) / a.memory) : 1;
    // Standard deviation of the two fractions is |fc - fm| / 2.
    const std = Math.abs(fc - fm) / 2;
    return Math.trunc((1 - std) * MAX_NODE_SCORE);
  },
};
