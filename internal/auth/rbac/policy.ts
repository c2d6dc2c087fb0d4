// The default RBAC policy, after upstream's plugin/pkg/auth/authorizer/rbac/bootstrappolicy (policy.go,
// controller_policy.go, namespace_policy.go), written as data. Every object carries upstream's
// `kubernetes.io/bootstrapping: rbac-defaults` label and `rbac.authorization.kubernetes.io/autoupdate: "true"`
// annotation; the API server creates the missing ones at start (see reconcileBootstrapPolicy).
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from "kubernetes-types/rbac/v1";

const READ = ["get", "list", "watch"];
const WRITE = ["create", "update", "patch", "delete", "deletecollection"];
const READ_WRITE = [...READ, ...WRITE];
const READ_UPDATE = ["get", "list", "watch", "update", "patch"];

const CORE = "";
const APPS = "apps";
const AUTHN = "authentication.k8s.io";
const AUTHZ = "authorization.k8s.io";
const AUTOSCALING = "autoscaling";
const BATCH = "batch";
const CERTS = "certificates.k8s.io";
const COORD = "coordination.k8s.io";
const DISCOVERY = "discovery.k8s.io";
const EXT = "extensions";
const POLICY = "policy";
const RBAC = "rbac.authorization.k8s.io";
const STORAGE = "storage.k8s.io";
const NETWORKING = "networking.k8s.io";
const EVENTS = "events.k8s.io";
const NODE = "node.k8s.io";

/** rule(verbs, groups, resources, resourceNames?) */
function rule(verbs: string[] | string, groups: string[] | string, resources: string[] | string, names?: string[]): PolicyRule {
  const r: PolicyRule = {
    verbs: arr(verbs),
    apiGroups: arr(groups),
    resources: arr(resources),
  };
  if (names?.length) r.resourceNames = names;
  return r;
}
function urls(verbs: string[] | string, paths: string[]): PolicyRule {
  return { verbs: arr(verbs), nonResourceURLs: paths };
}
function arr(x: string[] | string): string[] {
  return typeof x === "string" ? [x] : x;
}
const eventsRule = () => rule(["create", "update", "patch"], [CORE, EVENTS], "events");

export const BOOTSTRAP_LABELS = { "kubernetes.io/bootstrapping": "rbac-defaults" };
export const BOOTSTRAP_ANNOTATIONS = { "rbac.authorization.kubernetes.io/autoupdate": "true" };

function meta(name: string, labels: Record<string, string> = {}, namespace?: string) {
  return {
    name,
    ...(namespace ? { namespace } : {}),
    labels: { ...labels, ...BOOTSTRAP_LABELS },
    annotations: { ...BOOTSTRAP_ANNOTATIONS },
  };
}

function clusterRole(name: string, rules: PolicyRule[], labels?: Record<string, string>): ClusterRole {
  return { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: meta(name, labels), rules };
}
function aggregatedRole(name: string, selectorLabel: string, labels?: Record<string, string>): ClusterRole {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: meta(name, labels),
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [selectorLabel]: "true" } }] },
    rules: [],
  };
}

const user = (name: string): Subject => ({ apiGroup: RBAC, kind: "User", name });
const group = (name: string): Subject => ({ apiGroup: RBAC, kind: "Group", name });
const sa = (namespace: string, name: string): Subject => ({ kind: "ServiceAccount", name, namespace });

function clusterBinding(name: string, subjects: Subject[], roleName = name): ClusterRoleBinding {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: meta(name),
    roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: roleName },
    ...(subjects.length ? { subjects } : {}),
  };
}

