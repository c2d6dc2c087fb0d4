// `kubun token create|list|delete`: bootstrap tokens as extra join tokens (see auth/bootstraptokens.ts), managed
// through the running server's API with the admin kubeconfig, as `k3s token` and `kubeadm token` do.
import { createClient } from "../client/client.ts";
import { fromKubeconfig } from "../client/kubeconfig.ts";
import { refs } from "../client/refs.ts";
import { ApiError, type ClientConfig } from "../client/types.ts";
import {
  BOOTSTRAP_TOKEN_NAMESPACE,
  BOOTSTRAP_TOKEN_RE,
  BOOTSTRAP_TOKEN_SECRET_TYPE,
  bootstrapTokenSecretName,
} from "../auth/bootstraptokens.ts";
import { caHash, TOKEN_PREFIX } from "../auth/tokenformat.ts";

export const USAGES = ["authentication", "signing"] as const;
const GROUP_RE = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;

export interface BootstrapTokenInfo {
  token: string;
  id: string;
  ttl: string;
  expires?: string;
  usages: string[];
  description: string;
  groups: string[];
}

/** Go duration ("24h", "1h30m", "90s") in ms; "0" = no expiry. Hand-written: three lines, no npm parser needed. */
export function parseTTL(s: string): number {
  if (s === "0") return 0;
  const parts = [...s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (!parts.length || parts.map((p) => p[0]).join("") !== s) throw new Error(`invalid --ttl ${JSON.stringify(s)}: want a duration like 24h, 30m or 0 (never expires)`);
  return parts.reduce((t, p) => t + Number(p[1]) * unit[p[2]!]!, 0);
}

function randomChars(n: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  // Rejection sampling: 252 = 7 × 36, so every character is equally likely.
  while (out.length < n) {
    for (const b of crypto.getRandomValues(new Uint8Array(n * 2))) if (b < 252 && out.length < n) out += alphabet[b % 36];
  }
  return out;
}

function b64(s: string): string {
  return Buffer.from(s).toString("base64");
}

function unb64(s: unknown): string {
  return typeof s === "string" ? Buffer.from(s, "base64").toString("utf8") : "";
}

function humanTTL(ms: number): string {
  if (ms <= 0) return "<invalid>";
  const h = Math.floor(ms / 3_600_000);
  if (h >= 48) return `${Math.floor(h / 24)}d`;
  if (h >= 1) return `${h}h`;
  return `${Math.max(1, Math.floor(ms / 60_000))}m`;
}

export function adminClientConfig(kubeconfigPath: string): ClientConfig {
  try {
    return fromKubeconfig(kubeconfigPath);
  } catch (e) {
    throw new Error(`cannot read the admin kubeconfig ${kubeconfigPath} (--kubeconfig): ${(e as Error).message.split("\n")[0]}`);
  }
}

const secrets = (cfg: ClientConfig) => createClient(cfg).resource(refs.secrets, BOOTSTRAP_TOKEN_NAMESPACE);

/** The token as users pass it to agents: K10<CA hash>::<id>.<secret>, so agents check the server first. */
function fullToken(cfg: ClientConfig, token: string): string {
  return cfg.caPEM ? `${TOKEN_PREFIX}${caHash(cfg.caPEM)}::${token}` : token;
}

export async function createBootstrapToken(
  cfg: ClientConfig,
  o: { ttl: string; description?: string; usages: string[]; groups: string[]; token?: string; now?: Date },
): Promise<BootstrapTokenInfo> {
  const ttlMs = parseTTL(o.ttl);
  for (const u of o.usages) if (!(USAGES as readonly string[]).includes(u)) throw new Error(`invalid --usages ${JSON.stringify(u)}: valid usages are ${USAGES.join(", ")}`);
  for (const g of o.groups) if (!GROUP_RE.test(g)) throw new Error(`invalid --groups ${JSON.stringify(g)}: must match ${GROUP_RE.source}`);
  const token = o.token ?? `${randomChars(6)}.${randomChars(16)}`;
  const m = BOOTSTRAP_TOKEN_RE.exec(token);
  if (!m) throw new Error(`invalid token ${JSON.stringify(token)}: want [a-z0-9]{6}.[a-z0-9]{16}`);
  const now = o.now ?? new Date();
  const expires = ttlMs > 0 ? new Date(now.getTime() + ttlMs).toISOString().replace(/\.\d{3}Z$/, "Z") : undefined;
  const data: Record<string, string> = { "token-id": b64(m[1]!), "token-secret": b64(m[2]!) };
  if (expires) data.expiration = b64(expires);
  if (o.description) data.description = b64(o.description);
  for (const u of o.usages) data[`usage-bootstrap-${u}`] = b64("true");
  if (o.groups.length) data["auth-extra-groups"] = b64(o.groups.join(","));
  try {
    await secrets(cfg).create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: bootstrapTokenSecretName(m[1]!), namespace: BOOTSTRAP_TOKEN_NAMESPACE },
      type: BOOTSTRAP_TOKEN_SECRET_TYPE,
      data,
    });
  } catch (e) {
    if (e instanceof ApiError && e.code === 409) throw new Error(`a bootstrap token with id ${JSON.stringify(m[1])} already exists`);
    throw e;
  }
  return { token: fullToken(cfg, token), id: m[1]!, ttl: expires ? humanTTL(ttlMs) : "<forever>", expires, usages: o.usages, description: o.description ?? "", groups: o.groups };
}

export async function listBootstrapTokens(cfg: ClientConfig, now = new Date()): Promise<BootstrapTokenInfo[]> {
  const list = await secrets(cfg).list();
  return list.items
    .filter((s: any) => s.type === BOOTSTRAP_TOKEN_SECRET_TYPE)
    .map((s: any) => {
      const d = s.data ?? {};
      const id = unb64(d["token-id"]);
      const expires = unb64(d.expiration) || undefined;
      return {
        token: fullToken(cfg, `${id}.${unb64(d["token-secret"])}`),
        id,
        ttl: expires ? humanTTL(Date.parse(expires) - now.getTime()) : "<forever>",
        expires,
        usages: USAGES.filter((u) => unb64(d[`usage-bootstrap-${u}`]) === "true"),
        description: unb64(d.description),
        groups: unb64(d["auth-extra-groups"]).split(",").filter(Boolean),
      };
    })
    .sort((a: BootstrapTokenInfo, b: BootstrapTokenInfo) => a.id.localeCompare(b.id));
}

/** Deletes by id, by "<id>.<secret>" or by a K10 token carrying one. */
export async function deleteBootstrapToken(cfg: ClientConfig, idOrToken: string): Promise<string> {
  const bare = idOrToken.includes("::") ? idOrToken.slice(idOrToken.indexOf("::") + 2) : idOrToken;
  const id = bare.split(".")[0]!;
  if (!/^[a-z0-9]{6}$/.test(id)) throw new Error(`invalid token id ${JSON.stringify(id)}: want 6 characters [a-z0-9] (see 'kubun token list')`);
  try {
    await secrets(cfg).delete(bootstrapTokenSecretName(id));
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) throw new Error(`bootstrap token ${JSON.stringify(id)} not found`);
    throw e;
  }
  return id;
}
