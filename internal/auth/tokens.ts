// Static credentials kept in the data dir: the admin bearer token and the join token agents use.
// The join token has k3s's "secure" format, K10<ca-hash>::server:<secret>, where ca-hash is the sha256 (hex) of the
// CA certificate PEM exactly as stored on disk, so a joining agent can check the server's identity before it sends
// the secret (see join.ts).
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { timingSafeEqual } from "node:crypto";
import { readIfExists, randomHex, writeAtomic } from "./files.ts";
import { PKI_FILES, tlsDir } from "./pki.ts";

export interface Tokens {
  /** Bearer token of system:admin (group system:masters); goes into the admin kubeconfig. */
  adminToken: string;
  /** Full join token: K10<sha256 of CA PEM>::server:<secret>. Written to <dataDir>/server/token. */
  joinToken: string;
}

export const TOKEN_PREFIX = "K10";

export function adminTokenPath(dataDir: string): string {
  return join(dataDir, "server", "cred", "admin-token");
}

export function joinTokenPath(dataDir: string): string {
  return join(dataDir, "server", "token");
}

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

/** Constant-time string comparison for secrets. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) return false;
  return timingSafeEqual(ab, bb);
}

/**
 * Loads or creates the admin token and the join token. Call after ensurePKI (the join token embeds the CA hash).
 * `token` (the --token flag) fixes the join secret: a bare secret or a full K10 token (its hash must match our CA).
 */
export async function ensureTokens(dataDir: string, opts: { token?: string } = {}): Promise<Tokens> {
  const caPEM = readFileSync(join(tlsDir(dataDir), PKI_FILES.caCert), "utf8");

  let adminToken = readIfExists(adminTokenPath(dataDir))?.trim();
  if (!adminToken) {
    adminToken = randomHex(32);
    writeAtomic(adminTokenPath(dataDir), adminToken + "\n", 0o600);
  }

  let secret: string | undefined;
  if (opts.token) {
    const p = parseToken(opts.token);
    if (p.caHash && p.caHash !== caHash(caPEM)) {
      throw new Error("token CA hash does not match this server's CA (server/tls/server-ca.crt)");
    }
    secret = p.secret;
  } else {
    const existing = readIfExists(joinTokenPath(dataDir))?.trim();
    if (existing) secret = parseToken(existing).secret;
  }
  secret ??= randomHex(32);
  const joinToken = formatToken(caPEM, secret);
  if (readIfExists(joinTokenPath(dataDir))?.trim() !== joinToken) {
    writeAtomic(joinTokenPath(dataDir), joinToken + "\n", 0o600);
  }
  return { adminToken, joinToken };
}
