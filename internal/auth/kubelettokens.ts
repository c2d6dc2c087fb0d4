// The API server's per-kubelet tokens (see issueKubeletToken): one cached per node, re-signed when less than a
// minute of its few minutes is left, so a request in flight never carries a token about to expire.
import type { KubunAuthenticator } from "./authenticator.ts";

export function kubeletTokenSource(authn: Pick<KubunAuthenticator, "issueKubeletToken">): (nodeName: string) => Promise<string> {
  const cache = new Map<string, { token: string; expiresAt: number }>();
  return async (nodeName) => {
    const hit = cache.get(nodeName);
    if (hit && hit.expiresAt - Date.now() > 60_000) return hit.token;
    const fresh = await authn.issueKubeletToken(nodeName);
    if (cache.size > 10_000) cache.clear();
    cache.set(nodeName, fresh);
    return fresh.token;
  };
}
