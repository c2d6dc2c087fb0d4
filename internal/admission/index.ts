// The default admission chain, in upstream's order: NamespaceLifecycle, ServiceAccount, NodeRestriction,
// Priority, DefaultTolerationSeconds, DefaultStorageClass, StorageObjectInUseProtection, RuntimeClass,
// DefaultIngressClass (then, with an authorizer, the RBAC escalation and certificate
// checks). As upstream, the first five run in the first (mutating, "admit") phase, so a missing
// namespace is reported before anything else looks at the object; the API server runs every admit, then schema
// validation, then every validate (internal/apiserver/admission.ts). The plugins take shared vocabulary from
// internal/api and the authorizer from internal/auth (ARCHITECTURE.md).
import type { AdmissionPlugin } from "./types.ts";
import { storeGetter, type AdmissionDeps, type Getter } from "./deps.ts";
import { AdmissionCache, cachedGetter } from "./cache.ts";
import { namespaceLifecycle } from "./namespacelifecycle.ts";
import { serviceAccountAdmission } from "./serviceaccount.ts";
import { nodeRestriction } from "./noderestriction.ts";
import { priorityAdmission } from "./priority.ts";
import { runtimeClassAdmission } from "./runtimeclass.ts";
import { defaultStorageClassAdmission, storageObjectInUseProtection } from "./storage.ts";
import { defaultTolerationSeconds } from "./tolerations.ts";
import { defaultIngressClassAdmission } from "./ingressclass.ts";
import { rbacEscalationCheck } from "./rbacescalation.ts";
import { certificateAdmission } from "./certificates.ts";
import { serviceAccountTokenSecrets, type LegacyTokenIssuer } from "./serviceaccounttoken.ts";
import type { Authorizer } from "../auth/types.ts";
import type { KubunAuthorizer } from "../auth/authorizer.ts";

export type { AdmissionDeps, Getter } from "./deps.ts";
export { storeGetter } from "./deps.ts";
export { AdmissionCache, cachedGetter, CACHED_RESOURCES } from "./cache.ts";
export { AdmissionStatusError } from "./errors.ts";
export { namespaceLifecycle, IMMORTAL_NAMESPACES } from "./namespacelifecycle.ts";
export { serviceAccountAdmission, projectedTokenVolume, SA_MOUNT_PATH } from "./serviceaccount.ts";
export { nodeRestriction, forbiddenNodeLabels } from "./noderestriction.ts";
export { priorityAdmission, SYSTEM_CLASSES, ensureSystemPriorityClasses } from "./priority.ts";
export { defaultTolerationSeconds } from "./tolerations.ts";
export { rbacEscalationCheck } from "./rbacescalation.ts";
export { serviceAccountTokenSecrets, SA_TOKEN_SECRET_TYPE } from "./serviceaccounttoken.ts";

/**
 * `authorizer`: the API server's (createAuthorizer) — enables upstream's RBAC escalation check on writes of roles and
 * bindings (a user can't grant permissions they don't hold without the escalate/bind verbs).
 * `authenticator` + `caPEM`: enable filling Secrets of type kubernetes.io/service-account-token with a token.
 * With a `store`, the plugins read Namespaces, PriorityClasses and ServiceAccounts from a watch-fed cache
 * (cache.ts) started here: pass `cache` to share one, or `cache: false` to read the store every time. The cache
 * stops when `signal` aborts, when `close()` on the returned list is called, or when the store closes.
 */
export function defaultAdmissionPlugins(
  deps: (AdmissionDeps | { getter: Getter; serviceAccountWaitMs?: number }) & {
    authorizer?: Authorizer;
    authenticator?: unknown;
    caPEM?: string;
    cache?: AdmissionCache | false;
    signal?: AbortSignal;
  },
): AdmissionPlugin[] & { close(): void } {
  // Only a cache started here is stopped by close(); a shared one belongs to its creator.
  let ownCache: AdmissionCache | undefined;
  let get: Getter;
  if ("getter" in deps) get = deps.getter;
  else if (deps.cache === false) get = storeGetter(deps.store);
  else {
    const cache = deps.cache ?? (ownCache = new AdmissionCache(deps.store, { signal: deps.signal }));
    get = cachedGetter(deps.store, cache);
  }
  const plugins = [
    namespaceLifecycle(get),
    serviceAccountAdmission(get, { waitMs: deps.serviceAccountWaitMs }),
    nodeRestriction(get),
    priorityAdmission(get),
    defaultTolerationSeconds(),
    defaultStorageClassAdmission(get),
    storageObjectInUseProtection(),
    runtimeClassAdmission(get),
    defaultIngressClassAdmission(get),
  ];
  const issuer = deps.authenticator as Partial<LegacyTokenIssuer> | undefined;
  if (issuer?.issueLegacyServiceAccountToken && deps.caPEM) {
    plugins.push(serviceAccountTokenSecrets(get, issuer as LegacyTokenIssuer, deps.caPEM));
  }
  const authz = deps.authorizer as KubunAuthorizer | undefined;
  if (authz && "rbac" in authz && "rbacCache" in authz) plugins.push(rbacEscalationCheck(authz));
  if (deps.authorizer) plugins.push(certificateAdmission(deps.authorizer));
  return Object.assign(plugins, { close: () => ownCache?.close() });
}
