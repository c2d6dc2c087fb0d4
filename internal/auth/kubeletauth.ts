// For the kubelet's HTTPS API (10250): who may call it.
// - The API server presents a short-lived JWT of system:kube-apiserver whose audience is this kubelet only
//   (kubeletAudience(nodeName), a few minutes; see subresources/kubelet.ts). It is checked here locally against the
//   keys the node received at join; a token signed by a key we don't know (another HA server's) goes through a
//   TokenReview for that audience. Such a token is worthless against the API or any other kubelet, so a node that
//   receives one (it is the kubelet) cannot replay it anywhere.
// - Any other bearer token goes through a TokenReview against the API server (upstream's webhook authentication);
//   only members of system:masters (unless allowMasters is false, as kubun's kubelet sets it) and `allowedUsers`
//   are let in — a simplification of upstream's SubjectAccessReview on nodes/proxy. The API server's long-lived API
//   token is not accepted.
// Results are cached briefly (never past a token's expiry).
import { decodeProtectedHeader, importJWK, jwtVerify, type JWK } from "jose";
import type { UserInfo } from "./types.ts";
import { COMPONENT_ISSUER, kubeletAudience, looksLikeJWT } from "./serviceaccount/jwt.ts";
import { AUTHENTICATED_GROUP, COMPONENT_USERS, PRIVILEGED_GROUP } from "../api/names.ts";

type Review = (token: string, audiences?: string[]) => Promise<UserInfo | null>;
type Decision = { user: UserInfo | null; allowed: boolean; until: number };

export interface KubeletAuthOptions {
  /** This kubelet's node name: the audience it accepts. */
  nodeName: string;
  /** JWKS of the keys signing the API server's kubelet tokens (join response; refreshed at renewal). */
  verificationKeys?: () => { keys: unknown[] } | undefined;
  /** TokenReview against the API server. Either this, or server + caPEM + token to make one. */
  tokenReview?: Review;
  server?: string;
  caPEM?: string;
  /** The node's own token (used to call TokenReview). */
  token?: string;
  /** Users allowed besides the API server (tests). */
  allowedUsers?: string[];
  /** Whether members of system:masters may call this kubelet directly (default true; kubun's kubelet says false). */
  allowMasters?: boolean;
  cacheTtlMs?: number;
}

export interface KubeletAuthenticator {
  /** The caller when allowed; null for a missing/invalid token or a user who may not call the kubelet. */
  authenticate(authorization: string | null | undefined): Promise<UserInfo | null>;
  /** Who the caller is (null: not authenticated) and whether it may call this kubelet (401 vs 403). */
  check(authorization: string | null | undefined): Promise<{ user: UserInfo | null; allowed: boolean }>;
}

function fetchReview(server: string, caPEM: string | undefined, token: () => string): Review {
  const base = server.replace(/\/+$/, "");
  return async (reviewed, audiences) => {
    const res = await fetch(`${base}/apis/authentication.k8s.io/v1/tokenreviews`, {
      method: "POST",
      headers: { authorization: `Bearer ${token()}`, "content-type": "application/json" },
      body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token: reviewed, ...(audiences ? { audiences } : {}) } }),
      tls: caPEM ? { ca: caPEM } : undefined,
      signal: AbortSignal.timeout(10_000),
    } as RequestInit);
    if (!res.ok) throw new Error(`TokenReview failed: HTTP ${res.status}`);
    const status = ((await res.json()) as any)?.status;
    if (!status?.authenticated) return null;
    return { username: status.user?.username ?? "", uid: status.user?.uid, groups: status.user?.groups ?? [] };
  };
}

export function createKubeletAuthenticator(opts: KubeletAuthOptions): KubeletAuthenticator {
  const allowed = new Set(opts.allowedUsers ?? []);
  const allowMasters = opts.allowMasters ?? true;
  const ttl = opts.cacheTtlMs ?? 60_000;
  const audience = kubeletAudience(opts.nodeName);
  const cache = new Map<string, Decision>();
  const review: Review = opts.tokenReview ?? fetchReview(opts.server ?? "", opts.caPEM, () => opts.token ?? "");
  const keyCache = new Map<string, CryptoKey>();

  async function localKey(kid: string): Promise<CryptoKey | undefined> {
    const hit = keyCache.get(kid);
    if (hit) return hit;
    const jwk = (opts.verificationKeys?.()?.keys ?? []).find((k: any) => k?.kid === kid) as JWK | undefined;
    if (!jwk) return undefined;
    const key = (await importJWK(jwk, "ES256")) as CryptoKey;
    keyCache.set(kid, key);
    return key;
  }

  /** The API server's kubelet token for this node: { user, exp } when valid, null when not, undefined when unknown kid. */
  async function verifyLocally(token: string): Promise<{ user: UserInfo; exp: number } | null | undefined> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return null;
    }
    const key = kid ? await localKey(kid) : undefined;
    if (!key) return undefined;
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ["ES256"], issuer: COMPONENT_ISSUER, audience, clockTolerance: 60 });
      if (payload.sub !== COMPONENT_USERS.apiserver) return null;
      return { user: { username: payload.sub, groups: [AUTHENTICATED_GROUP] }, exp: (payload.exp ?? 0) * 1000 };
    } catch {
      return null;
    }
  }

  async function decide(token: string): Promise<Decision> {
    const now = Date.now();
    if (looksLikeJWT(token)) {
      const local = await verifyLocally(token);
      if (local) return { user: local.user, allowed: true, until: Math.min(now + ttl, local.exp) };
      if (local === undefined) {
        // Signed by a key this node has not seen (another server of an HA cluster): let the API server check it.
        const u = await review(token, [audience]);
        if (u?.username === COMPONENT_USERS.apiserver) return { user: u, allowed: true, until: now + Math.min(ttl, 60_000) };
      }
    }
    const u = await review(token);
    const ok = !!u && (allowed.has(u.username) || (allowMasters && u.groups.includes(PRIVILEGED_GROUP)));
    return { user: u, allowed: ok, until: now + (ok ? ttl : 5_000) };
  }

  async function check(authorization: string | null | undefined): Promise<{ user: UserInfo | null; allowed: boolean }> {
    const m = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!m) return { user: null, allowed: false };
    const token = m[1]!;
    const hit = cache.get(token);
    if (hit && hit.until > Date.now()) return hit;
    let d: Decision;
    try {
      d = await decide(token);
    } catch {
      // API server unreachable: only a still-cached positive answer would do, and that was handled above.
      return { user: null, allowed: false };
    }
    if (cache.size > 1000) cache.clear();
    cache.set(token, d);
    return d;
  }

  return {
    check,
    async authenticate(authorization) {
      const d = await check(authorization);
      return d.allowed ? d.user : null;
    },
  };
}
