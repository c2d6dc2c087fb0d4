// Public surface of kubun's authentication / authorization package.
//
// Data dir layout (k3s's names):
//   server/tls/server-ca.crt, server-ca.key (0600)          cluster CA, made once, never regenerated
//   server/tls/serving-kube-apiserver.crt, .key (0600)       API serving cert, re-issued on SAN change / <90 days left
//   server/tls/service.key (0600)                            ES256 key signing ServiceAccount + component JWTs
//   server/cred/admin-token (0600)                           admin bearer token (system:admin, system:masters)
//   server/token (0600)                                      join token K10<sha256(CA PEM)>::server:<secret>
//   agent/cred/node-credentials.json (0600)                  agent side: CA + node/kube-proxy tokens + kubelet cert cache
//   agent/cred/node-password (0600)                          agent side: proves the node's identity at every join
//   agent/serving/kubelet-serving.key (0600)                 agent side: the kubelet's serving key (never sent)
// Store keys (not served by the API): /kubun/node-credentials/<node>, /kubun/serviceaccount-keys/<kid>,
//   /kubun/bootstrap/cluster (CA + admin token sealed with the join secret, for HA servers).
//
// Server start-up order (startControlPlane):
//   1. const pki = await ensurePKI(dataDir, { sans, store, token })  → TLS for Bun.serve, CA for kubeconfigs
//      (with `store`, a fresh server on an existing cluster's store adopts its CA + admin token; needs --token)
//   2. const { adminToken, joinToken } = await ensureTokens(dataDir, { token, store })  (publishes bootstrap data)
//   3. writeKubeconfig(path, { server, caPEM: pki.caCertPEM, token: adminToken, mode })
//   4. await reconcileBootstrapPolicy(store)         → default ClusterRoles/Bindings/Roles
//   5. const authn = createAuthenticator({ store, dataDir, adminToken }); const authz = createAuthorizer({ store });
//      await Promise.all([authn.ready, authz.ready]); runClusterRoleAggregation(store, authz.rbacCache, signal)
//   6. admission: defaultAdmissionPlugins({ store, authorizer: authz, authenticator: authn, caPEM })  (internal/admission)
//   7. unauthenticated routes: joinRoutes({ dataDir, store, onIssued: () => authn.flushCache() })  (/cacerts, node creds)
//      authenticated routes: serviceAccountIssuerRoutes(authn, { externalURL })  (OIDC discovery, JWKS)
//   8. identities: authn.issueComponentToken("scheduler" | "controller-manager"), kubelet calls with
//      kubeletTokenSource(authn)(nodeName) (5-minute token, audience that kubelet) over TLS checked with
//      kubeletServerIdentity(nodeName); runNodeCredentialCleanup(store, signal) drops a deleted Node's credentials
//      and node password; TokenRequest via tokenLib(authn); 403 bodies via forbiddenStatus(attrs, reason).
// Agent side: joinCluster({ server, token, nodeName, dataDir, servingPublicKey, addresses }) → { caPEM, nodeToken,
//   proxyToken, expires, servingCert, kubeletVerificationKeys }; renewNodeCredentials with the node token;
//   kubelet API: createKubeletAuthenticator({ nodeName, verificationKeys, tokenReview }).
//
// auth imports internal/api (Status errors, well-known user and group names), the store and the logger — never
// the API server: the contracts the API server calls (Authenticator, Authorizer, TokenLib) are in ./types.ts.
export { ensurePKI, defaultSANs, tlsDir, PKI_FILES, parseCertificate, selfSignedServingCert } from "./pki.ts";
export { generateKeyPair, exportKeyPEM, importKeyPairPEM, pemEncode, pemDecode } from "./pem.ts";
export type { PKI, PKIOptions } from "./pki.ts";
export { ensureTokens, rotateJoinToken, parseToken, formatToken, caHash, adminTokenPath, joinTokenPath } from "./tokens.ts";
export type { Tokens, ParsedToken } from "./tokens.ts";
export { writeKubeconfig, kubeconfigYAML } from "./kubeconfig.ts";
export type { KubeconfigOptions } from "./kubeconfig.ts";
export { createAuthenticator, issueServiceAccountToken, ADMIN_USER } from "./authenticator.ts";
export type { KubunAuthenticator, ComponentName, TokenReviewResult } from "./authenticator.ts";
export { TokenRequestError, SA_ISSUER, API_AUDIENCES } from "./serviceaccount/jwt.ts";
export type { ServiceAccountTokenRequest, IssuedToken, BoundObjectRef } from "./serviceaccount/jwt.ts";
export { createAuthorizer, forbiddenMessage, forbiddenStatus } from "./authorizer.ts";
export type { KubunAuthorizer } from "./authorizer.ts";
export { bootstrapPolicy, nodeRules } from "./rbac/policy.ts";
export { reconcileBootstrapPolicy, runClusterRoleAggregation } from "./rbac/reconcile.ts";
export { ruleAllows, rulesAllow } from "./rbac/rules.ts";
export { nodeIdentity } from "./node/authorizer.ts";
export { joinRoutes, CACERTS_PATH, NODE_CREDENTIALS_PATH } from "./joinroutes.ts";
export { joinCluster, renewNodeCredentials, requestNodeCredentials, requestNodeCredentialsFull, fetchVerifiedCA, CAHashMismatchError, CredentialsRejectedError, credentialsPath, loadNodePassword, nodePasswordPath } from "./join.ts";
export type { JoinOptions, NodeCredentials } from "./join.ts";
export { revokeNodeToken, issueNodeCredentials, NODE_CREDENTIALS_TTL_MS } from "./nodecreds.ts";
export { verifyOrRecordNodePassword, deleteNodePassword, nodePasswordSecretName, NodePasswordError } from "./nodepassword.ts";
export { runNodeCredentialCleanup } from "./nodecleanup.ts";
export { issueKubeletServingCert, kubeletServerIdentity } from "./kubeletcert.ts";
export { kubeletTokenSource } from "./kubelettokens.ts";
export { adoptClusterBootstrap, publishClusterBootstrap, resealClusterBootstrap, BOOTSTRAP_KEY } from "./bootstrap.ts";
export { tokenLib } from "./tokenlib.ts";
export { serviceAccountIssuerRoutes } from "./oidc.ts";
export { createKubeletAuthenticator } from "./kubeletauth.ts";
export type { KubeletAuthenticator, KubeletAuthOptions } from "./kubeletauth.ts";