/** upstream NodeRules(): what the Node authorizer grants every node (then narrowed by graph and NodeRestriction). */
export function nodeRules(): PolicyRule[] {
  return [
    rule("create", AUTHN, "tokenreviews"),
    rule("create", AUTHZ, ["subjectaccessreviews", "localsubjectaccessreviews"]),
    rule(READ, CORE, "services"),
    rule(["create", "get", "list", "watch"], CORE, "nodes"),
    rule(["update", "patch"], CORE, "nodes/status"),
    rule(["update", "patch"], CORE, "nodes"),
    rule(["create", "update", "patch"], CORE, "events"),
    rule(READ, CORE, "pods"),
    rule(["create", "delete"], CORE, "pods"),
    rule(["update", "patch"], CORE, "pods/status"),
    rule("create", CORE, "pods/eviction"),
    rule(READ, CORE, ["secrets", "configmaps"]),
    rule("get", CORE, ["persistentvolumeclaims", "persistentvolumes"]),
    rule("get", CORE, "endpoints"),
    rule(["create", "get", "list", "watch"], CERTS, "certificatesigningrequests"),
    rule(["get", "create", "update", "patch", "delete"], COORD, "leases"),
    rule("get", STORAGE, "volumeattachments"),
    rule(["get", "update", "patch"], CORE, "persistentvolumeclaims/status"),
    rule("create", CORE, "serviceaccounts/token"),
    rule(READ, STORAGE, "csidrivers"),
    rule(["get", "create", "update", "patch", "delete"], STORAGE, "csinodes"),
    rule(READ, NODE, "runtimeclasses"),
  ];
}

