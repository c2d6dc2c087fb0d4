// Agent side of joining a cluster, as k3s's clientaccess: with a secure token (K10<ca-hash>::server:<secret>) the
// agent downloads /cacerts WITHOUT verifying TLS, only to learn the CA; it compares the CA's sha256 with the hash in
// the token and refuses (never sending the token) on mismatch; then it asks for node credentials over TLS verified
// by that CA. Credentials are cached in <dataDir>/agent/cred/node-credentials.json (0600), so an agent restarted
// while the server is unreachable still has them.
// The node proves it is the node that first joined under its name with a node password (as k3s), kept in
// <dataDir>/agent/cred/node-password (0600) and made on first join. Credentials expire; renewNodeCredentials gets
// fresh ones with the node token itself (see internal/agent/credentials.ts for the loop).
import { join } from "node:path";
import { caHash, parseToken } from "./tokenformat.ts";
import { writeAtomic } from "../api/files.ts";
import { randomHex, readIfExists } from "./files.ts";
import { CACERTS_PATH, NODE_CREDENTIALS_PATH } from "./paths.ts";
import { logger } from "../log/log.ts";

const log = logger("join");

export interface JoinOptions {
  /** https://host:port of any server. */
  server: string;
  /** Join token: K10<hash>::server:<secret> (verified) or a bare secret (CA trusted on first use, as k3s). */
  token: string;
  nodeName: string;
  /** Agent data dir; when given, credentials are cached under agent/cred/. */
  dataDir?: string;
  /** Abort slow requests (default 15 s each). */
  timeoutMs?: number;
  /** The node password; default: the one in <dataDir>/agent/cred/node-password (made on first use), else a random one. */
  password?: string;
  /** The kubelet's serving public key (SPKI PEM): asks for a CA-signed serving certificate for it. */
  servingPublicKey?: string;
  /** The node's IPs, for the serving certificate. */
  addresses?: string[];
}

export interface NodeCredentials {
  caPEM: string;
  /** Bearer token of system:node:<nodeName> (group system:nodes): the kubelet's identity. */
  nodeToken: string;
  /** Bearer token of system:kube-proxy (ClusterRole system:node-proxier): for the node's service proxy. */
  proxyToken?: string;
  /** Bearer token of system:kubun-ingress (ClusterRole system:kubun-ingress): for the node's ingress proxy. */
  ingressToken?: string;
  /** When the tokens expire (RFC 3339). */
  expires?: string;
  /** The kubelet's serving certificate (cluster CA), when a servingPublicKey was sent. */
  servingCert?: string;
  /** JWKS of the keys that sign the API server's tokens to kubelets. */
  kubeletVerificationKeys?: { keys: unknown[] };
}

/** The node password file; created (0600) with 256 random bits on first use. */
export function nodePasswordPath(dataDir: string): string {
  return join(dataDir, "agent", "cred", "node-password");
}

export function loadNodePassword(dataDir: string): string {
  const path = nodePasswordPath(dataDir);
  const existing = readIfExists(path)?.trim();
  if (existing) return existing;
  const pw = randomHex(32);
  writeAtomic(path, pw + "\n", 0o600);
  return pw;
}

export class CAHashMismatchError extends Error {
  constructor(
    public server: string,
    public expected: string,
    public actual: string,
  ) {
    super(
      `the CA presented by ${server} (sha256 ${actual}) does not match the hash in the join token (${expected}); ` +
        `refusing to send the token — check --server and --token`,
    );
  }
}

export function credentialsPath(dataDir: string): string {
  return join(dataDir, "agent", "cred", "node-credentials.json");
}

interface CachedCreds extends NodeCredentials {
  server: string;
  nodeName: string;
  /** The IPs the serving certificate was issued for. */
  addresses?: string[];
}

function base(server: string): string {
  return server.replace(/\/+$/, "");
}

