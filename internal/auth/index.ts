// Public surface of kubun's authentication / authorization package. See the report in each file's header.
//
// Server start-up order (startControlPlane):
//   1. const pki = await ensurePKI(dataDir, { sans, store, token })  → TLS for Bun.serve, CA for kubeconfigs
//      (with `store`, a fresh server on an existing cluster's store adopts its CA + admin token; needs --token)
//   2. const { adminToken, joinToken } = await ensureTokens(dataDir, { token, store })  (publishes bootstrap data)
//   3. writeKubeconfig(path, { server, caPEM: pki.caCertPEM, token: adminToken, mode })
//   4. await reconcileBootstrapPolicy(store)                    → default ClusterRoles/Bindings in the store
//   5. const authn = createAuthenticator({ store, dataDir }); const authz = createAuthorizer({ store });
//      runClusterRoleAggregation(store, authz.rbacCache, signal)
//   6. app.route("/", joinRoutes({ dataDir, store, onIssued: () => authn.flushCache() }))   (unauthenticated paths)
//   7. component identities: await authn.issueComponentToken("scheduler" | "controller-manager"),
//      kubelet calls: await authn.issueAPIServerToken()
export { ensurePKI, defaultSANs, tlsDir, PKI_FILES, parseCertificate } from "./pki.ts";
export type { PKI, PKIOptions } from "./pki.ts";
export { ensureTokens, rotateJoinToken, parseToken, formatToken, caHash, adminTokenPath, joinTokenPath } from "./tokens.ts";
export type { Tokens, ParsedToken } from "./tokens.ts";
export { writeKubeconfig, kubeconfigYAML } from "./kubeconfig.ts";
export type { KubeconfigOptions } from "./kubeconfig.ts";
export { createAuthenticator, issueServiceAccountToken, ADMIN_USER } from "./authenticator.ts";
export type { KubunAuthenticator, ComponentName, TokenReviewResult } from "./authenticator.ts";
export { TokenRequestError, SA_ISSUER, API_AUDIENCES } from "./serviceaccount/jwt.ts";
export type { ServiceAccountTokenRequest, IssuedToken, BoundObjectRef } from "./serviceaccount/jwt.ts";
export { createAuthorizer, forbiddenMessage, forbiddenStatus, PRIVILEGED_GROUP } from "./authorizer.ts";
export type { KubunAuthorizer } from "./authorizer.ts";
export { bootstrapPolicy, nodeRules, COMPONENT_USERS } from "./rbac/policy.ts";
export { reconcileBootstrapPolicy, runClusterRoleAggregation } from "./rbac/reconcile.ts";
export { ruleAllows, rulesAllow } from "./rbac/rules.ts";
export { nodeIdentity } from "./node/authorizer.ts";
export { joinRoutes, CACERTS_PATH, NODE_CREDENTIALS_PATH } from "./joinroutes.ts";
export { joinCluster, requestNodeCredentials, requestNodeCredentialsFull, fetchVerifiedCA, CAHashMismatchError, credentialsPath } from "./join.ts";
export type { JoinOptions, NodeCredentials } from "./join.ts";
export { revokeNodeToken } from "./nodecreds.ts";
export { adoptClusterBootstrap, publishClusterBootstrap, resealClusterBootstrap, BOOTSTRAP_KEY } from "./bootstrap.ts";
export { tokenLib } from "./tokenlib.ts";
export { serviceAccountIssuerRoutes } from "./oidc.ts";
export { createKubeletAuthenticator } from "./kubeletauth.ts";
export type { KubeletAuthenticator, KubeletAuthOptions } from "./kubeletauth.ts";
