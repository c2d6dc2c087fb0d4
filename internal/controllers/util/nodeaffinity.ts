// Required node affinity and nodeSelector matching (upstream nodeaffinity.GetRequiredNodeAffinity).

import type { Node, Pod } from "kubernetes-types/core/v1";
import { nodeSelectorTermMatches } from "../../api/selectors/objects.ts";

/** nodeSelector and required node affinity of the pod both allow the node. */
export function podFitsNode(pod: Pod, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && !terms.some((t) => nodeSelectorTermMatches(t, node))) return false;
  return true;
}
