// Bearer-token authentication for the API server: the admin token, node tokens, ServiceAccount JWTs and kubun's
// component JWTs. Results are cached per token for a few seconds so the hot path is a map lookup; revocation
// (ServiceAccount or pod deleted, node credentials removed) therefore takes effect within CACHE_TTL_MS.
import type { Authenticator, UserInfo } from "./types.ts";
import type { Store } from "../store/types.ts";
import { readIfExists } from "./files.ts";
import { adminTokenPath, safeEqual } from "./tokens.ts";
import { verifyNodeCredential, parseNodeToken, issueNodeToken } from "./nodecreds.ts";
import { loadSigningKey, publishVerificationKey, VerificationKeys, type SigningKey } from "./serviceaccount/keys.ts";
import {
  API_AUDIENCES,
  looksLikeJWT,
  signComponentToken,
  signLegacyServiceAccountToken,
  kubeletAudience,
  KUBELET_TOKEN_TTL_SECONDS,
  signServiceAccountToken,
  verifyJWT,
  type IssuedToken,
  type ServiceAccountTokenRequest,
} from "./serviceaccount/jwt.ts";
import { ADMIN_USER_NAME, AUTHENTICATED_GROUP, COMPONENT_USERS, NODE_USER_PREFIX, NODES_GROUP, PRIVILEGED_GROUP } from "../api/names.ts";
import { INGRESS_USER } from "../api/ingress.ts";

const CACHE_TTL_MS = 10_000;
const NEGATIVE_TTL_MS = 2_000;
const CACHE_MAX = 10_000;

export const ADMIN_USER: UserInfo = { username: ADMIN_USER_NAME, groups: [PRIVILEGED_GROUP, AUTHENTICATED_GROUP] };

export type ComponentName = "scheduler" | "controller-manager" | "kube-proxy" | "apiserver";

export interface TokenReviewResult {
  user: UserInfo;
  audiences: string[];
}

export interface KubunAuthenticator extends Authenticator {
  /** Resolves when the signing key is loaded and published. Methods wait for it themselves. */
  ready: Promise<void>;
  /** `audiences`: what the caller accepts (TokenReview spec.audiences); default the API audiences. */
  authenticateToken(token: string, audiences?: string[]): Promise<UserInfo | null>;
  /** For TokenReview: the user and the audiences the token was accepted for. */
  reviewToken(token: string, audiences?: string[]): Promise<TokenReviewResult | null>;
  /** TokenRequest (serviceaccounts/token) and the kubelet's projected tokens. Throws TokenRequestError (422). */
  issueServiceAccountToken(req: ServiceAccountTokenRequest): Promise<IssuedToken>;
  /**
   * Token of one of kubun's in-process components, with least privilege through the bootstrap RBAC policy:
   * scheduler → system:kube-scheduler, controller-manager → system:kube-controller-manager,
   * kube-proxy → system:kube-proxy, apiserver → system:kube-apiserver (the identity the API server presents to
   * kubelets; bound to system:kubelet-api-admin). Valid one year; issue fresh ones at each start.
   */
  issueComponentToken(name: ComponentName): Promise<string>;
  /** Shorthand for issueComponentToken("apiserver"). */
  issueAPIServerToken(): Promise<string>;
  /**
   * What the API server presents to one node's kubelet: a JWT of system:kube-apiserver whose only audience is that
   * kubelet (kubeletAudience(nodeName)), valid a few minutes — useless against the API or any other kubelet.
   */
  issueKubeletToken(nodeName: string): Promise<{ token: string; expiresAt: number }>;
  /** Token for a Secret of type kubernetes.io/service-account-token (filled in by admission). */
  issueLegacyServiceAccountToken(req: { namespace: string; name: string; uid: string; secretName: string }): Promise<string>;
  /** Node credentials for the join endpoint. */
  issueNodeToken(nodeName: string): Promise<string>;
  /** The public keys (JWKS) tokens are verified with, for /openid/v1/jwks. */
  jwks(): Promise<{ keys: unknown[] }>;
  /** The store tokens are checked against (bound objects, node credentials, other servers' keys). */
  readonly store?: Store;
  /** Drop cached results (tests; after revoking credentials). */
  flushCache(): void;
}

const COMPONENT_GROUPS: Record<ComponentName, string[]> = {
  scheduler: [AUTHENTICATED_GROUP],
  "controller-manager": [AUTHENTICATED_GROUP],
  "kube-proxy": [AUTHENTICATED_GROUP],
  apiserver: [AUTHENTICATED_GROUP],
};
const COMPONENT_USER: Record<ComponentName, string> = {
  scheduler: COMPONENT_USERS.scheduler,
  "controller-manager": COMPONENT_USERS.controllerManager,
  "kube-proxy": COMPONENT_USERS.kubeProxy,
  apiserver: COMPONENT_USERS.apiserver,
};

