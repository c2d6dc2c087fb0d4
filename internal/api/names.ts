// Well-known user and group names (upstream's k8s.io/apiserver/pkg/authentication/user and serviceaccount
// packages): the API server's authenticators and authorizers, the RBAC bootstrap policy, admission and the
// kubelet's own authorizer must all spell them the same way.

/** Members bypass authorization (upstream SystemPrivilegedGroup). */
export const PRIVILEGED_GROUP = "system:masters";
/** Every kubelet's group; its user name is NODE_USER_PREFIX + node name. */
export const NODES_GROUP = "system:nodes";
export const NODE_USER_PREFIX = "system:node:";
export const AUTHENTICATED_GROUP = "system:authenticated";
export const UNAUTHENTICATED_GROUP = "system:unauthenticated";
export const ANONYMOUS_USER = "system:anonymous";
/** The admin kubeconfig's user (group PRIVILEGED_GROUP). */
export const ADMIN_USER_NAME = "system:admin";
export const SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts";
export const SERVICE_ACCOUNT_USER_PREFIX = "system:serviceaccount:";

/** kubun's own identities (users, not ServiceAccounts) for in-process components. */
export const COMPONENT_USERS = {
  scheduler: "system:kube-scheduler",
  controllerManager: "system:kube-controller-manager",
  kubeProxy: "system:kube-proxy",
  apiserver: "system:kube-apiserver",
} as const;

/** "system:node:<name>". */
export function nodeUserName(node: string): string {
  return NODE_USER_PREFIX + node;
}

/** "system:serviceaccount:<namespace>:<name>". */
export function serviceAccountUserName(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${name}`;
}

/** The groups of a ServiceAccount's tokens: all ServiceAccounts, those of its namespace, all authenticated. */
export function serviceAccountGroups(namespace: string): string[] {
  return [SERVICE_ACCOUNTS_GROUP, `${SERVICE_ACCOUNTS_GROUP}:${namespace}`, AUTHENTICATED_GROUP];
}
