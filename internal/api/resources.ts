// The registry of served resources: one row per resource (kind, resource names, group/version, scope,
// verbs, subresources), shared by the REST handler, discovery, OpenAPI, table printing, RBAC defaults, the
// store key layout, the client and the controllers. Built-in rows are fixed; rows for custom resources
// (CRDs) are added and removed at run time with addResource/removeResource, and onResourcesChanged tells
// discovery, OpenAPI and informers about it.
// Names, short names, categories and verbs follow what upstream's discovery reports (kubectl api-resources).

export interface ResourceInfo {
  group: string; // "" for core
  version: string;
  kind: string;
  listKind: string;
  /** Plural resource name, e.g. "pods". */
  resource: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs: string[];
  /** Subresources served, e.g. ["status", "scale"]. */
  subresources?: string[];
  /** Store key segment; upstream uses a few irregular ones (e.g. "services/specs"), we keep it simple. */
  storagePrefix?: string;
  /** True when the resource is never stored (reviews): only "create" returns a computed result. */
  virtual?: boolean;
  /** Never stored: computed on each read (APIService objects for the local group-versions). */
  computed?: boolean;
  /** Spec changes bump metadata.generation (upstream: kinds with a spec/status split). */
  generation?: boolean;
}

const ALL = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const CREATE_ONLY = ["create"];

/** A row with upstream's defaults: listKind "<Kind>List", singular = lower-case kind, every verb. */
export function resourceInfo(
  group: string,
  version: string,
  kind: string,
  resource: string,
  namespaced: boolean,
  extra: Partial<ResourceInfo> = {},
): ResourceInfo {
  return {
    group,
    version,
    kind,
    listKind: `${kind}List`,
    resource,
    singular: kind.toLowerCase(),
    namespaced,
    verbs: ALL,
    ...extra,
  };
}
const r = resourceInfo;

