// The join token format (k3s's "secure" token): K10<sha256 hex of the CA PEM as stored>::<user>:<secret>.

export const TOKEN_PREFIX = "K10";

export function caHash(caPEM: string): string {
  return new Bun.CryptoHasher("sha256").update(caPEM).digest("hex");
}

export interface ParsedToken {
  /** Hex sha256 of the CA PEM, when the token is in the secure (K10) format. */
  caHash?: string;
  /** "server" for server tokens (k3s also has "node"); undefined for short tokens. */
  username?: string;
  /** The secret part. */
  secret: string;
}

/** Parses a secure (K10<hash>::<user>:<secret>) or short (bare secret) token. */
export function parseToken(token: string): ParsedToken {
  const t = token.trim();
  if (!t) throw new Error("empty token");
  if (!t.startsWith(TOKEN_PREFIX)) return { secret: t };
  const sep = t.indexOf("::");
  if (sep < 0) throw new Error("invalid token: K10 token without '::' separator");
  const hash = t.slice(TOKEN_PREFIX.length, sep);
  if (!/^[0-9a-f]{64}$/i.test(hash)) throw new Error("invalid token: CA hash is not a sha256 hex digest");
  const creds = t.slice(sep + 2);
  const colon = creds.indexOf(":");
  const username = colon >= 0 ? creds.slice(0, colon) : undefined;
  const secret = colon >= 0 ? creds.slice(colon + 1) : creds;
  if (!secret) throw new Error("invalid token: empty secret");
  return { caHash: hash.toLowerCase(), username, secret };
}

export function formatToken(caPEM: string, secret: string): string {
  return `${TOKEN_PREFIX}${caHash(caPEM)}::server:${secret}`;
}

/**
 * Constant-time string comparison for secrets. Hand-written on purpose: node:crypto's timingSafeEqual costs ~4 MB
 * of memory to load in Bun, for a five-line loop.
 */
export function safeEqual(a: string, b: string): boolean {
  const ab = new TextEncoder().encode(a);
  const bb = new TextEncoder().encode(b);
  let diff = ab.length ^ bb.length;
  const n = Math.max(ab.length, bb.length);
  for (let i = 0; i < n; i++) diff |= (ab[i] ?? 0) ^ (bb[i] ?? 0);
  return diff === 0;
}

