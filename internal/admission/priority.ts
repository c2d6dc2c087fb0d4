// Priority admission, as upstream's plugin/pkg/admission/priority: resolve spec.priorityClassName into
// spec.priority (and preemptionPolicy); no name → the globalDefault class if any, else 0. The two system classes
// are built in. Pods may not set spec.priority to something other than what their class says.
import type { Pod } from "kubernetes-types/core/v1";
import type { PriorityClass } from "kubernetes-types/scheduling/v1";
import type { AdmissionPlugin, AdmissionRequest } from "./types.ts";
import type { Getter } from "./deps.ts";
import { forbidden } from "./errors.ts";
import { KeyExistsError, type Store } from "../store/types.ts";

export const SYSTEM_CLASSES: Record<string, number> = {
  "system-node-critical": 2000001000,
  "system-cluster-critical": 2000000000,
};

export function priorityAdmission(get: Getter): AdmissionPlugin {
  return {
    name: "Priority",
    async admit(req: AdmissionRequest) {
      if (req.operation !== "CREATE" || req.group !== "" || req.resource !== "pods" || req.subresource) return;
      const pod = req.object as Pod | undefined;
      if (!pod?.spec) return;
      const spec = pod.spec;
      const target = { group: "", resource: "pods", name: req.name ?? pod.metadata?.name };
      let value = 0;
      let preemption: string | undefined;
      let className = spec.priorityClassName;
      if (className) {
        if (className in SYSTEM_CLASSES) {
          value = SYSTEM_CLASSES[className]!;
          const stored = await get.get<PriorityClass>("scheduling.k8s.io", "priorityclasses", undefined, className);
          preemption = stored?.preemptionPolicy;
        } else {
          const pc = await get.get<PriorityClass>("scheduling.k8s.io", "priorityclasses", undefined, className);
          if (!pc) throw forbidden(target, `no PriorityClass with name ${className} was found`);
          value = pc.value;
          preemption = pc.preemptionPolicy;
        }
      } else {
        const classes = await get.list<PriorityClass>("scheduling.k8s.io", "priorityclasses");
        // upstream picks the lowest-valued of several global defaults
        const def = classes.filter((c) => c.globalDefault).sort((a, b) => a.value - b.value)[0];
        if (def) {
          className = def.metadata!.name!;
          value = def.value;
          preemption = def.preemptionPolicy;
          spec.priorityClassName = className;
        }
      }
      if (spec.priority !== undefined && spec.priority !== null && spec.priority !== value) {
        throw forbidden(
          target,
          `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`,
        );
      }
      spec.priority = value;
      const want = preemption ?? "PreemptLowerPriority";
      if (spec.preemptionPolicy && spec.preemptionPolicy !== want) {
        throw forbidden(
          target,
          `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${want} from the given PriorityClass name`,
        );
      }
      spec.preemptionPolicy = want as any;
    },
  };
}

const SYSTEM_CLASS_DESCRIPTIONS: Record<string, string> = {
  "system-node-critical": "Used for system critical pods that must not be moved from their current node.",
  "system-cluster-critical": "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
};

/** Creates the two built-in PriorityClasses if missing, as upstream's scheduling post-start hook. */
export async function ensureSystemPriorityClasses(store: Store): Promise<void> {
  for (const [name, value] of Object.entries(SYSTEM_CLASSES)) {
    const obj = {
      apiVersion: "scheduling.k8s.io/v1",
      kind: "PriorityClass",
      metadata: { name, uid: crypto.randomUUID(), creationTimestamp: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(".000Z", "Z") },
      value,
      // globalDefault is false, which upstream's JSON omits (omitempty).
      description: SYSTEM_CLASS_DESCRIPTIONS[name],
      preemptionPolicy: "PreemptLowerPriority",
    };
    try {
      await store.create(`/registry/scheduling.k8s.io/priorityclasses/${name}`, JSON.stringify(obj));
    } catch (err) {
      if (!(err instanceof KeyExistsError)) throw err;
    }
  }
}
