// ServiceAccount JWTs, component tokens, node credentials and the authenticator, over a real store.
import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt, decodeProtectedHeader } from "jose";
import {
  createAuthenticator,
  createAuthorizer,
  ensurePKI,
  ensureTokens,
  issueServiceAccountToken,
  reconcileBootstrapPolicy,
  revokeNodeToken,
  TokenRequestError,
  type KubunAuthenticator,
} from "../../internal/auth/index.ts";
import { openStore, type Store } from "../../internal/store/index.ts";

let dir: string;
let store: Store;
let authn: KubunAuthenticator;
let adminToken: string;

const saKey = (ns: string, name: string) => `/registry/core/serviceaccounts/${ns}/${name}`;
const podKey = (ns: string, name: string) => `/registry/core/pods/${ns}/${name}`;

async function put(key: string, obj: any) {
  const { kv } = await store.get(key);
  if (kv) await store.update(key, JSON.stringify(obj), kv.modRevision);
  else await store.create(key, JSON.stringify(obj));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubun-tokens-"));
  store = await openStore({ dataDir: dir });
  await ensurePKI(dir, { sans: { dns: [], ips: [] } });
  ({ adminToken } = await ensureTokens(dir));
  authn = createAuthenticator({ store, dataDir: dir });
  await authn.ready;
  await put(saKey("default", "app"), { metadata: { namespace: "default", name: "app", uid: "sa-uid-1" } });
  await put(podKey("default", "web"), { metadata: { namespace: "default", name: "web", uid: "pod-uid-1" }, spec: { nodeName: "n1", serviceAccountName: "app" } });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("admin token", () => {
  test("authenticates as system:admin in system:masters", async () => {
    expect(await authn.authenticateToken(adminToken)).toEqual({ username: "system:admin", groups: ["system:masters", "system:authenticated"] });
  });
  test("unknown tokens are null", async () => {
    expect(await authn.authenticateToken("nope")).toBeNull();
    expect(await authn.authenticateToken(adminToken + "x")).toBeNull();
    expect(await authn.authenticateToken("")).toBeNull();
  });
});

describe("ServiceAccount tokens", () => {
  test("issue: upstream claims, ES256 with kid, default 1h", async () => {
    const { token, expirationTimestamp } = await authn.issueServiceAccountToken({
      namespace: "default",
      name: "app",
      uid: "sa-uid-1",
      boundObject: { kind: "Pod", name: "web", uid: "pod-uid-1" },
    });
    const h = decodeProtectedHeader(token);
    expect(h.alg).toBe("ES256");
    expect(h.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const c = decodeJwt(token) as any;
    expect(c.iss).toBe("https://kubernetes.default.svc.cluster.local");
    expect(c.aud).toEqual(["https://kubernetes.default.svc.cluster.local"]);
    expect(c.sub).toBe("system:serviceaccount:default:app");
    expect(c["kubernetes.io"]).toEqual({ namespace: "default", serviceaccount: { name: "app", uid: "sa-uid-1" }, pod: { name: "web", uid: "pod-uid-1" } });
    expect(c.exp - c.iat).toBe(3600);
    expect(Date.parse(expirationTimestamp) / 1000).toBe(c.exp);
    expect(expirationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test("verify: user, groups and pod extras", async () => {
    const { token } = await authn.issueServiceAccountToken({ namespace: "default", name: "app", uid: "sa-uid-1", boundObject: { kind: "Pod", name: "web", uid: "pod-uid-1" } });
    const u = await authn.authenticateToken(token);
    expect(u).toMatchObject({
      username: "system:serviceaccount:default:app",
      uid: "sa-uid-1",
      groups: ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"],
    });
    expect(u!.extra!["authentication.kubernetes.io/pod-name"]).toEqual(["web"]);
    expect(u!.extra!["authentication.kubernetes.io/pod-uid"]).toEqual(["pod-uid-1"]);
  });

  test("audiences: a token for another audience is not accepted by the API, but is by a TokenReview for it", async () => {
    const { token } = await authn.issueServiceAccountToken({ namespace: "default", name: "app", uid: "sa-uid-1", audiences: ["vault"] });
    expect(await authn.authenticateToken(token)).toBeNull();
    const r = await authn.reviewToken(token, ["vault"]);
    expect(r?.audiences).toEqual(["vault"]);
    expect(r?.user.username).toBe("system:serviceaccount:default:app");
  });

  test("expirationSeconds below 10 minutes is refused with the field", async () => {
    const e = await authn.issueServiceAccountToken({ namespace: "default", name: "app", uid: "sa-uid-1", expirationSeconds: 60 }).catch((e) => e);
    expect(e).toBeInstanceOf(TokenRequestError);
    expect(e.field).toBe("spec.expirationSeconds");
    expect(e.message).toBe("may not specify a duration less than 10 minutes");
  });

  test("revoked when the ServiceAccount is deleted or re-created with a new uid", async () => {
    await put(saKey("default", "tmp"), { metadata: { namespace: "default", name: "tmp", uid: "tmp-1" } });
    const { token } = await authn.issueServiceAccountToken({ namespace: "default", name: "tmp", uid: "tmp-1" });
    expect(await authn.authenticateToken(token)).not.toBeNull();
    await store.delete(saKey("default", "tmp"));
    authn.flushCache();
    expect(await authn.authenticateToken(token)).toBeNull();
    await put(saKey("default", "tmp"), { metadata: { namespace: "default", name: "tmp", uid: "tmp-2" } });
    authn.flushCache();
    expect(await authn.authenticateToken(token)).toBeNull();
  });

  test("revoked when the bound pod is gone or replaced", async () => {
    await put(podKey("default", "job"), { metadata: { namespace: "default", name: "job", uid: "job-1" }, spec: {} });
    const { token } = await authn.issueServiceAccountToken({ namespace: "default", name: "app", uid: "sa-uid-1", boundObject: { kind: "Pod", name: "job", uid: "job-1" } });
    expect(await authn.authenticateToken(token)).not.toBeNull();
    await put(podKey("default", "job"), { metadata: { namespace: "default", name: "job", uid: "job-2" }, spec: {} });
    authn.flushCache();
    expect(await authn.authenticateToken(token)).toBeNull();
    await store.delete(podKey("default", "job"));
    authn.flushCache();
    expect(await authn.authenticateToken(token)).toBeNull();
  });

  test("tampered or foreign tokens are rejected", async () => {
    const { token } = await authn.issueServiceAccountToken({ namespace: "default", name: "app", uid: "sa-uid-1" });
    const [h, p, s] = token.split(".");
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
    claims.sub = "system:serviceaccount:kube-system:admin";
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
    expect(await authn.authenticateToken(forged)).toBeNull();
    // signed by another cluster's key
    const other = mkdtempSync(join(tmpdir(), "kubun-other-"));
    try {
      const t2 = await issueServiceAccountToken({ dataDir: other, namespace: "default", name: "app", uid: "sa-uid-1" });
      expect(await authn.authenticateToken(t2.token)).toBeNull();
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test("signing key persists in the data dir (0600) and a second server sharing the store verifies tokens", async () => {
    expect(statSync(join(dir, "server", "tls", "service.key")).mode & 0o777).toBe(0o600);
    const dir2 = mkdtempSync(join(tmpdir(), "kubun-srv2-"));
    try {
      await ensurePKI(dir2, { sans: { dns: [], ips: [] } });
      const authn2 = createAuthenticator({ store, dataDir: dir2 });
      await authn2.ready;
      const { token } = await authn.issueServiceAccountToken({ namespace: "default", name: "app", uid: "sa-uid-1" });
      expect((await authn2.authenticateToken(token))?.username).toBe("system:serviceaccount:default:app");
      const t2 = await authn2.issueServiceAccountToken({ namespace: "default", name: "app", uid: "sa-uid-1" });
      authn.flushCache();
      expect((await authn.authenticateToken(t2.token))?.username).toBe("system:serviceaccount:default:app");
    } finally {
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});

describe("component tokens", () => {
  test("scheduler and controller manager get their own least-privileged identities", async () => {
    await reconcileBootstrapPolicy(store);
    const authz = createAuthorizer({ store });
    try {
      await authz.ready;
      const sched = await authn.authenticateToken(await authn.issueComponentToken("scheduler"));
      expect(sched).toEqual({ username: "system:kube-scheduler", groups: ["system:authenticated"] });
      const kcm = await authn.authenticateToken(await authn.issueComponentToken("controller-manager"));
      expect(kcm?.username).toBe("system:kube-controller-manager");
      const api = await authn.authenticateToken(await authn.issueAPIServerToken());
      expect(api?.username).toBe("system:kube-apiserver");
      const bind = { verb: "create", resourceRequest: true, apiGroup: "", resource: "pods", subresource: "binding", namespace: "default", name: "p" };
      expect((await authz.authorize({ ...bind, user: sched! })).decision).toBe("allow");
      expect((await authz.authorize({ ...bind, verb: "delete", resource: "secrets", subresource: undefined, user: sched! })).decision).toBe("no-opinion");
      expect((await authz.authorize({ verb: "create", resourceRequest: true, apiGroup: "apps", resource: "replicasets", namespace: "d", user: kcm! })).decision).toBe("allow");
      expect((await authz.authorize({ verb: "get", resourceRequest: true, apiGroup: "", resource: "nodes", subresource: "proxy", name: "n1", user: api! })).decision).toBe("allow");
    } finally {
      authz.close();
    }
  });
});

describe("node credentials", () => {
  test("issued token authenticates as system:node:<name>; re-issue replaces; revocation works", async () => {
    const t1 = await authn.issueNodeToken("node-a");
    expect(await authn.authenticateToken(t1)).toEqual({ username: "system:node:node-a", groups: ["system:nodes", "system:authenticated"] });
    // a forged token for another node with the same secret fails
    expect(await authn.authenticateToken(t1.replace("node-a", "node-b"))).toBeNull();
    const t2 = await authn.issueNodeToken("node-a");
    expect(await authn.authenticateToken(t1)).toBeNull();
    expect((await authn.authenticateToken(t2))?.username).toBe("system:node:node-a");
    await revokeNodeToken(store, "node-a");
    authn.flushCache();
    expect(await authn.authenticateToken(t2)).toBeNull();
  });
  test("invalid node names are refused", async () => {
    await expect(authn.issueNodeToken("Bad_Name")).rejects.toThrow(/DNS-1123/);
  });
});

describe("issuer discovery", () => {
  test("openid-configuration and JWKS verify issued tokens", async () => {
    const { serviceAccountIssuerRoutes } = await import("../../internal/auth/index.ts");
    const { createLocalJWKSet, jwtVerify } = await import("jose");
    const app = serviceAccountIssuerRoutes(authn, { externalURL: () => "https://10.0.0.1:6443/" });
    const cfg = (await (await app.request("/.well-known/openid-configuration")).json()) as any;
    expect(cfg).toMatchObject({ issuer: "https://kubernetes.default.svc.cluster.local", jwks_uri: "https://10.0.0.1:6443/openid/v1/jwks" });
    const res = await app.request("/openid/v1/jwks");
    expect(res.headers.get("content-type")).toBe("application/jwk-set+json");
    const jwks = (await res.json()) as any;
    expect(jwks.keys.length).toBeGreaterThanOrEqual(1);
    const { token } = await authn.issueServiceAccountToken({ namespace: "default", name: "app", uid: "sa-uid-1" });
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: cfg.issuer });
    expect(payload.sub).toBe("system:serviceaccount:default:app");
  });
});

describe("legacy Secret-based ServiceAccount tokens", () => {
  test("admission fills the Secret; the token works until the Secret or the ServiceAccount goes", async () => {
    const { serviceAccountTokenSecrets, storeGetter } = await import("../../internal/admission/index.ts");
    const plugin = serviceAccountTokenSecrets(storeGetter(store), authn, "CA-PEM");
    const secret: any = {
      metadata: { name: "app-token", namespace: "default", annotations: { "kubernetes.io/service-account.name": "app" } },
      type: "kubernetes.io/service-account-token",
    };
    await plugin.admit!({ operation: "CREATE", user: { username: "u", groups: [] }, group: "", version: "v1", resource: "secrets", kind: "Secret", namespace: "default", object: secret, dryRun: false });
    expect(secret.metadata.annotations["kubernetes.io/service-account.uid"]).toBe("sa-uid-1");
    expect(Buffer.from(secret.data["ca.crt"], "base64").toString()).toBe("CA-PEM");
    expect(Buffer.from(secret.data.namespace, "base64").toString()).toBe("default");
    const token = Buffer.from(secret.data.token, "base64").toString();
    const claims = decodeJwt(token) as any;
    expect(claims.iss).toBe("kubernetes/serviceaccount");
    expect(claims.exp).toBeUndefined();
    expect(claims["kubernetes.io/serviceaccount/secret.name"]).toBe("app-token");

    // not valid before the Secret is stored with it
    expect(await authn.authenticateToken(token)).toBeNull();
    await put("/registry/core/secrets/default/app-token", secret);
    authn.flushCache();
    expect((await authn.authenticateToken(token))?.username).toBe("system:serviceaccount:default:app");
    // a TokenReview for another audience does not accept it
    expect(await authn.reviewToken(token, ["vault"])).toBeNull();
    await store.delete("/registry/core/secrets/default/app-token");
    authn.flushCache();
    expect(await authn.authenticateToken(token)).toBeNull();
  });
});