function controllerRoles(): { name: string; rules: PolicyRule[] }[] {
  const c = (name: string, rules: PolicyRule[]) => ({ name: `system:controller:${name}`, rules });
  return [
    c("clusterrole-aggregation-controller", [rule(["escalate", "get", "list", "watch", "update", "patch"], RBAC, "clusterroles")]),
    c("cronjob-controller", [
      rule(["get", "list", "watch", "update"], BATCH, "cronjobs"),
      rule(["get", "list", "watch", "create", "update", "delete", "patch"], BATCH, "jobs"),
      rule("update", BATCH, "cronjobs/status"),
      rule("update", BATCH, "cronjobs/finalizers"),
      rule(["list", "watch", "delete"], CORE, "pods"),
      eventsRule(),
    ]),
    // Upstream's horizontal-pod-autoscaler role: any scale subresource, and resource metrics.
    c("horizontal-pod-autoscaler", [
      rule(["get", "list", "watch"], AUTOSCALING, "horizontalpodautoscalers"),
      rule("update", AUTOSCALING, "horizontalpodautoscalers/status"),
      rule(["get", "update"], "*", "*/scale"),
      rule("list", CORE, "pods"),
      rule("list", "metrics.k8s.io", "pods"),
      rule(["get", "list"], "external.metrics.k8s.io", "*"),
      eventsRule(),
    ]),
    c("daemon-set-controller", [
      rule(READ, [EXT, APPS], "daemonsets"),
      rule("update", [EXT, APPS], "daemonsets/status"),
      rule("update", [EXT, APPS], "daemonsets/finalizers"),
      rule(["list", "watch"], CORE, "nodes"),
      rule(["list", "watch", "create", "delete", "patch"], CORE, "pods"),
      rule("create", CORE, "pods/binding"),
      rule(["get", "list", "watch", "create", "delete", "update", "patch"], APPS, "controllerrevisions"),
      eventsRule(),
    ]),
    c("deployment-controller", [
      rule(["get", "list", "watch", "update"], [EXT, APPS], "deployments"),
      rule("update", [EXT, APPS], "deployments/status"),
      rule("update", [EXT, APPS], "deployments/finalizers"),
      rule(["get", "list", "watch", "create", "update", "patch", "delete"], [APPS, EXT], "replicasets"),
      rule(["get", "list", "watch", "update"], CORE, "pods"),
      eventsRule(),
    ]),
    c("disruption-controller", [
      rule(READ, [EXT, APPS], "deployments"),
      rule(READ, [APPS, EXT], "replicasets"),
      rule(READ, CORE, "replicationcontrollers"),
      rule(READ, POLICY, "poddisruptionbudgets"),
      rule(READ, APPS, "statefulsets"),
      rule("update", POLICY, "poddisruptionbudgets/status"),
      rule(["patch", "update"], CORE, "pods/status"),
      rule("get", "*", "*/scale"),
      eventsRule(),
    ]),
    c("endpoint-controller", [
      rule(READ, CORE, ["services", "pods"]),
      rule(["get", "list", "watch", "create", "update", "delete"], CORE, "endpoints"),
      rule("create", CORE, "endpoints/restricted"),
      eventsRule(),
    ]),
    c("endpointslice-controller", [
      rule(READ, CORE, ["services", "pods", "nodes"]),
      rule("update", CORE, "services/finalizers"),
      rule(["get", "list", "watch", "create", "update", "delete"], DISCOVERY, "endpointslices"),
      eventsRule(),
    ]),
    c("generic-garbage-collector", [rule(["get", "list", "watch", "patch", "update", "delete"], "*", "*"), eventsRule()]),
    c("job-controller", [
      rule(["get", "list", "watch", "update", "patch"], BATCH, "jobs"),
      rule("update", BATCH, "jobs/status"),
      rule("update", BATCH, "jobs/finalizers"),
      rule(["list", "watch", "create", "delete", "patch"], CORE, "pods"),
      eventsRule(),
    ]),
    c("namespace-controller", [
      rule(["get", "list", "watch", "delete"], CORE, "namespaces"),
      rule("update", CORE, ["namespaces/finalize", "namespaces/status"]),
      rule(["get", "list", "watch", "delete", "deletecollection"], "*", "*"),
    ]),
    c("node-controller", [
      rule(["get", "list", "watch", "update", "delete", "patch"], CORE, "nodes"),
      rule(["patch", "update"], CORE, "nodes/status"),
      rule(["patch", "update"], CORE, "pods/status"),
      rule(["list", "watch", "get", "delete"], CORE, "pods"),
      eventsRule(),
    ]),
    c("pod-garbage-collector", [
      rule(["list", "watch", "delete"], CORE, "pods"),
      rule(READ, CORE, "nodes"),
      rule("patch", CORE, "pods/status"),
    ]),
    c("replicaset-controller", [
      rule(["get", "list", "watch", "update"], [APPS, EXT], "replicasets"),
      rule("update", [APPS, EXT], "replicasets/status"),
      rule("update", [APPS, EXT], "replicasets/finalizers"),
      rule(["list", "watch", "patch", "create", "delete"], CORE, "pods"),
      eventsRule(),
    ]),
    c("replication-controller", [
      rule(["get", "list", "watch", "update"], CORE, "replicationcontrollers"),
      rule("update", CORE, "replicationcontrollers/status"),
      rule("update", CORE, "replicationcontrollers/finalizers"),
      rule(["list", "watch", "patch", "create", "delete"], CORE, "pods"),
      eventsRule(),
    ]),
    c("certificate-controller", [
      rule(["get", "list", "watch", "delete"], CERTS, "certificatesigningrequests"),
      rule("update", CERTS, ["certificatesigningrequests/status", "certificatesigningrequests/approval"]),
      rule(["approve", "sign"], CERTS, "signers", [
        "kubernetes.io/kube-apiserver-client",
        "kubernetes.io/kube-apiserver-client-kubelet",
        "kubernetes.io/kubelet-serving",
        "kubernetes.io/legacy-unknown",
      ]),
      rule("create", AUTHZ, "subjectaccessreviews"),
      eventsRule(),
    ]),
    c("resourcequota-controller", [
      rule(["list", "watch"], "*", "*"),
      rule("update", CORE, "resourcequotas/status"),
      eventsRule(),
    ]),
    c("service-account-controller", [rule("create", CORE, "serviceaccounts"), eventsRule()]),
    c("statefulset-controller", [
      rule(["list", "watch"], CORE, "pods"),
      rule(READ, APPS, "statefulsets"),
      rule("update", APPS, "statefulsets/status"),
      rule("update", APPS, "statefulsets/finalizers"),
      rule(["get", "create", "delete", "update", "patch"], CORE, "pods"),
      rule(["get", "create", "delete", "update", "patch", "list", "watch"], APPS, "controllerrevisions"),
      rule(["get", "create", "list", "watch"], CORE, "persistentvolumeclaims"),
      rule(["update", "delete"], CORE, "persistentvolumeclaims"),
      rule("update", CORE, "pods/finalizers"),
      eventsRule(),
    ]),
    c("persistent-volume-binder", [
      rule(["create", "delete", "get", "list", "update", "watch"], CORE, "persistentvolumes"),
      rule("update", CORE, "persistentvolumes/status"),
      rule(["get", "list", "update", "watch"], CORE, "persistentvolumeclaims"),
      rule("update", CORE, "persistentvolumeclaims/status"),
      rule(["create", "delete", "get", "list", "watch"], CORE, "pods"),
      rule(["get", "list"], CORE, "nodes"),
      rule(READ, STORAGE, "storageclasses"),
      eventsRule(),
    ]),
    c("pvc-protection-controller", [
      rule(["get", "list", "update", "watch"], CORE, "persistentvolumeclaims"),
      rule(["get", "list", "watch"], CORE, "pods"),
      eventsRule(),
    ]),
    c("pv-protection-controller", [rule(["get", "list", "update", "watch"], CORE, "persistentvolumes"), eventsRule()]),
    c("service-controller", [
      rule(READ, CORE, "services"),
      rule(["patch", "update"], CORE, ["services", "services/status"]),
      rule(["list", "watch"], CORE, "nodes"),
      eventsRule(),
    ]),
    c("ttl-after-finished-controller", [rule(["get", "list", "watch", "delete"], BATCH, "jobs"), eventsRule()]),
    c("root-ca-cert-publisher", [rule(["create", "update"], CORE, "configmaps"), eventsRule()]),
  ];
}

