// NamespaceLifecycle, as upstream's plugin/pkg/admission/namespace/lifecycle: no new objects in a namespace that
// doesn't exist (404) or is terminating (403), and the namespaces the system needs can't be deleted.
import type { AdmissionPlugin, AdmissionRequest } from "./types.ts";
import type { Getter } from "./deps.ts";
import { forbidden, notFound } from "./errors.ts";

export const IMMORTAL_NAMESPACES = ["default", "kube-system", "kube-public"];
const ACCESS_REVIEWS = new Set(["localsubjectaccessreviews", "subjectaccessreviews", "selfsubjectaccessreviews", "selfsubjectrulesreviews"]);

export function namespaceLifecycle(get: Getter): AdmissionPlugin {
  return {
    name: "NamespaceLifecycle",
    async admit(req: AdmissionRequest) {
      const isNamespace = req.group === "" && req.resource === "namespaces";
      if (isNamespace) {
        if (req.operation === "DELETE" && req.name && IMMORTAL_NAMESPACES.includes(req.name)) {
          throw forbidden({ group: "", resource: "namespaces", name: req.name }, "this namespace may not be deleted");
        }
        return;
      }
      if (!req.namespace) return; // cluster-scoped
      if (req.operation === "DELETE") return;
      if (req.group === "authorization.k8s.io" && ACCESS_REVIEWS.has(req.resource)) return;

      const ns = await get.get("", "namespaces", undefined, req.namespace);
      if (!ns) throw notFound("", "namespaces", req.namespace);
      if (req.operation !== "CREATE") return;
      if (ns.status?.phase !== "Terminating" && !ns.metadata?.deletionTimestamp) return;
      const err = forbidden(
        { group: req.group, resource: req.resource, name: req.name ?? req.object?.metadata?.name },
        `unable to create new content in namespace ${req.namespace} because it is being terminated`,
      );
      err.status.details!.causes = [
        { reason: "NamespaceTerminating", message: `namespace ${req.namespace} is being terminated`, field: "metadata.namespace" },
      ];
      throw err;
    },
  };
}
