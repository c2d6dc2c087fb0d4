// Bootstrap tokens as extra join tokens (`kubun token create`, as k3s and kubeadm): "<id>.<secret>" with a 6- and a
// 16-character [a-z0-9] part, kept as Secrets kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token
// (upstream's layout: token-id, token-secret, expiration RFC 3339, description, usage-bootstrap-*, auth-extra-groups).
// The join route accepts one (bare, or as the credentials of a K10 token) while it exists, has not expired and allows
// authentication. Deleting the Secret revokes it; nodes that joined with it keep their own node credentials.
import type { Store } from "../store/types.ts";
import { safeEqual } from "./tokenformat.ts";

export const BOOTSTRAP_TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
export const BOOTSTRAP_TOKEN_SECRET_TYPE = "bootstrap.kubernetes.io/token";
export const BOOTSTRAP_TOKEN_NAMESPACE = "kube-system";
export const bootstrapTokenSecretName = (id: string) => `bootstrap-token-${id}`;

function field(data: Record<string, unknown> | undefined, key: string): string | undefined {
  const v = data?.[key];
  return typeof v === "string" ? Buffer.from(v, "base64").toString("utf8") : undefined;
}

/** Whether `presented` ("<id>.<secret>") is a valid, unexpired bootstrap token allowed to authenticate. */
export async function verifyBootstrapToken(store: Store, presented: string, now = new Date()): Promise<boolean> {
  const m = BOOTSTRAP_TOKEN_RE.exec(presented);
  if (!m) return false;
  const [, id, secret] = m;
  const { kv } = await store.get(`/registry/core/secrets/${BOOTSTRAP_TOKEN_NAMESPACE}/${bootstrapTokenSecretName(id!)}`);
  if (!kv) return false;
  let obj: { type?: unknown; data?: Record<string, unknown>; metadata?: { deletionTimestamp?: unknown } };
  try {
    obj = JSON.parse(kv.value);
  } catch {
    return false;
  }
  if (obj.type !== BOOTSTRAP_TOKEN_SECRET_TYPE || obj.metadata?.deletionTimestamp) return false;
  if (field(obj.data, "token-id") !== id) return false;
  const stored = field(obj.data, "token-secret");
  if (!stored || !safeEqual(stored, secret!)) return false;
  if (field(obj.data, "usage-bootstrap-authentication") !== "true") return false;
  const expiration = field(obj.data, "expiration");
  if (expiration) {
    const t = Date.parse(expiration);
    // An unparsable expiration is treated as expired, as upstream does.
    if (!Number.isFinite(t) || t <= now.getTime()) return false;
  }
  return true;
}