export function createAuthenticator(opts: { store?: Store; dataDir: string; adminToken?: string; audiences?: string[] }): KubunAuthenticator {
  const { store, dataDir } = opts;
  const apiAudiences = opts.audiences ?? API_AUDIENCES;
  const keys = new VerificationKeys(store);
  let signingKey: SigningKey | undefined;
  let adminToken = opts.adminToken ?? readIfExists(adminTokenPath(dataDir))?.trim();
  const cache = new Map<string, { result: TokenReviewResult | null; until: number }>();

  const ready = (async () => {
    signingKey = await loadSigningKey(dataDir);
    keys.add(signingKey.kid, signingKey.publicKey);
    if (store) await publishVerificationKey(store, signingKey);
  })();

  async function review(token: string, audiences: string[]): Promise<TokenReviewResult | null> {
    if (!token) return null;
    if (adminToken && safeEqual(token, adminToken)) return { user: ADMIN_USER, audiences: apiAudiences };
    if (parseNodeToken(token)) {
      if (!store) return null;
      const cred = await verifyNodeCredential(store, token);
      if (!cred) return null;
      // The node's service proxy runs as system:kube-proxy, as upstream's kube-proxy (ClusterRole system:node-proxier).
      // The ingress proxy has its own identity (ClusterRole system:kubun-ingress): it reads Secrets, the kubelet may not.
      if (cred.kind === "ingress") return { user: { username: INGRESS_USER, groups: [AUTHENTICATED_GROUP] }, audiences: apiAudiences };
      if (cred.kind === "proxy") return { user: { username: COMPONENT_USERS.kubeProxy, groups: [AUTHENTICATED_GROUP] }, audiences: apiAudiences };
      return { user: { username: NODE_USER_PREFIX + cred.nodeName, groups: [NODES_GROUP, AUTHENTICATED_GROUP] }, audiences: apiAudiences };
    }
    if (looksLikeJWT(token)) {
      await ready;
      const v = await verifyJWT(token, keys, store, audiences);
      return v ? { user: v.user, audiences: v.audiences } : null;
    }
    return null;
  }

  async function cachedReview(token: string, audiences?: string[]): Promise<TokenReviewResult | null> {
    const auds = audiences?.length ? audiences : apiAudiences;
    // Non-API audiences (TokenReview callers) are rare: don't cache them.
    const cacheable = auds === apiAudiences;
    const now = Date.now();
    if (cacheable) {
      const hit = cache.get(token);
      if (hit && hit.until > now) return hit.result;
    }
    const result = await review(token, auds);
    // Static tokens are only valid for the API audiences.
    if (result && !cacheable && !looksLikeJWT(token) && !auds.some((a) => apiAudiences.includes(a))) return null;
    if (cacheable) {
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(token, { result, until: now + (result ? CACHE_TTL_MS : NEGATIVE_TTL_MS) });
    }
    return result;
  }

  return {
    ready,
    store,
    async authenticateToken(token: string, audiences?: string[]) {
      return (await cachedReview(token, audiences))?.user ?? null;
    },
    reviewToken: cachedReview,
    async issueServiceAccountToken(req) {
      await ready;
      return signServiceAccountToken(signingKey!, { ...req, audiences: req.audiences?.length ? req.audiences : apiAudiences });
    },
    async issueLegacyServiceAccountToken(req) {
      await ready;
      return signLegacyServiceAccountToken(signingKey!, req);
    },
    async issueComponentToken(name) {
      await ready;
      const user = COMPONENT_USER[name];
      if (!user) throw new Error(`unknown component ${JSON.stringify(name)}`);
      return signComponentToken(signingKey!, user, COMPONENT_GROUPS[name]);
    },
    async issueAPIServerToken() {
      return this.issueComponentToken("apiserver");
    },
    async issueKubeletToken(nodeName: string) {
      await ready;
      const expiresAt = Date.now() + KUBELET_TOKEN_TTL_SECONDS * 1000;
      const token = await signComponentToken(signingKey!, COMPONENT_USERS.apiserver, [AUTHENTICATED_GROUP], KUBELET_TOKEN_TTL_SECONDS, [kubeletAudience(nodeName)]);
      return { token, expiresAt };
    },
    async issueNodeToken(nodeName: string) {
      if (!store) throw new Error("node credentials need the store");
      const t = await issueNodeToken(store, nodeName);
      cache.clear();
      return t;
    },
    async jwks() {
      await ready;
      return keys.jwks();
    },
    flushCache() {
      cache.clear();
      adminToken = opts.adminToken ?? readIfExists(adminTokenPath(dataDir))?.trim();
    },
  };
}

/** Standalone TokenRequest signing with the data dir's key (same key createAuthenticator uses). */
export async function issueServiceAccountToken(req: ServiceAccountTokenRequest & { dataDir: string }): Promise<IssuedToken> {
  const key = await loadSigningKey(req.dataDir);
  const { dataDir: _d, ...rest } = req;
  return signServiceAccountToken(key, { ...rest, audiences: rest.audiences?.length ? rest.audiences : API_AUDIENCES });
}