/** The rules our single-process controller manager needs: the union of the per-controller roles it runs. */
function kubunControllerManagerRules(): PolicyRule[] {
  const extra = [
    // leader election and the `kubernetes` Service / Endpoints it maintains (upstream: the API server does this itself)
    rule(["get", "create", "update"], COORD, "leases"),
    rule(["get", "create", "update", "patch"], CORE, ["services", "endpoints"]),
    rule(["get", "create", "update", "patch"], DISCOVERY, "endpointslices"),
    rule(["get", "list", "watch", "update", "patch"], CORE, "serviceaccounts"),
    rule(["create"], CORE, "serviceaccounts/token"),
    rule(["get", "list", "watch", "create", "update", "patch"], CORE, "configmaps"),
    // the ingress status controller (internal/controllers/ingress): node addresses into status.loadBalancer
    rule(["get", "list", "watch"], NETWORKING, ["ingresses", "ingressclasses"]),
    rule(["update", "patch"], NETWORKING, "ingresses/status"),
  ];
  return [...controllerRoles().flatMap((r) => r.rules), ...extra];
}

export interface BootstrapPolicy {
  clusterRoles: ClusterRole[];
  clusterRoleBindings: ClusterRoleBinding[];
  roles: Role[];
  roleBindings: RoleBinding[];
}

