// DefaultTolerationSeconds, as upstream: every pod tolerates the not-ready and unreachable NoExecute taints for
// 300 s unless it already says otherwise, so pods move off a dead node after five minutes.
import type { Pod, Toleration } from "kubernetes-types/core/v1";
import type { AdmissionPlugin, AdmissionRequest } from "./types.ts";

export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";

export function defaultTolerationSeconds(opts: { notReadySeconds?: number; unreachableSeconds?: number } = {}): AdmissionPlugin {
  const notReady = opts.notReadySeconds ?? 300;
  const unreachable = opts.unreachableSeconds ?? 300;
  const covers = (t: Toleration, key: string) => (t.key === key || !t.key) && (t.effect === "NoExecute" || !t.effect);
  return {
    name: "DefaultTolerationSeconds",
    async admit(req: AdmissionRequest) {
      if (req.operation !== "CREATE" || req.group !== "" || req.resource !== "pods" || req.subresource) return;
      const pod = req.object as Pod | undefined;
      if (!pod?.spec) return;
      const tols = (pod.spec.tolerations ??= []);
      const hasNotReady = tols.some((t) => covers(t, TAINT_NOT_READY));
      const hasUnreachable = tols.some((t) => covers(t, TAINT_UNREACHABLE));
      if (!hasNotReady) tols.push({ key: TAINT_NOT_READY, operator: "Exists", effect: "NoExecute", tolerationSeconds: notReady });
      if (!hasUnreachable) tols.push({ key: TAINT_UNREACHABLE, operator: "Exists", effect: "NoExecute", tolerationSeconds: unreachable });
    },
  };
}
