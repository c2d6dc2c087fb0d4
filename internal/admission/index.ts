// The default admission chain, in upstream's order: NamespaceLifecycle, ServiceAccount, NodeRestriction,
// Priority, DefaultTolerationSeconds. As upstream, all five run in the first (mutating, "admit") phase, so a missing
// namespace is reported before anything else looks at the object; the API server runs every admit, then schema
// validation, then every validate (internal/apiserver/admission.ts).
import type { AdmissionPlugin } from "./types.ts";
import { storeGetter, type AdmissionDeps, type Getter } from "./deps.ts";
import { namespaceLifecycle } from "./namespacelifecycle.ts";
import { serviceAccountAdmission } from "./serviceaccount.ts";
import { nodeRestriction } from "./noderestriction.ts";
import { priorityAdmission } from "./priority.ts";
import { defaultTolerationSeconds } from "./tolerations.ts";

export type { AdmissionDeps, Getter } from "./deps.ts";
export { storeGetter } from "./deps.ts";
export { AdmissionStatusError } from "./errors.ts";
export { namespaceLifecycle, IMMORTAL_NAMESPACES } from "./namespacelifecycle.ts";
export { serviceAccountAdmission, projectedTokenVolume, SA_MOUNT_PATH } from "./serviceaccount.ts";
export { nodeRestriction, forbiddenNodeLabels } from "./noderestriction.ts";
export { priorityAdmission, SYSTEM_CLASSES } from "./priority.ts";
export { defaultTolerationSeconds } from "./tolerations.ts";

export function defaultAdmissionPlugins(deps: AdmissionDeps | { getter: Getter; serviceAccountWaitMs?: number }): AdmissionPlugin[] {
  const get = "getter" in deps ? deps.getter : storeGetter(deps.store);
  return [
    namespaceLifecycle(get),
    serviceAccountAdmission(get, { waitMs: deps.serviceAccountWaitMs }),
    nodeRestriction(get),
    priorityAdmission(get),
    defaultTolerationSeconds(),
  ];
}
