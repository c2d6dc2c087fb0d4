// Server side of joining, mounted by the API server at its root (next to /api, /apis):
//   GET  /cacerts                       the cluster CA PEM, unauthenticated (as k3s). A joining agent compares its
//                                       sha256 with the hash in its K10 token before trusting it.
//   POST /v1-kubun/node-credentials     Bearer <join token>, body {"nodeName": "..."} →
//                                       {"token": "<node token>", "proxyToken": "<system:kube-proxy token>"}
//                                       (the node's service proxy runs as system:kube-proxy, as upstream's kube-proxy).
// The join token is accepted whole (K10...::server:<secret>), as its credentials part (server:<secret>) or as the
// bare secret, compared in constant time.
import { Hono } from "hono";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "../store/types.ts";
import { PKI_FILES, tlsDir, CACERTS_PATH, NODE_CREDENTIALS_PATH } from "./paths.ts";
import { joinTokenPath, parseToken, safeEqual, caHash } from "./tokens.ts";
import { issueNodeToken, validNodeName } from "./nodecreds.ts";
import { logger } from "../log/log.ts";
import { loadSigningKey } from "./serviceaccount/keys.ts";
import { signComponentToken } from "./serviceaccount/jwt.ts";
import { COMPONENT_USERS } from "../api/names.ts";

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

export function joinRoutes(opts: JoinRoutesOptions): Hono {
  const caPEM = readFileSync(join(tlsDir(opts.dataDir), PKI_FILES.caCert), "utf8");
  const app = new Hono();

  app.get(CACERTS_PATH, (c) => c.body(caPEM, 200, { "content-type": "application/x-pem-file" }));

  app.post(NODE_CREDENTIALS_PATH, async (c) => {
    // Read the join token on each request: `kubun token rotate` (or a restart with --token) may change it.
    const joinSecret = parseToken(readFileSync(joinTokenPath(opts.dataDir), "utf8")).secret;
    const auth = c.req.header("authorization") ?? "";
    const presented = auth.toLowerCase().startsWith("bearer ") ? auth.slice(7).trim() : "";
    let secret = "";
    try {
      const p = presented ? parseToken(presented) : undefined;
      if (p?.caHash && p.caHash !== caHash(caPEM)) secret = "";
      else secret = (p?.secret ?? "").replace(/^server:/, "");
    } catch {
      secret = "";
    }
    if (!secret || !safeEqual(secret, joinSecret)) {
      return c.json(status(401, "Unauthorized", "Unauthorized"), 401);
    }
    let body: any;
    try {
      body = await c.req.json();
    } catch {
      return c.json(status(400, "BadRequest", "request body must be JSON: {\"nodeName\": \"...\"}"), 400);
    }
    const nodeName = body?.nodeName;
    if (!validNodeName(nodeName)) {
      return c.json(
        status(400, "BadRequest", `invalid nodeName ${JSON.stringify(nodeName)}: must be a lowercase RFC 1123 subdomain`),
        400,
      );
    }
    const token = await issueNodeToken(opts.store, nodeName);
    const proxyToken = await signComponentToken(await loadSigningKey(opts.dataDir), COMPONENT_USERS.kubeProxy, ["system:authenticated"]);
    opts.onIssued?.(nodeName);
    log.info("issued node credentials", { node: nodeName });
    return c.json({ token, proxyToken });
  });

  return app;
}
