// Static credentials kept in the data dir: the admin bearer token and the join token agents use.
// The join token has k3s's "secure" format, K10<ca-hash>::server:<secret>, where ca-hash is the sha256 (hex) of the
// CA certificate PEM exactly as stored on disk, so a joining agent can check the server's identity before it sends
// the secret (see join.ts).
import { join } from "node:path";
import { existsSync, lstatSync, readFileSync, symlinkSync } from "node:fs";
import { writeAtomic } from "../api/files.ts";
import { readIfExists, randomHex } from "./files.ts";
import { PKI_FILES, tlsDir, adminTokenPath, joinTokenPath } from "./paths.ts";
import { publishClusterBootstrap, resealClusterBootstrap } from "./bootstrap.ts";
import type { Store } from "../store/types.ts";
import { TOKEN_PREFIX, caHash, parseToken, formatToken, safeEqual, type ParsedToken } from "./tokenformat.ts";

export interface Tokens {
  /** Bearer token of system:admin (group system:masters); goes into the admin kubeconfig. */
  adminToken: string;
  /** Full join token: K10<sha256 of CA PEM>::server:<secret>. Written to <dataDir>/server/token. */
  joinToken: string;
}

export { TOKEN_PREFIX, caHash, parseToken, formatToken, safeEqual, adminTokenPath, joinTokenPath };
export type { ParsedToken };

/**
 * Loads or creates the admin token and the join token. Call after ensurePKI (the join token embeds the CA hash).
 * `token` (the --token flag) fixes the join secret: a bare secret or a full K10 token (its hash must match our CA).
 */
export async function ensureTokens(dataDir: string, opts: { token?: string; store?: Store } = {}): Promise<Tokens> {
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
  ensureNodeTokenLink(dataDir);
  // HA: the first server publishes the (encrypted) CA and admin token for the others.
  if (opts.store) await publishClusterBootstrap(dataDir, opts.store, joinToken);
  return { adminToken, joinToken };
}

/**
 * Replaces the join secret (`kubun token rotate`): new agents need the new token; nodes already joined keep their
 * own node credentials. With `store`, the shared bootstrap data is re-sealed with the new secret. Returns the token.
 * Other HA servers keep accepting the old secret until they restart with the new --token.
 */
export async function rotateJoinToken(dataDir: string, opts: { newSecret?: string; store?: Store } = {}): Promise<string> {
  const caPEM = readFileSync(join(tlsDir(dataDir), PKI_FILES.caCert), "utf8");
  const secret = opts.newSecret ? parseToken(opts.newSecret).secret.replace(/^server:/, "") : randomHex(32);
  const joinToken = formatToken(caPEM, secret);
  writeAtomic(joinTokenPath(dataDir), joinToken + "\n", 0o600);
  if (opts.store) await resealClusterBootstrap(dataDir, opts.store, joinToken);
  return joinToken;
}

/** k3s users know <data-dir>/server/node-token; keep it as a symlink to the token file. */
function ensureNodeTokenLink(dataDir: string): void {
  const link = join(dataDir, "server", "node-token");
  let present = existsSync(link);
  try {
    present = present || lstatSync(link).isSymbolicLink();
  } catch {
    /* absent */
  }
  if (!present) symlinkSync("token", link);
}
