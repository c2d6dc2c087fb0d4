// Agent side of joining a cluster, as k3s's clientaccess: with a secure token (K10<ca-hash>::server:<secret>) the
// agent downloads /cacerts WITHOUT verifying TLS, only to learn the CA; it compares the CA's sha256 with the hash in
// the token and refuses (never sending the token) on mismatch; then it asks for node credentials over TLS verified
// by that CA. Credentials are cached in <dataDir>/agent/cred/node-credentials.json (0600), so an agent restarted
// while the server is unreachable still has them.
import { join } from "node:path";
import { caHash, parseToken } from "./tokenformat.ts";
import { readIfExists, writeAtomic } from "./files.ts";
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
}

export interface NodeCredentials {
  caPEM: string;
  /** Bearer token of system:node:<nodeName> (group system:nodes): the kubelet's identity. */
  nodeToken: string;
  /** Bearer token of system:kube-proxy (ClusterRole system:node-proxier): for the node's service proxy. */
  proxyToken?: string;
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
export async function requestNodeCredentials(opts: {
  server: string;
  caPEM: string;
  token: string;
  nodeName: string;
  timeoutMs?: number;
}): Promise<string> {
  return (await requestNodeCredentialsFull(opts)).nodeToken;
}

/** Like requestNodeCredentials, with the kube-proxy token too. */
export async function requestNodeCredentialsFull(opts: {
  server: string;
  caPEM: string;
  token: string;
  nodeName: string;
  timeoutMs?: number;
}): Promise<{ nodeToken: string; proxyToken?: string }> {
  const res = await fetch(base(opts.server) + NODE_CREDENTIALS_PATH, {
    method: "POST",
    headers: { authorization: `Bearer ${opts.token.trim()}`, "content-type": "application/json" },
    body: JSON.stringify({ nodeName: opts.nodeName }),
    tls: { ca: opts.caPEM },
    signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
  });
  if (res.status === 401) throw new Error(`server ${opts.server} rejected the join token (401 Unauthorized)`);
  if (!res.ok) {
    let msg = `HTTP ${res.status}`;
    try {
      msg = ((await res.json()) as any)?.message ?? msg;
    } catch {
      /* not JSON */
    }
    throw new Error(`node credentials request to ${opts.server} failed: ${msg}`);
  }
  const body = (await res.json()) as { token?: string; proxyToken?: string };
  if (!body.token) throw new Error(`node credentials response from ${opts.server} has no token`);
  return { nodeToken: body.token, proxyToken: body.proxyToken };
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
      if (c.nodeName === opts.nodeName && c.caPEM && c.nodeToken && sameCluster) {
        if (await stillValid(opts.server, c, timeoutMs)) return { caPEM: c.caPEM, nodeToken: c.nodeToken, proxyToken: c.proxyToken };
        log.info("cached node credentials were rejected; joining again", { server: opts.server });
      }
    } catch {
      log.warn("ignoring unreadable cached node credentials", { path: cachePath });
    }
  }
  const caPEM = await fetchVerifiedCA(opts.server, opts.token, timeoutMs);
  const { nodeToken, proxyToken } = await requestNodeCredentialsFull({ server: opts.server, caPEM, token: opts.token, nodeName: opts.nodeName, timeoutMs });
  if (cachePath) {
    const rec: CachedCreds = { server: opts.server, nodeName: opts.nodeName, caPEM, nodeToken, proxyToken };
    writeAtomic(cachePath, JSON.stringify(rec, null, 2) + "\n", 0o600);
  }
  return { caPEM, nodeToken, proxyToken };
}