export function bootstrapPolicy(): BootstrapPolicy {
  const AGG_ADMIN = "rbac.authorization.k8s.io/aggregate-to-admin";
  const AGG_EDIT = "rbac.authorization.k8s.io/aggregate-to-edit";
  const AGG_VIEW = "rbac.authorization.k8s.io/aggregate-to-view";

  const clusterRoles: ClusterRole[] = [
    clusterRole("cluster-admin", [rule("*", "*", "*"), urls("*", ["*"])]),
    clusterRole("system:discovery", [
      urls("get", ["/livez", "/readyz", "/healthz", "/version", "/version/", "/openapi", "/openapi/*", "/api", "/api/*", "/apis", "/apis/*"]),
    ]),
    clusterRole("system:monitoring", [
      urls("get", ["/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz", "/livez/*", "/readyz/*", "/healthz/*"]),
    ]),
    clusterRole("system:basic-user", [
      rule("create", AUTHZ, ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
      rule("create", AUTHN, "selfsubjectreviews"),
    ]),
    clusterRole("system:public-info-viewer", [urls("get", ["/livez", "/readyz", "/healthz", "/version", "/version/"])]),
    aggregatedRole("admin", AGG_ADMIN),
    aggregatedRole("edit", AGG_EDIT, { [AGG_ADMIN]: "true" }),
    aggregatedRole("view", AGG_VIEW, { [AGG_EDIT]: "true" }),
    // What metrics-server installs: read the Metrics API, aggregated into view (hence edit and admin).
    clusterRole("system:aggregated-metrics-reader", [rule(["get", "list", "watch"], "metrics.k8s.io", ["pods", "nodes"])], {
      [AGG_VIEW]: "true",
      [AGG_EDIT]: "true",
      [AGG_ADMIN]: "true",
    }),
    clusterRole(
      "system:aggregate-to-admin",
      [rule("create", AUTHZ, "localsubjectaccessreviews"), rule(READ_WRITE, RBAC, ["roles", "rolebindings"])],
      { [AGG_ADMIN]: "true" },
    ),
    clusterRole(
      "system:aggregate-to-edit",
      [
        rule(READ, CORE, ["pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"]),
        rule("impersonate", CORE, "serviceaccounts"),
        rule(WRITE, CORE, ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
        rule("create", CORE, ["pods/eviction"]),
        rule(WRITE, CORE, [
          "replicationcontrollers",
          "replicationcontrollers/scale",
          "serviceaccounts",
          "services",
          "services/proxy",
          "persistentvolumeclaims",
          "configmaps",
          "secrets",
          "events",
        ]),
        rule("create", CORE, "serviceaccounts/token"),
        rule(WRITE, APPS, [
          "statefulsets",
          "statefulsets/scale",
          "daemonsets",
          "deployments",
          "deployments/scale",
          "deployments/rollback",
          "replicasets",
          "replicasets/scale",
        ]),
        rule(WRITE, AUTOSCALING, "horizontalpodautoscalers"),
        rule(WRITE, BATCH, ["jobs", "cronjobs"]),
        rule(WRITE, EXT, [
          "daemonsets",
          "deployments",
          "deployments/scale",
          "deployments/rollback",
          "ingresses",
          "replicasets",
          "replicasets/scale",
          "replicationcontrollers/scale",
          "networkpolicies",
        ]),
        rule(WRITE, POLICY, "poddisruptionbudgets"),
        rule(WRITE, NETWORKING, ["networkpolicies", "ingresses"]),
      ],
      { [AGG_EDIT]: "true" },
    ),
    clusterRole(
      "system:aggregate-to-view",
      [
        rule(READ, CORE, [
          "pods",
          "replicationcontrollers",
          "replicationcontrollers/scale",
          "serviceaccounts",
          "services",
          "services/status",
          "endpoints",
          "persistentvolumeclaims",
          "persistentvolumeclaims/status",
          "configmaps",
        ]),
        rule(READ, CORE, [
          "limitranges",
          "resourcequotas",
          "bindings",
          "events",
          "pods/status",
          "resourcequotas/status",
          "namespaces/status",
          "replicationcontrollers/status",
          "pods/log",
        ]),
        rule(READ, CORE, "namespaces"),
        rule(READ, DISCOVERY, "endpointslices"),
        rule(READ, APPS, [
          "controllerrevisions",
          "statefulsets",
          "statefulsets/status",
          "statefulsets/scale",
          "daemonsets",
          "daemonsets/status",
          "deployments",
          "deployments/status",
          "deployments/scale",
          "replicasets",
          "replicasets/status",
          "replicasets/scale",
        ]),
        rule(READ, AUTOSCALING, ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
        rule(READ, BATCH, ["jobs", "cronjobs", "cronjobs/status", "jobs/status"]),
        rule(READ, EXT, [
          "daemonsets",
          "daemonsets/status",
          "deployments",
          "deployments/scale",
          "deployments/status",
          "ingresses",
          "ingresses/status",
          "replicasets",
          "replicasets/scale",
          "replicasets/status",
          "replicationcontrollers/scale",
          "networkpolicies",
        ]),
        rule(READ, POLICY, ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
        rule(READ, NETWORKING, ["networkpolicies", "ingresses", "ingresses/status"]),
      ],
      { [AGG_VIEW]: "true" },
    ),
    clusterRole("system:heapster", [rule(READ, CORE, ["events", "pods", "nodes", "namespaces"]), rule(READ, EXT, "deployments")]),
    clusterRole("system:node", nodeRules()),
    clusterRole("system:node-problem-detector", [rule("get", CORE, "nodes"), rule("patch", CORE, "nodes/status"), eventsRule()]),
    clusterRole("system:kubelet-api-admin", [
      rule(READ, CORE, "nodes"),
      rule("proxy", CORE, "nodes"),
      rule("*", CORE, ["nodes/proxy", "nodes/metrics", "nodes/spec", "nodes/stats", "nodes/log"]),
    ]),
    clusterRole("system:node-bootstrapper", [rule(["create", "get", "list", "watch"], CERTS, "certificatesigningrequests")]),
    // Unbound by default, as upstream: bind nodeclient to bootstrap identities and selfnodeclient to system:nodes to
    // have the CSR approver auto-approve kubelet client certificates.
    clusterRole("system:certificates.k8s.io:certificatesigningrequests:nodeclient", [rule("create", CERTS, "certificatesigningrequests/nodeclient")]),
    clusterRole("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", [rule("create", CERTS, "certificatesigningrequests/selfnodeclient")]),
    clusterRole("system:certificates.k8s.io:kube-apiserver-client-approver", [rule("approve", CERTS, "signers", ["kubernetes.io/kube-apiserver-client"])]),
    clusterRole("system:certificates.k8s.io:kube-apiserver-client-kubelet-approver", [rule("approve", CERTS, "signers", ["kubernetes.io/kube-apiserver-client-kubelet"])]),
    clusterRole("system:certificates.k8s.io:kubelet-serving-approver", [rule("approve", CERTS, "signers", ["kubernetes.io/kubelet-serving"])]),
    clusterRole("system:certificates.k8s.io:legacy-unknown-approver", [rule("approve", CERTS, "signers", ["kubernetes.io/legacy-unknown"])]),
    clusterRole("system:auth-delegator", [rule("create", AUTHN, "tokenreviews"), rule("create", AUTHZ, "subjectaccessreviews")]),
    clusterRole("system:kube-aggregator", [rule(READ, CORE, ["services", "endpoints"])]),
    clusterRole("system:kube-controller-manager", [
      eventsRule(),
      rule("create", COORD, "leases"),
      rule(["get", "update"], COORD, "leases", ["kube-controller-manager"]),
      rule("create", CORE, ["secrets", "serviceaccounts"]),
      rule("delete", CORE, "secrets"),
      rule("get", CORE, ["namespaces", "secrets", "serviceaccounts", "configmaps"]),
      rule("update", CORE, ["secrets", "serviceaccounts"]),
      rule("create", AUTHN, "tokenreviews"),
      rule("create", AUTHZ, "subjectaccessreviews"),
      rule(["list", "watch"], "*", "*"),
      rule("create", CORE, "serviceaccounts/token"),
    ]),
    clusterRole("system:kube-dns", [rule(["list", "watch"], CORE, ["endpoints", "services"])]),
    clusterRole("system:persistent-volume-provisioner", [
      rule(["get", "list", "watch", "create", "delete"], CORE, "persistentvolumes"),
      rule(["get", "list", "watch", "update"], CORE, "persistentvolumeclaims"),
      rule(READ, STORAGE, "storageclasses"),
      rule("watch", CORE, "events"),
      eventsRule(),
    ]),
    clusterRole("system:volume-scheduler", [
      rule(READ_UPDATE, CORE, "persistentvolumes"),
      rule(READ, STORAGE, "storageclasses"),
      rule(READ_UPDATE, CORE, "persistentvolumeclaims"),
    ]),
    clusterRole("system:service-account-issuer-discovery", [urls("get", ["/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/"])]),
    clusterRole("system:node-proxier", [
      rule(["list", "watch"], CORE, ["services", "endpoints"]),
      rule(READ, CORE, "nodes"),
      eventsRule(),
      rule(["list", "watch"], DISCOVERY, "endpointslices"),
    ]),
    // kubun: the agents' NetworkPolicy enforcement (internal/netpol) runs as system:kube-proxy.
    clusterRole("system:kubun-network-policy", [rule(["list", "watch"], CORE, ["pods", "namespaces"]), rule(["list", "watch"], NETWORKING, "networkpolicies")]),
    // The agents' ingress proxy (internal/ingress): routes from Ingresses, backends from EndpointSlices, TLS
    // certificates from Secrets — read-only, as an upstream ingress controller's ServiceAccount.
    clusterRole("system:kubun-ingress", [
      rule(["get", "list", "watch"], NETWORKING, ["ingresses", "ingressclasses"]),
      rule(["get", "list", "watch"], CORE, ["services", "secrets"]),
      rule(["list", "watch"], DISCOVERY, "endpointslices"),
      eventsRule(),
    ]),
    clusterRole("system:kube-scheduler", [
      eventsRule(),
      rule("create", COORD, "leases"),
      rule(["get", "update"], COORD, "leases", ["kube-scheduler"]),
      rule(READ, CORE, "nodes"),
      rule(["get", "list", "watch", "delete"], CORE, "pods"),
      rule("create", CORE, ["pods/binding", "bindings"]),
      rule(["patch", "update"], CORE, "pods/status"),
      rule(READ, CORE, ["services", "replicationcontrollers"]),
      rule(READ, [APPS, EXT], "replicasets"),
      rule(READ, APPS, "statefulsets"),
      rule(READ, POLICY, "poddisruptionbudgets"),
      rule(READ, CORE, ["persistentvolumeclaims", "persistentvolumes"]),
      rule("create", AUTHN, "tokenreviews"),
      rule("create", AUTHZ, "subjectaccessreviews"),
      rule(READ, STORAGE, "csinodes"),
      rule(READ, CORE, "namespaces"),
      rule(READ, STORAGE, "csidrivers"),
      rule(READ, STORAGE, "csistoragecapacities"),
    ]),
    ...controllerRoles().map((r) => clusterRole(r.name, r.rules)),
    // kubun: our controller manager runs every controller under one identity instead of one ServiceAccount each.
    clusterRole("kubun:controller-manager", kubunControllerManagerRules()),
  ];

  const clusterRoleBindings: ClusterRoleBinding[] = [
    clusterBinding("cluster-admin", [group("system:masters")]),
    clusterBinding("system:monitoring", [group("system:monitoring")]),
    clusterBinding("system:discovery", [group("system:authenticated")]),
    clusterBinding("system:basic-user", [group("system:authenticated")]),
    clusterBinding("system:public-info-viewer", [group("system:authenticated"), group("system:unauthenticated")]),
    clusterBinding("system:node-proxier", [user("system:kube-proxy")]),
    clusterBinding("system:kubun-network-policy", [user("system:kube-proxy")]),
    clusterBinding("system:kubun-ingress", [user("system:kubun-ingress")]),
    clusterBinding("system:kube-controller-manager", [user("system:kube-controller-manager")]),
    clusterBinding("system:kube-dns", [sa("kube-system", "kube-dns")]),
    clusterBinding("system:kube-scheduler", [user("system:kube-scheduler")]),
    clusterBinding("system:volume-scheduler", [user("system:kube-scheduler")]),
    // upstream keeps this binding with no subjects: nodes are authorized by the Node authorizer.
    clusterBinding("system:node", []),
    clusterBinding("system:service-account-issuer-discovery", [group("system:serviceaccounts")]),
    ...controllerRoles().map((r) => clusterBinding(r.name, [sa("kube-system", r.name.slice("system:controller:".length))])),
    clusterBinding("kubun:controller-manager", [user("system:kube-controller-manager")]),
    // The API server calls kubelets (logs, exec) as system:kube-apiserver.
    clusterBinding("kubun:kube-apiserver-kubelet-api-admin", [user("system:kube-apiserver")], "system:kubelet-api-admin"),
  ];

  const role = (ns: string, name: string, rules: PolicyRule[]): Role => ({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: meta(name, {}, ns),
    rules,
  });
  const roleBinding = (ns: string, name: string, roleName: string, subjects: Subject[]): RoleBinding => ({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: meta(name, {}, ns),
    roleRef: { apiGroup: RBAC, kind: "Role", name: roleName },
    subjects,
  });
  const KS = "kube-system";
  const roles: Role[] = [
    role(KS, "extension-apiserver-authentication-reader", [rule(READ, CORE, "configmaps", ["extension-apiserver-authentication"])]),
    role(KS, "system::leader-locking-kube-controller-manager", [
      rule("watch", CORE, "configmaps"),
      rule(["get", "update"], CORE, "configmaps", ["kube-controller-manager"]),
    ]),
    role(KS, "system::leader-locking-kube-scheduler", [
      rule("watch", CORE, "configmaps"),
      rule(["get", "update"], CORE, "configmaps", ["kube-scheduler"]),
    ]),
    role(KS, "system:controller:bootstrap-signer", [rule(READ, CORE, "secrets")]),
    role(KS, "system:controller:token-cleaner", [rule(["delete", ...READ], CORE, "secrets"), eventsRule()]),
    role("kube-public", "system:controller:bootstrap-signer", [
      rule(READ, CORE, "configmaps"),
      rule(["update"], CORE, "configmaps", ["cluster-info"]),
      eventsRule(),
    ]),
  ];
  const roleBindings: RoleBinding[] = [
    roleBinding(KS, "system::extension-apiserver-authentication-reader", "extension-apiserver-authentication-reader", [
      user("system:kube-controller-manager"),
      user("system:kube-scheduler"),
    ]),
    roleBinding(KS, "system::leader-locking-kube-controller-manager", "system::leader-locking-kube-controller-manager", [
      user("system:kube-controller-manager"),
      sa(KS, "kube-controller-manager"),
    ]),
    roleBinding(KS, "system::leader-locking-kube-scheduler", "system::leader-locking-kube-scheduler", [
      user("system:kube-scheduler"),
      sa(KS, "kube-scheduler"),
    ]),
    roleBinding(KS, "system:controller:bootstrap-signer", "system:controller:bootstrap-signer", [sa(KS, "bootstrap-signer")]),
    roleBinding(KS, "system:controller:token-cleaner", "system:controller:token-cleaner", [sa(KS, "token-cleaner")]),
    roleBinding("kube-public", "system:controller:bootstrap-signer", "system:controller:bootstrap-signer", [sa(KS, "bootstrap-signer")]),
  ];
  return { clusterRoles, clusterRoleBindings, roles, roleBindings };
}
