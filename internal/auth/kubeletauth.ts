// For the kubelet's HTTPS API (10250): who may call it. Bearer tokens are checked with a TokenReview against the API
// server (upstream's webhook authentication; system:node may create tokenreviews), and only the API server's own
// identity (system:kube-apiserver) or members of system:masters are let in — a simplification of upstream's
// SubjectAccessReview on nodes/proxy that matches who kubun lets call kubelets. Results are cached briefly.
import type { UserInfo } from "./types.ts";

export interface KubeletAuthOptions {
  /** API server URL. */
  server: string;
  caPEM: string;
  /** The node's own token (used to call TokenReview). */
  token: string;
  /** Users allowed besides system:masters members; default ["system:kube-apiserver"]. */
  allowedUsers?: string[];
  cacheTtlMs?: number;
}

export interface KubeletAuthenticator {
  /** The caller when allowed; null for a missing/invalid token or a user who may not call the kubelet. */
  authenticate(authorization: string | null | undefined): Promise<UserInfo | null>;
}

export function createKubeletAuthenticator(opts: KubeletAuthOptions): KubeletAuthenticator {
  const allowed = new Set(opts.allowedUsers ?? ["system:kube-apiserver"]);
  const ttl = opts.cacheTtlMs ?? 60_000;
  const cache = new Map<string, { user: UserInfo | null; until: number }>();
  const server = opts.server.replace(/\/+$/, "");

  async function review(token: string): Promise<UserInfo | null> {
    const res = await fetch(`${server}/apis/authentication.k8s.io/v1/tokenreviews`, {
      method: "POST",
      headers: { authorization: `Bearer ${opts.token}`, "content-type": "application/json" },
      body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } }),
      tls: { ca: opts.caPEM },
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`TokenReview failed: HTTP ${res.status}`);
    const status = ((await res.json()) as any)?.status;
    if (!status?.authenticated) return null;
    return { username: status.user?.username ?? "", uid: status.user?.uid, groups: status.user?.groups ?? [] };
  }

  return {
    async authenticate(authorization) {
      const m = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
      if (!m) return null;
      const token = m[1]!;
      const now = Date.now();
      const hit = cache.get(token);
      if (hit && hit.until > now) return hit.user;
      let user: UserInfo | null;
      try {
        user = await review(token);
      } catch {
        // API server unreachable: only a still-cached positive answer would do, and that was handled above.
        return null;
      }
      const ok = user && (allowed.has(user.username) || user.groups.includes("system:masters")) ? user : null;
      if (cache.size > 1000) cache.clear();
      cache.set(token, { user: ok, until: now + (ok ? ttl : 5_000) });
      return ok;
    },
  };
}