/** Fetches the CA without trusting anything yet, and checks it against the token's hash when there is one. */
export async function fetchVerifiedCA(server: string, token: string, timeoutMs = 15_000): Promise<string> {
  const parsed = parseToken(token);
  const res = await fetch(base(server) + CACERTS_PATH, {
    tls: { rejectUnauthorized: false },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`GET ${base(server)}${CACERTS_PATH}: HTTP ${res.status}`);
  const caPEM = await res.text();
  if (!caPEM.includes("-----BEGIN CERTIFICATE-----")) throw new Error(`${base(server)}${CACERTS_PATH} did not return a PEM certificate`);
  if (parsed.caHash) {
    const actual = caHash(caPEM);
    if (actual !== parsed.caHash) throw new CAHashMismatchError(server, parsed.caHash, actual);
  } else {
    log.warn("join token has no CA hash: trusting the server's CA on first use", { server });
  }
  return caPEM;
}

/** Asks the server for this node's credentials, over TLS verified with caPEM. */
export async function requestNodeCredentials(opts: CredentialsRequestOptions): Promise<string> {
  return (await requestNodeCredentialsFull(opts)).nodeToken;
}

interface CredentialsRequestOptions {
  server: string;
  caPEM: string;
  /** The join token (with `password`), or the node's current token for a renewal. */
  token: string;
  nodeName: string;
  password?: string;
  servingPublicKey?: string;
  addresses?: string[];
  timeoutMs?: number;
}

/** Like requestNodeCredentials, with everything the server returns. */
export async function requestNodeCredentialsFull(opts: CredentialsRequestOptions): Promise<Omit<NodeCredentials, "caPEM">> {
  const res = await fetch(base(opts.server) + NODE_CREDENTIALS_PATH, {
    method: "POST",
    headers: { authorization: `Bearer ${opts.token.trim()}`, "content-type": "application/json" },
    body: JSON.stringify({ nodeName: opts.nodeName, nodePassword: opts.password, servingPublicKey: opts.servingPublicKey, addresses: opts.addresses }),
    tls: { ca: opts.caPEM },
    signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
  });
  if (res.status === 401) throw new CredentialsRejectedError(`server ${opts.server} rejected the ${opts.password === undefined ? "node" : "join"} token (401 Unauthorized)`);
  if (!res.ok) {
    let msg = `HTTP ${res.status}`;
    try {
      msg = ((await res.json()) as any)?.message ?? msg;
    } catch {
      /* not JSON */
    }
    throw new Error(`node credentials request to ${opts.server} failed: ${msg}`);
  }
  const body = (await res.json()) as { token?: string; proxyToken?: string; ingressToken?: string; expires?: string; servingCert?: string; kubeletVerificationKeys?: { keys: unknown[] } };
  if (!body.token) throw new Error(`node credentials response from ${opts.server} has no token`);
  return { nodeToken: body.token, proxyToken: body.proxyToken, ingressToken: body.ingressToken, expires: body.expires, servingCert: body.servingCert, kubeletVerificationKeys: body.kubeletVerificationKeys };
}

export class CredentialsRejectedError extends Error {}

/** Fresh credentials (and serving certificate) for a joined node, authenticated by its current node token. */
export async function renewNodeCredentials(opts: {
  server: string;
  current: NodeCredentials;
  nodeName: string;
  servingPublicKey?: string;
  addresses?: string[];
  dataDir?: string;
  timeoutMs?: number;
}): Promise<NodeCredentials> {
  const fresh = await requestNodeCredentialsFull({ ...opts, caPEM: opts.current.caPEM, token: opts.current.nodeToken });
  const creds: NodeCredentials = { caPEM: opts.current.caPEM, ...fresh };
  if (opts.dataDir) cacheCredentials(opts.dataDir, opts.server, opts.nodeName, creds, opts.addresses);
  return creds;
}

function cacheCredentials(dataDir: string, server: string, nodeName: string, creds: NodeCredentials, addresses?: string[]): void {
  const rec: CachedCreds = { server, nodeName, ...creds, addresses };
  writeAtomic(credentialsPath(dataDir), JSON.stringify(rec, null, 2) + "\n", 0o600);
}

/** Whether the server still accepts the cached node token: false only on a definite 401. */
async function stillValid(server: string, creds: NodeCredentials, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(base(server) + "/api", {
      headers: { authorization: `Bearer ${creds.nodeToken}` },
      tls: { ca: creds.caPEM },
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.status !== 401;
  } catch {
    return true; // unreachable: keep running on the cached credentials
  }
}

export async function joinCluster(opts: JoinOptions): Promise<NodeCredentials> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const parsed = parseToken(opts.token);
  const cachePath = opts.dataDir ? credentialsPath(opts.dataDir) : undefined;
  const cachedText = cachePath ? readIfExists(cachePath) : undefined;
  if (cachedText) {
    try {
      const c = JSON.parse(cachedText) as CachedCreds;
      const sameCluster = !parsed.caHash || caHash(c.caPEM) === parsed.caHash;
      const expired = c.expires !== undefined && Date.parse(c.expires) <= Date.now();
      // A serving certificate is wanted but the cache has none (an agent from before they existed), or it was issued
      // for other addresses (the node's IP changed): ask again.
      const certMissing = !!opts.servingPublicKey && (!c.servingCert || JSON.stringify(c.addresses ?? []) !== JSON.stringify(opts.addresses ?? []));
      if (c.nodeName === opts.nodeName && c.caPEM && c.nodeToken && sameCluster && !expired && !certMissing) {
        const { server: _s, nodeName: _n, addresses: _a, ...creds } = c;
        if (await stillValid(opts.server, c, timeoutMs)) return creds;
        log.info("cached node credentials were rejected; joining again", { server: opts.server });
      }
    } catch {
      log.warn("ignoring unreadable cached node credentials", { path: cachePath });
    }
  }
  const caPEM = await fetchVerifiedCA(opts.server, opts.token, timeoutMs);
  const password = opts.password ?? (opts.dataDir ? loadNodePassword(opts.dataDir) : randomHex(32));
  const fresh = await requestNodeCredentialsFull({
    server: opts.server,
    caPEM,
    token: opts.token,
    nodeName: opts.nodeName,
    password,
    servingPublicKey: opts.servingPublicKey,
    addresses: opts.addresses,
    timeoutMs,
  });
  const creds: NodeCredentials = { caPEM, ...fresh };
  if (opts.dataDir) cacheCredentials(opts.dataDir, opts.server, opts.nodeName, creds, opts.addresses);
  return creds;
}
