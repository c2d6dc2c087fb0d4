// Node credentials: per node, a random bearer token for the kubelet (`kubun-node~<node>~<secret>`, user
// system:node:<node>), one for its service proxy (`kubun-proxy~<node>~<secret>`, user system:kube-proxy) and one for
// its ingress proxy (`kubun-ingress~<node>~<secret>`, user system:kubun-ingress: it may read Secrets, so it is kept
// apart from the kubelet's identity, as upstream ingress controllers run under their own ServiceAccount).
// Only their sha256 is kept, with an expiry, in the store under /kubun/node-credentials/<node> (not the data dir:
// they survive restarts and work against every server sharing the store).
// - Revocable: deleting the key revokes both (done when the Node is deleted, see nodecleanup.ts).
// - Rotated: they expire after NODE_CREDENTIALS_TTL_MS; the agent renews them (with the node token itself) when
//   half the lifetime is gone, and issuing again replaces the previous pair at once.
import { KeyExistsError, ConflictError, NotFoundError, type Store } from "../store/types.ts";
import { safeEqual } from "./tokenformat.ts";
import { randomHex } from "./files.ts";

export const NODE_CREDS_PREFIX = "/kubun/node-credentials/";
const PREFIXES = { node: "kubun-node~", proxy: "kubun-proxy~", ingress: "kubun-ingress~" } as const;
export type NodeCredentialKind = keyof typeof PREFIXES;

/** 7 days: a node switched off for longer joins again with the join token and its node password. */
export const NODE_CREDENTIALS_TTL_MS = 7 * 86_400_000;

// DNS-1123 subdomain, as Node names must be.
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function validNodeName(name: unknown): name is string {
  return typeof name === "string" && name.length > 0 && name.length <= 253 && NODE_NAME.test(name);
}

function sha256(s: string): string {
  return new Bun.CryptoHasher("sha256").update(s).digest("hex");
}

interface CredRecord {
  sha256?: string;
  proxySha256?: string;
  ingressSha256?: string;
  issued?: string;
  /** RFC 3339; records written before expiry existed count from `issued`. */
  expires?: string;
}

export function parseNodeToken(token: string): { nodeName: string; secret: string; kind: NodeCredentialKind } | undefined {
  for (const kind of ["node", "proxy", "ingress"] as const) {
    const prefix = PREFIXES[kind];
    if (!token.startsWith(prefix)) continue;
    const rest = token.slice(prefix.length);
    const i = rest.lastIndexOf("~");
    if (i <= 0) return undefined;
    const nodeName = rest.slice(0, i);
    const secret = rest.slice(i + 1);
    if (!validNodeName(nodeName) || !secret) return undefined;
    return { nodeName, secret, kind };
  }
  return undefined;
}

export interface IssuedNodeCredentials {
  nodeToken: string;
  proxyToken: string;
  ingressToken: string;
  expiresAt: Date;
}

/** Creates (or replaces) the node's token pair and returns it. */
export async function issueNodeCredentials(store: Store, nodeName: string, ttlMs = NODE_CREDENTIALS_TTL_MS): Promise<IssuedNodeCredentials> {
  if (!validNodeName(nodeName)) throw new Error(`invalid node name ${JSON.stringify(nodeName)}: must be a DNS-1123 subdomain`);
  const secret = randomHex(32);
  const proxySecret = randomHex(32);
  const ingressSecret = randomHex(32);
  const now = Date.now();
  const expiresAt = new Date(now + ttlMs);
  const rec: CredRecord = { sha256: sha256(secret), proxySha256: sha256(proxySecret), ingressSha256: sha256(ingressSecret), issued: new Date(now).toISOString(), expires: expiresAt.toISOString() };
  const value = JSON.stringify(rec);
  const key = NODE_CREDS_PREFIX + nodeName;
  for (let attempt = 0; attempt < 5; attempt++) {
    const { kv } = await store.get(key);
    try {
      if (kv) await store.update(key, value, kv.modRevision);
      else await store.create(key, value);
      return { nodeToken: `${PREFIXES.node}${nodeName}~${secret}`, proxyToken: `${PREFIXES.proxy}${nodeName}~${proxySecret}`, ingressToken: `${PREFIXES.ingress}${nodeName}~${ingressSecret}`, expiresAt };
    } catch (err) {
      if (err instanceof KeyExistsError || err instanceof ConflictError || err instanceof NotFoundError) continue;
      throw err;
    }
  }
  throw new Error(`could not store credentials for node ${nodeName}: too many concurrent updates`);
}

/** Creates (or replaces) the node's credentials and returns the kubelet's token. */
export async function issueNodeToken(store: Store, nodeName: string): Promise<string> {
  return (await issueNodeCredentials(store, nodeName)).nodeToken;
}

/** The node a token belongs to and which of its credentials it is, or undefined when unknown, revoked or expired. */
export async function verifyNodeCredential(store: Store, token: string): Promise<{ nodeName: string; kind: NodeCredentialKind; expiresAt: number } | undefined> {
  const p = parseNodeToken(token);
  if (!p) return undefined;
  const { kv } = await store.get(NODE_CREDS_PREFIX + p.nodeName);
  if (!kv) return undefined;
  let rec: CredRecord;
  try {
    rec = JSON.parse(kv.value) as CredRecord;
  } catch {
    return undefined;
  }
  const expiresAt = rec.expires ? Date.parse(rec.expires) : Date.parse(rec.issued ?? "") + NODE_CREDENTIALS_TTL_MS;
  if (!(expiresAt > Date.now())) return undefined;
  const want = p.kind === "node" ? rec.sha256 : p.kind === "proxy" ? rec.proxySha256 : rec.ingressSha256;
  return want && safeEqual(want, sha256(p.secret)) ? { nodeName: p.nodeName, kind: p.kind, expiresAt } : undefined;
}

/** The node name a kubelet token belongs to, or undefined when unknown/revoked/expired (proxy tokens don't count). */
export async function verifyNodeToken(store: Store, token: string): Promise<string | undefined> {
  const v = await verifyNodeCredential(store, token);
  return v?.kind === "node" ? v.nodeName : undefined;
}

export async function revokeNodeToken(store: Store, nodeName: string): Promise<void> {
  try {
    await store.delete(NODE_CREDS_PREFIX + nodeName);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}