/** The resources kubun itself serves; fixed at build time. */
export const BUILTIN_RESOURCES: readonly ResourceInfo[] = [
  // core/v1
  r("", "v1", "Namespace", "namespaces", false, {
    shortNames: ["ns"],
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    subresources: ["status", "finalize"],
  }),
  r("", "v1", "Node", "nodes", false, { shortNames: ["no"], subresources: ["status", "proxy"] }),
  r("", "v1", "Pod", "pods", true, {
    shortNames: ["po"],
    categories: ["all"],
    subresources: ["status", "binding", "eviction", "log", "exec", "attach", "portforward", "proxy", "ephemeralcontainers"],
  }),
  r("", "v1", "Binding", "bindings", true, { verbs: CREATE_ONLY, virtual: true }),
  r("", "v1", "Service", "services", true, {
    shortNames: ["svc"],
    categories: ["all"],
    subresources: ["status", "proxy"],
    verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
  }),
  r("", "v1", "Endpoints", "endpoints", true, { shortNames: ["ep"], singular: "endpoints" }),
  r("", "v1", "ConfigMap", "configmaps", true, { shortNames: ["cm"] }),
  r("", "v1", "Secret", "secrets", true),
  r("", "v1", "ServiceAccount", "serviceaccounts", true, { shortNames: ["sa"], subresources: ["token"] }),
  r("", "v1", "Event", "events", true, { shortNames: ["ev"] }),
  r("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, {
    shortNames: ["pvc"],
    categories: ["all"],
    subresources: ["status"],
  }),
  r("", "v1", "PersistentVolume", "persistentvolumes", false, { shortNames: ["pv"], subresources: ["status"] }),
  r("", "v1", "ResourceQuota", "resourcequotas", true, { shortNames: ["quota"], subresources: ["status"] }),
  r("", "v1", "LimitRange", "limitranges", true, { shortNames: ["limits"] }),
  r("", "v1", "ReplicationController", "replicationcontrollers", true, {
    shortNames: ["rc"],
    categories: ["all"],
    subresources: ["status", "scale"],
    generation: true,
  }),
  r("", "v1", "PodTemplate", "podtemplates", true),

  // apps/v1
  r("apps", "v1", "Deployment", "deployments", true, {
    shortNames: ["deploy"],
    categories: ["all"],
    subresources: ["status", "scale"],
    generation: true,
  }),
  r("apps", "v1", "ReplicaSet", "replicasets", true, {
    shortNames: ["rs"],
    categories: ["all"],
    subresources: ["status", "scale"],
    generation: true,
  }),
  r("apps", "v1", "DaemonSet", "daemonsets", true, {
    shortNames: ["ds"],
    categories: ["all"],
    subresources: ["status"],
    generation: true,
  }),
  r("apps", "v1", "StatefulSet", "statefulsets", true, {
    shortNames: ["sts"],
    categories: ["all"],
    subresources: ["status", "scale"],
    generation: true,
  }),
  r("apps", "v1", "ControllerRevision", "controllerrevisions", true),

  // autoscaling/v2: HorizontalPodAutoscaler (autoscaling/v1 is served from the same storage, converted).
  r("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, {
    shortNames: ["hpa"],
    categories: ["all"],
    subresources: ["status"],
  }),
  r("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, {
    shortNames: ["hpa"],
    categories: ["all"],
    subresources: ["status"],
  }),

  // batch/v1
  r("batch", "v1", "Job", "jobs", true, { categories: ["all"], subresources: ["status"], generation: true }),
  r("batch", "v1", "CronJob", "cronjobs", true, {
    shortNames: ["cj"],
    categories: ["all"],
    subresources: ["status"],
    generation: true,
  }),

  // coordination.k8s.io/v1
  r("coordination.k8s.io", "v1", "Lease", "leases", true),

  // discovery.k8s.io/v1
  r("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true),

  // networking.k8s.io/v1: Ingress (served by the agents' ingress proxy, internal/ingress) and IngressClass.
  r("networking.k8s.io", "v1", "Ingress", "ingresses", true, { shortNames: ["ing"], subresources: ["status"], generation: true }),
  r("networking.k8s.io", "v1", "IngressClass", "ingressclasses", false),
  // NetworkPolicy: enforced by every agent in nftables (internal/netpol).
  r("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, { shortNames: ["netpol"], generation: true }),

  // events.k8s.io/v1 (same storage as core events)
  r("events.k8s.io", "v1", "Event", "events", true, { shortNames: ["ev"], storagePrefix: "events" }),

  // policy/v1
  r("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, {
    shortNames: ["pdb"],
    subresources: ["status"],
    generation: true,
  }),

  // scheduling.k8s.io/v1
  r("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false, { shortNames: ["pc"] }),

  // flowcontrol.apiserver.k8s.io/v1 (API Priority and Fairness)
  r("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", "flowschemas", false, { subresources: ["status"], generation: true }),
  r("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration", "prioritylevelconfigurations", false, {
    subresources: ["status"],
    generation: true,
  }),

  // certificates.k8s.io/v1
  r("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", false, {
    shortNames: ["csr"],
    subresources: ["approval", "status"],
  }),

  // storage.k8s.io/v1: classes of storage (local-path by default) and the CSI objects (served; kubun runs no CSI drivers).
  r("storage.k8s.io", "v1", "StorageClass", "storageclasses", false, { shortNames: ["sc"] }),
  r("storage.k8s.io", "v1", "CSIDriver", "csidrivers", false),
  r("storage.k8s.io", "v1", "CSINode", "csinodes", false),
  r("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", false, { subresources: ["status"] }),
  r("storage.k8s.io", "v1", "CSIStorageCapacity", "csistoragecapacities", true),

  // node.k8s.io/v1
  r("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", false),

  // apiextensions.k8s.io/v1: the CRDs themselves; their custom resources are added at run time.
  r("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false, {
    shortNames: ["crd", "crds"],
    categories: ["api-extensions"],
    subresources: ["status"],
    generation: true,
  }),

  // admissionregistration.k8s.io/v1: admission webhooks (called from the API server's admission chain).
  r("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false, {
    categories: ["api-extensions"],
  }),
  r("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false, {
    categories: ["api-extensions"],
  }),

  // apiregistration.k8s.io/v1: computed from this registry (the local group-versions), read-only.
  r("apiregistration.k8s.io", "v1", "APIService", "apiservices", false, {
    categories: ["api-extensions"],
    verbs: ["get", "list", "watch"],
    subresources: ["status"],
    computed: true,
  }),

  // metrics.k8s.io/v1beta1: resource usage scraped from the kubelets, computed on read (never stored), as
  // metrics-server serves it.
  r("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", false, { singular: "", verbs: ["get", "list"], computed: true }),
  r("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", true, { singular: "", verbs: ["get", "list"], computed: true }),

  // rbac.authorization.k8s.io/v1
  r("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false),
  r("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false),
  r("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
  r("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true),

  // authentication.k8s.io/v1
  r("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", false, { verbs: CREATE_ONLY, virtual: true }),
  r("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", false, {
    verbs: CREATE_ONLY,
    virtual: true,
  }),
  // authorization.k8s.io/v1
  r("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", false, {
    verbs: CREATE_ONLY,
    virtual: true,
  }),
  r("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", false, {
    verbs: CREATE_ONLY,
    virtual: true,
  }),
  r("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", false, {
    verbs: CREATE_ONLY,
    virtual: true,
  }),
  r("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", true, {
    verbs: CREATE_ONLY,
    virtual: true,
  }),
];

/**
 * Every served resource: the built-ins, then the rows added at run time. The array is live — addResource and
 * removeResource change it in place — so code that iterates it always sees the current set.
 */
export const RESOURCES: ResourceInfo[] = [...BUILTIN_RESOURCES];

const builtins = new Set<ResourceInfo>(BUILTIN_RESOURCES);

export type ResourceChange = { type: "added" | "updated" | "removed"; resource: ResourceInfo };
export type ResourceListener = (change: ResourceChange) => void;
const listeners = new Set<ResourceListener>();

/** True for rows kubun serves itself (not added at run time). */
export function isBuiltin(ri: ResourceInfo): boolean {
  return builtins.has(ri);
}

/**
 * Adds a run-time row (a CRD's version), or replaces the run-time row with the same group, version and
 * resource. Throws when the row would shadow a built-in resource or kind. Listeners hear "added" or "updated".
 */
export function addResource(ri: ResourceInfo): ResourceInfo {
  const clash = BUILTIN_RESOURCES.find(
    (b) => b.group === ri.group && b.version === ri.version && (b.resource === ri.resource || b.kind === ri.kind),
  );
  if (clash) throw new Error(`${groupVersion(ri)} ${ri.resource} (${ri.kind}) is a built-in resource`);
  const entry: ResourceInfo = { ...ri };
  const i = RESOURCES.findIndex((x) => x.group === ri.group && x.version === ri.version && x.resource === ri.resource);
  if (i >= 0) RESOURCES[i] = entry;
  else RESOURCES.push(entry);
  notify({ type: i >= 0 ? "updated" : "added", resource: entry });
  return entry;
}

/** Removes a run-time row; built-ins cannot be removed. Returns the removed row (listeners hear "removed"). */
export function removeResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  const i = RESOURCES.findIndex((x) => x.group === group && x.version === version && x.resource === resource);
  if (i < 0) return undefined;
  const entry = RESOURCES[i]!;
  if (builtins.has(entry)) throw new Error(`${groupVersion(entry)} ${resource} is a built-in resource`);
  RESOURCES.splice(i, 1);
  notify({ type: "removed", resource: entry });
  return entry;
}

/** Calls `fn` after every run-time change of the registry; returns the function that unsubscribes. */
export function onResourcesChanged(fn: ResourceListener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function notify(change: ResourceChange): void {
  for (const fn of [...listeners]) {
    try {
      fn(change);
    } catch (err) {
      // One failing listener must not keep the others (discovery, OpenAPI, informers) stale.
      console.error("resource registry listener failed:", err);
    }
  }
}

/** "apps/v1" or "v1" for core. */
export function groupVersion(ri: { group: string; version: string }): string {
  return ri.group ? `${ri.group}/${ri.version}` : ri.version;
}

export function findResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  return RESOURCES.find((ri) => ri.group === group && ri.version === version && ri.resource === resource);
}

export function findKind(group: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((ri) => ri.group === group && ri.kind === kind);
}

/** Store key prefix of a resource: /registry/<group>/<resource>/ ("core" group for ""). */
export function storagePrefix(ri: ResourceInfo): string {
  const group = ri.storagePrefix === "events" ? "core" : ri.group || "core";
  return `/registry/${group}/${ri.storagePrefix ?? ri.resource}/`;
}

/** Store key of one object. */
export function storageKey(ri: ResourceInfo, namespace: string | undefined, name: string): string {
  return ri.namespaced ? `${storagePrefix(ri)}${namespace}/${name}` : `${storagePrefix(ri)}${name}`;
}
