// RuntimeClass admission, as upstream's plugin/pkg/admission/runtimeclass: a pod naming a RuntimeClass gets the
// class's pod overhead and its scheduling constraints (nodeSelector merged, tolerations added); a missing class,
// an overhead that disagrees with the class's, or a conflicting nodeSelector rejects the pod.
import type { Pod, Toleration } from "kubernetes-types/core/v1";
import type { RuntimeClass } from "kubernetes-types/node/v1";
import type { AdmissionPlugin, AdmissionRequest } from "./types.ts";
import type { Getter } from "./deps.ts";
import { forbidden } from "./errors.ts";

function sameQuantities(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): boolean {
  const ka = Object.keys(a ?? {}).sort();
  const kb = Object.keys(b ?? {}).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && String(a![k]) === String(b![k]));
}

const sameToleration = (a: Toleration, b: Toleration) =>
  a.key === b.key && (a.operator ?? "Equal") === (b.operator ?? "Equal") && (a.value ?? "") === (b.value ?? "") && (a.effect ?? "") === (b.effect ?? "") && a.tolerationSeconds === b.tolerationSeconds;

export function runtimeClassAdmission(get: Getter): AdmissionPlugin {
  return {
    name: "RuntimeClass",
    async admit(req: AdmissionRequest) {
      if (req.operation !== "CREATE" || req.group !== "" || req.resource !== "pods" || req.subresource) return;
      const pod = req.object as Pod | undefined;
      const name = pod?.spec?.runtimeClassName;
      if (!pod?.spec || !name) return;
      const target = { group: "", resource: "pods", name: req.name ?? pod.metadata?.name };
      const rc = await get.get<RuntimeClass>("node.k8s.io", "runtimeclasses", undefined, name);
      if (!rc) throw forbidden(target, `pod rejected: RuntimeClass ${JSON.stringify(name)} not found`);
      const fixed = rc.overhead?.podFixed as Record<string, unknown> | undefined;
      if (fixed) {
        if (pod.spec.overhead && !sameQuantities(pod.spec.overhead as Record<string, unknown>, fixed)) {
          throw forbidden(target, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead");
        }
        pod.spec.overhead = { ...(fixed as Record<string, any>) };
      }
      const sched = rc.scheduling;
      if (sched?.nodeSelector) {
        const merged = { ...(pod.spec.nodeSelector ?? {}) };
        for (const [k, v] of Object.entries(sched.nodeSelector)) {
          if (k in merged && merged[k] !== v) {
            throw forbidden(target, `conflict: runtimeClass.scheduling.nodeSelector[${k}] = ${v}; pod.spec.nodeSelector[${k}] = ${merged[k]}`);
          }
          merged[k] = v;
        }
        pod.spec.nodeSelector = merged;
      }
      if (sched?.tolerations?.length) {
        const tols = [...(pod.spec.tolerations ?? [])];
        for (const t of sched.tolerations) if (!tols.some((x) => sameToleration(x, t))) tols.push(t);
        pod.spec.tolerations = tols;
      }
    },
    async validate(req: AdmissionRequest) {
      if (req.operation !== "CREATE" || req.group !== "" || req.resource !== "pods" || req.subresource) return;
      const pod = req.object as Pod | undefined;
      // Without a RuntimeClass a pod may not declare an overhead of its own.
      if (pod?.spec && !pod.spec.runtimeClassName && pod.spec.overhead && Object.keys(pod.spec.overhead).length) {
        throw forbidden({ group: "", resource: "pods", name: req.name ?? pod.metadata?.name }, "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead");
      }
    },
  };
}
