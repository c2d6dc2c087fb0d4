// Node credentials: a random bearer token per node, `kubun-node~<nodeName>~<secret>`, of which only the sha256 is
// kept, in the store under /kubun/node-credentials/<nodeName>. Kept in the store (not the data dir) so tokens
// survive restarts and work against every server sharing the store. Issuing again for the same node replaces the
// previous token (an agent that lost its cache re-joins); deleting the key revokes it.
import { KeyExistsError, ConflictError, NotFoundError, type Store } from "../store/types.ts";
import { safeEqual } from "./tokenformat.ts";
import { randomHex } from "./files.ts";

export const NODE_CREDS_PREFIX = "/kubun/node-credentials/";
const TOKEN_PREFIX = "kubun-node~";

// DNS-1123 subdomain, as Node names must be.
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function validNodeName(name: unknown): name is string {
  return typeof name === "string" && name.length > 0 && name.length <= 253 && NODE_NAME.test(name);
}

function sha256(s: string): string {
  return new Bun.CryptoHasher("sha256").update(s).digest("hex");
}

export function parseNodeToken(token: string): { nodeName: string; secret: string } | undefined {
  if (!token.startsWith(TOKEN_PREFIX)) return undefined;
  const rest = token.slice(TOKEN_PREFIX.length);
  const i = rest.lastIndexOf("~");
  if (i <= 0) return undefined;
  const nodeName = rest.slice(0, i);
  const secret = rest.slice(i + 1);
  if (!validNodeName(nodeName) || !secret) return undefined;
  return { nodeName, secret };
}

/** Creates (or replaces) the node's token and returns it. */
export async function issueNodeToken(store: Store, nodeName: string): Promise<string> {
  if (!validNodeName(nodeName)) throw new Error(`invalid node name ${JSON.stringify(nodeName)}: must be a DNS-1123 subdomain`);
  const secret = randomHex(32);
  const value = JSON.stringify({ sha256: sha256(secret), issued: new Date().toISOString() });
  const key = NODE_CREDS_PREFIX + nodeName;
  for (let attempt = 0; attempt < 5; attempt++) {
    const { kv } = await store.get(key);
    try {
      if (kv) await store.update(key, value, kv.modRevision);
      else await store.create(key, value);
      return `${TOKEN_PREFIX}${nodeName}~${secret}`;
    } catch (err) {
      if (err instanceof KeyExistsError || err instanceof ConflictError || err instanceof NotFoundError) continue;
      throw err;
    }
  }
  throw new Error(`could not store credentials for node ${nodeName}: too many concurrent updates`);
}

/** The node name the token belongs to, or undefined when unknown/revoked. */
export async function verifyNodeToken(store: Store, token: string): Promise<string | undefined> {
  const p = parseNodeToken(token);
  if (!p) return undefined;
  const { kv } = await store.get(NODE_CREDS_PREFIX + p.nodeName);
  if (!kv) return undefined;
  try {
    const rec = JSON.parse(kv.value) as { sha256?: string };
    return rec.sha256 && safeEqual(rec.sha256, sha256(p.secret)) ? p.nodeName : undefined;
  } catch {
    return undefined;
  }
}

export async function revokeNodeToken(store: Store, nodeName: string): Promise<void> {
  try {
    await store.delete(NODE_CREDS_PREFIX + nodeName);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}
