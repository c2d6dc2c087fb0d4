// Server side of joining, mounted by the API server at its root (next to /api, /apis):
//   GET  /cacerts                       the cluster CA PEM, unauthenticated (as k3s). A joining agent compares its
//                                       sha256 with the hash in its K10 token before trusting it.
//   POST /v1-kubun/node-credentials     body {"nodeName", "nodePassword", "servingPublicKey"?, "addresses"?} →
//                                       {"token", "proxyToken", "expires", "servingCert"?, "kubeletVerificationKeys"}
//     Authorization, one of:
//       Bearer <join token>   a join (the server's token, or a bootstrap token from `kubun token create`, see
//                             bootstraptokens.ts): the node password must match the one recorded for that name (nodepassword.ts),
//                             so the join token alone cannot take over an existing node.
//       Bearer <node token>   a renewal by the node itself (its current, unexpired token for that very name).
//     token/proxyToken: the node's kubelet and service-proxy credentials (nodecreds.ts: revocable, expiring);
//     servingCert: the kubelet's serving certificate for servingPublicKey, the node name and `addresses`, signed by
//     the cluster CA (the API server verifies it before talking to the kubelet); kubeletVerificationKeys: the JWKS
//     that signs the short-lived tokens the API server presents to kubelets.
// The join token is accepted whole (K10...::server:<secret>), as its credentials part (server:<secret>) or as the
// bare secret, compared in constant time.
import { Hono } from "hono";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "../store/types.ts";
import { PKI_FILES, tlsDir, CACERTS_PATH, NODE_CREDENTIALS_PATH } from "./paths.ts";
import { joinTokenPath, parseToken, safeEqual, caHash } from "./tokens.ts";
import { issueNodeCredentials, validNodeName, verifyNodeToken } from "./nodecreds.ts";
import { NodePasswordError, verifyOrRecordNodePassword } from "./nodepassword.ts";
import { issueKubeletServingCert } from "./kubeletcert.ts";
import { verifyBootstrapToken } from "./bootstraptokens.ts";
import { loadSigningKey, VerificationKeys } from "./serviceaccount/keys.ts";
import { logger } from "../log/log.ts";

const log = logger("join");

export { CACERTS_PATH, NODE_CREDENTIALS_PATH };

function status(code: number, reason: string, message: string) {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

export interface JoinRoutesOptions {
  dataDir: string;
  store: Store;
  /** Called after node credentials are issued (e.g. to flush an authenticator cache). */
  onIssued?: (nodeName: string) => void;
}

interface CredentialsRequest {
  nodeName?: unknown;
  nodePassword?: unknown;
  servingPublicKey?: unknown;
  addresses?: unknown;
}

export function joinRoutes(opts: JoinRoutesOptions): Hono {
  const caPEM = readFileSync(join(tlsDir(opts.dataDir), PKI_FILES.caCert), "utf8");
  const keys = new VerificationKeys(opts.store);
  const app = new Hono();

  /** Whether `presented` is the join token (read on each request: `kubun token rotate` may change it). */
  function isJoinToken(presented: string): boolean {
    const joinSecret = parseToken(readFileSync(joinTokenPath(opts.dataDir), "utf8")).secret;
    try {
      const p = parseToken(presented);
      if (p.caHash && p.caHash !== caHash(caPEM)) return false;
      const secret = (p.secret ?? "").replace(/^server:/, "");
      return !!secret && safeEqual(secret, joinSecret);
    } catch {
      return false;
    }
  }

  /** Whether `presented` is a valid bootstrap token (`kubun token create`), bare or as a K10 token's credentials. */
  async function isBootstrapToken(presented: string): Promise<boolean> {
    try {
      const p = parseToken(presented);
      if (p.caHash && p.caHash !== caHash(caPEM)) return false;
      return p.username === undefined && (await verifyBootstrapToken(opts.store, p.secret));
    } catch {
      return false;
    }
  }

  app.get(CACERTS_PATH, (c) => c.body(caPEM, 200, { "content-type": "application/x-pem-file" }));

  app.post(NODE_CREDENTIALS_PATH, async (c) => {
    const auth = c.req.header("authorization") ?? "";
    const presented = auth.toLowerCase().startsWith("bearer ") ? auth.slice(7).trim() : "";
    const viaJoinToken = !!presented && (isJoinToken(presented) || (await isBootstrapToken(presented)));
    const renewingNode = viaJoinToken || !presented ? undefined : await verifyNodeToken(opts.store, presented);
    if (!viaJoinToken && !renewingNode) return c.json(status(401, "Unauthorized", "Unauthorized"), 401);

    let body: CredentialsRequest;
    try {
      body = (await c.req.json()) as CredentialsRequest;
    } catch {
      return c.json(status(400, "BadRequest", 'request body must be JSON: {"nodeName": "...", "nodePassword": "..."}'), 400);
    }
    const nodeName = body?.nodeName;
    if (!validNodeName(nodeName)) {
      return c.json(status(400, "BadRequest", `invalid nodeName ${JSON.stringify(nodeName)}: must be a lowercase RFC 1123 subdomain`), 400);
    }
    if (renewingNode && renewingNode !== nodeName) {
      return c.json(status(403, "Forbidden", `node "${renewingNode}" may not renew the credentials of node "${nodeName}"`), 403);
    }
    const addresses = body.addresses === undefined ? [] : body.addresses;
    if (!Array.isArray(addresses) || addresses.length > 16 || !addresses.every((a) => typeof a === "string")) {
      return c.json(status(400, "BadRequest", "addresses must be a list of at most 16 IP addresses"), 400);
    }
    if (body.servingPublicKey !== undefined && typeof body.servingPublicKey !== "string") {
      return c.json(status(400, "BadRequest", "servingPublicKey must be a PEM public key"), 400);
    }
    if (viaJoinToken) {
      if (typeof body.nodePassword !== "string" || body.nodePassword.length < 16 || body.nodePassword.length > 256) {
        return c.json(status(400, "BadRequest", "nodePassword is required (16 to 256 characters): the agent keeps it in <data-dir>/agent/cred/node-password"), 400);
      }
      try {
        await verifyOrRecordNodePassword(opts.store, nodeName, body.nodePassword);
      } catch (err) {
        if (err instanceof NodePasswordError) {
          log.warn("join refused: node password mismatch", { node: nodeName });
          return c.json(status(403, "Forbidden", err.message), 403);
        }
        throw err;
      }
    }
    let servingCert: string | undefined;
    if (typeof body.servingPublicKey === "string") {
      try {
        servingCert = await issueKubeletServingCert(opts.dataDir, nodeName, addresses as string[], body.servingPublicKey);
      } catch (err) {
        return c.json(status(400, "BadRequest", `cannot issue a kubelet serving certificate: ${(err as Error).message}`), 400);
      }
    }
    const creds = await issueNodeCredentials(opts.store, nodeName);
    const signing = await loadSigningKey(opts.dataDir);
    keys.add(signing.kid, signing.publicKey);
    opts.onIssued?.(nodeName);
    log.info(renewingNode ? "renewed node credentials" : "issued node credentials", { node: nodeName });
    return c.json({
      token: creds.nodeToken,
      proxyToken: creds.proxyToken,
      ingressToken: creds.ingressToken,
      expires: creds.expiresAt.toISOString(),
      ...(servingCert ? { servingCert } : {}),
      kubeletVerificationKeys: await keys.jwks(),
    });
  });

  return app;
}
