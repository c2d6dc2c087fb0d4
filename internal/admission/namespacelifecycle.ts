// NamespaceLifecycle, as upstream's plugin/pkg/admission/namespace/lifecycle: no new objects in a namespace that
// doesn't exist (404) or is terminating (403), and the namespaces the system needs can't be deleted.
// The namespace is read through the getter, which may be a watch-fed cache (cache.ts): a miss reads the store, so
// a namespace created a moment ago is admitted; a hit may be a few ms stale, as upstream accepts — except that,
// as upstream, a namespace this server just saw a DELETE for is read live for a while, so creates in it are refused
// as soon as its deletionTimestamp is stored, not when the watch catches up.
import type { AdmissionPlugin, AdmissionRequest } from "./types.ts";
import type { Getter } from "./deps.ts";
import { forbidden, notFound } from "./errors.ts";

export const IMMORTAL_NAMESPACES = ["default", "kube-system", "kube-public"];
/** upstream forceLiveLookupTTL. */
const FORCE_LIVE_LOOKUP_MS = 30_000;
/** upstream keeps at most 100 such namespaces (an LRU); older ones just fall back to the cache. */
const FORCE_LIVE_LOOKUP_MAX = 100;
const ACCESS_REVIEWS = new Set(["localsubjectaccessreviews", "subjectaccessreviews", "selfsubjectaccessreviews", "selfsubjectrulesreviews"]);

export function namespaceLifecycle(get: Getter): AdmissionPlugin {
  const forceLive = new Map<string, number>(); // namespace → until (ms); insertion order = age
  const mustReadLive = (ns: string): boolean => {
    const until = forceLive.get(ns);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    forceLive.delete(ns);
    return false;
  };
  return {
    name: "NamespaceLifecycle",
    async admit(req: AdmissionRequest) {
      const isNamespace = req.group === "" && req.resource === "namespaces";
      if (isNamespace) {
        if (req.operation === "DELETE" && req.name && IMMORTAL_NAMESPACES.includes(req.name)) {
          throw forbidden({ group: "", resource: "namespaces", name: req.name }, "this namespace may not be deleted");
        }
        if (req.operation === "DELETE" && req.name) {
          forceLive.delete(req.name);
          forceLive.set(req.name, Date.now() + FORCE_LIVE_LOOKUP_MS);
          if (forceLive.size > FORCE_LIVE_LOOKUP_MAX) forceLive.delete(forceLive.keys().next().value!);
        }
        return;
      }
      if (!req.namespace) return; // cluster-scoped
      if (req.operation === "DELETE") return;
      if (req.group === "authorization.k8s.io" && ACCESS_REVIEWS.has(req.resource)) return;

      let ns = await get.get("", "namespaces", undefined, req.namespace);
      // The cache says "active" but we saw this namespace being deleted: ask the store.
      if (ns && !terminating(ns) && get.getLive && mustReadLive(req.namespace)) {
        ns = await get.getLive("", "namespaces", undefined, req.namespace);
      }
      if (!ns) throw notFound("", "namespaces", req.namespace);
      if (req.operation !== "CREATE") return;
      if (!terminating(ns)) return;
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

function terminating(ns: any): boolean {
  return ns.status?.phase === "Terminating" || !!ns.metadata?.deletionTimestamp;
}
