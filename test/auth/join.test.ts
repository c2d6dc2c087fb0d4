// Joining: /cacerts + node-credentials served over the real PKI; the agent checks the CA hash before it sends the token.
import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, rmSync, statSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import {
  CAHashMismatchError,
  createAuthenticator,
  credentialsPath,
  ensurePKI,
  ensureTokens,
  joinCluster,
  joinRoutes,
  nodePasswordPath,
  revokeNodeToken,
  type KubunAuthenticator,
} from "../../internal/auth/index.ts";
import { openStore, type Store } from "../../internal/store/index.ts";

let dir: string;
let store: Store;
let authn: KubunAuthenticator;
let joinToken: string;
let caPEM: string;
let server: ReturnType<typeof Bun.serve>;
let url: string;
/** Every request the server saw, with its Authorization header. */
const seen: { path: string; auth: string | null }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubun-join-"));
  store = await openStore({ dataDir: dir });
  const pki = await ensurePKI(dir, { sans: { dns: [], ips: [] } });
  caPEM = pki.caCertPEM;
  ({ joinToken } = await ensureTokens(dir));
  authn = createAuthenticator({ store, dataDir: dir });
  const app = new Hono();
  app.use(async (c, next) => {
    seen.push({ path: new URL(c.req.url).pathname, auth: c.req.header("authorization") ?? null });
    await next();
  });
  app.route("/", joinRoutes({ dataDir: dir, store, onIssued: () => authn.flushCache() }));
  // stands in for the API: the agent's cache check calls GET /api with its node token
  app.get("/api", async (c) => {
    const t = (c.req.header("authorization") ?? "").slice(7);
    return (await authn.authenticateToken(t)) ? c.json({ kind: "APIVersions" }) : c.json({ code: 401 }, 401);
  });
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", tls: { cert: pki.serverCertPEM, key: pki.serverKeyPEM }, fetch: app.fetch });
  url = `https://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  server.stop(true);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("server routes", () => {
  test("GET /cacerts is unauthenticated and returns the CA PEM", async () => {
    const r = await fetch(`${url}/cacerts`, { tls: { ca: caPEM } });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe(caPEM);
  });
  test("node-credentials: 401 Status without the join token, 400 for a bad node name", async () => {
    const r = await fetch(`${url}/v1-kubun/node-credentials`, { method: "POST", body: JSON.stringify({ nodeName: "x" }), tls: { ca: caPEM } });
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ kind: "Status", code: 401, reason: "Unauthorized" });
    const bad = await fetch(`${url}/v1-kubun/node-credentials`, {
      method: "POST",
      headers: { authorization: `Bearer ${joinToken}` },
      body: JSON.stringify({ nodeName: "Not Valid" }),
      tls: { ca: caPEM },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).reason).toBe("BadRequest");
  });
  test("the bare secret and the server:<secret> form are accepted too", async () => {
    const secret = joinToken.split("::server:")[1]!;
    for (const t of [secret, `server:${secret}`]) {
      const r = await fetch(`${url}/v1-kubun/node-credentials`, {
        method: "POST",
        headers: { authorization: `Bearer ${t}` },
        body: JSON.stringify({ nodeName: "n-forms", nodePassword: "forms-password-0123456789" }),
        tls: { ca: caPEM },
      });
      expect(r.status).toBe(200);
    }
  });
});

describe("joinCluster", () => {
  test("verifies the CA hash, gets a working node token, caches it 0600", async () => {
    const agentDir = mkdtempSync(join(tmpdir(), "kubun-agent-"));
    try {
      const creds = await joinCluster({ server: url, token: joinToken, nodeName: "worker-1", dataDir: agentDir });
      expect(creds.caPEM).toBe(caPEM);
      expect(await authn.authenticateToken(creds.nodeToken)).toEqual({ username: "system:node:worker-1", groups: ["system:nodes", "system:authenticated"] });
      expect(await authn.authenticateToken(creds.proxyToken!)).toEqual({ username: "system:kube-proxy", groups: ["system:authenticated"] });
      const p = credentialsPath(agentDir);
      expect(statSync(p).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(p, "utf8")).nodeToken).toBe(creds.nodeToken);
      // a second join reuses the cache (no new credentials request)
      const before = seen.filter((s) => s.path === "/v1-kubun/node-credentials").length;
      const again = await joinCluster({ server: url, token: joinToken, nodeName: "worker-1", dataDir: agentDir });
      expect(again.nodeToken).toBe(creds.nodeToken);
      expect(again.proxyToken).toBe(creds.proxyToken);
      expect(seen.filter((s) => s.path === "/v1-kubun/node-credentials").length).toBe(before);
      // server unreachable: cached credentials still returned
      const offline = await joinCluster({ server: "https://127.0.0.1:1", token: joinToken, nodeName: "worker-1", dataDir: agentDir, timeoutMs: 2000 });
      expect(offline.nodeToken).toBe(creds.nodeToken);
    } finally {
      rmSync(agentDir, { recursive: true, force: true });
    }
  });

  test("wrong CA hash: refuses before sending the token anywhere", async () => {
    const secret = joinToken.split("::")[1]!;
    const wrong = `K10${"ab".repeat(32)}::${secret}`;
    seen.length = 0;
    const err = await joinCluster({ server: url, token: wrong, nodeName: "evil" }).catch((e) => e);
    expect(err).toBeInstanceOf(CAHashMismatchError);
    expect(err.message).toContain("does not match the hash in the join token");
    expect(seen.map((s) => s.path)).toEqual(["/cacerts"]);
    expect(seen.every((s) => s.auth === null)).toBe(true);
  });

  test("revoked cached credentials trigger a fresh join (with the node password kept in the data dir)", async () => {
    const agentDir = mkdtempSync(join(tmpdir(), "kubun-agent-"));
    try {
      const first = await joinCluster({ server: url, token: joinToken, nodeName: "worker-2", dataDir: agentDir });
      expect(statSync(nodePasswordPath(agentDir)).mode & 0o777).toBe(0o600);
      await revokeNodeToken(store, "worker-2");
      authn.flushCache();
      const second = await joinCluster({ server: url, token: joinToken, nodeName: "worker-2", dataDir: agentDir });
      expect(second.nodeToken).not.toBe(first.nodeToken);
      expect((await authn.authenticateToken(second.nodeToken))?.username).toBe("system:node:worker-2");
    } finally {
      rmSync(agentDir, { recursive: true, force: true });
    }
  });

  test("wrong secret with the right hash: clear 401 error", async () => {
    const hash = joinToken.slice(3, 67);
    await expect(joinCluster({ server: url, token: `K10${hash}::server:wrong`, nodeName: "n" })).rejects.toThrow(/rejected the join token/);
  });
});
