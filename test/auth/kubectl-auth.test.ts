// End to end with /usr/bin/kubectl: admin, a ServiceAccount token from `kubectl create token` with a RoleBinding,
// 401 for a bad token, upstream's 403 wording, node credentials through the join endpoint.
import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { createAuthenticator, createKubeletAuthenticator, joinCluster } from "../../internal/auth/index.ts";

let c: TestCluster;
let saToken: string;

beforeAll(async () => {
  c = await startTestCluster();
  for (const args of [
    ["create", "namespace", "team"],
    ["create", "serviceaccount", "app", "-n", "team"],
    ["create", "rolebinding", "app-view", "--clusterrole=view", "--serviceaccount=team:app", "-n", "team"],
  ]) {
    const r = await c.kubectl(args);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  }
  const t = await c.kubectl(["create", "token", "app", "-n", "team"]);
  expect(t.stderr).toBe("");
  saToken = t.stdout.trim();
  expect(saToken.split(".")).toHaveLength(3);
}, 60_000);
/** TokenRequest over the API (what `kubectl create token` does, in JSON). */
async function createToken(ns: string, sa: string): Promise<string> {
  const res = await c.api(`/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: {} }),
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as any;
  expect(body.status.expirationTimestamp).toMatch(/Z$/);
  return body.status.token;
}

/** SelfSubjectReview over JSON: the username, or the HTTP status on failure. */
async function whoami(token: string): Promise<string | number> {
  const res = await c.api("/apis/authentication.k8s.io/v1/selfsubjectreviews", {
    method: "POST",
    token,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }),
  });
  if (res.status !== 201) return res.status;
  return ((await res.json()) as any).status.userInfo.username;
}

afterAll(async () => {
  await c?.stop();
});

describe("kubectl auth", () => {
  test("admin can do anything", async () => {
    const r = await c.kubectl(["auth", "can-i", "*", "*"]);
    expect(r.stdout.trim()).toBe("yes");
    expect(r.code).toBe(0);
  });

  test("can-i --list shows the namespace's rules", async () => {
    const r = await c.kubectl(["auth", "can-i", "--list", "-n", "team", "--token", saToken]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/);
    expect(lines.some((l) => /^pods\/log\s+\[\]\s+\[\]\s+\[get list watch\]$/.test(l))).toBe(true);
    expect(lines.some((l) => /^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/.test(l))).toBe(true);
    expect(lines.some((l) => /^secrets/.test(l))).toBe(false);
  });

  test("ServiceAccount token with a view RoleBinding", async () => {
    const yes = await c.kubectl(["auth", "can-i", "list", "pods", "-n", "team", "--token", saToken]);
    expect(yes.stdout.trim()).toBe("yes");
    const logs = await c.kubectl(["auth", "can-i", "get", "pods/log", "-n", "team", "--token", saToken]);
    expect(logs.stdout.trim()).toBe("yes");
    const no = await c.kubectl(["auth", "can-i", "delete", "pods", "-n", "team", "--token", saToken]);
    expect(no.stdout.trim()).toBe("no");
    expect(no.code).toBe(1);
    const other = await c.kubectl(["auth", "can-i", "list", "pods", "-n", "default", "--token", saToken]);
    expect(other.stdout.trim()).toBe("no");
    const who = await c.kubectl(["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}", "--token", saToken]);
    expect(who.stdout).toBe("system:serviceaccount:team:app");
  });

  test("403 with upstream's message", async () => {
    const r = await c.kubectl(["get", "pods", "-n", "default", "--token", saToken]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(
      'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:team:app" cannot list resource "pods" in API group "" in the namespace "default"',
    );
    const s = await c.kubectl(["get", "secret", "x", "-n", "team", "--token", saToken]);
    expect(s.stderr.trim()).toBe(
      'Error from server (Forbidden): secrets "x" is forbidden: User "system:serviceaccount:team:app" cannot get resource "secrets" in API group "" in the namespace "team"',
    );
  });

  test("401 for a bad token", async () => {
    const r = await c.kubectl(["get", "pods", "--token", "not-a-token"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("error: You must be logged in to the server (Unauthorized)");
    const raw = await c.api("/api/v1/namespaces", { token: "not-a-token" });
    expect(raw.status).toBe(401);
    expect(await raw.json()).toMatchObject({ kind: "Status", code: 401, reason: "Unauthorized" });
  });

  test("SelfSubjectAccessReview and SelfSubjectReview over JSON", async () => {
    const ssar = async (token: string, attrs: any) => {
      const res = await c.api("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
        method: "POST",
        token,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: attrs } }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as any).status;
    };
    expect((await ssar(saToken, { verb: "list", resource: "pods", namespace: "team" })).allowed).toBe(true);
    expect((await ssar(saToken, { verb: "get", resource: "pods", subresource: "log", namespace: "team" })).allowed).toBe(true);
    expect((await ssar(saToken, { verb: "delete", resource: "pods", namespace: "team" })).allowed).toBe(false);
    expect((await ssar(saToken, { verb: "list", resource: "pods", namespace: "default" })).allowed).toBe(false);
    expect((await ssar(c.adminToken, { verb: "*", resource: "*", group: "*" })).allowed).toBe(true);
    expect(await whoami(saToken)).toBe("system:serviceaccount:team:app");
  });

  test("deleting the ServiceAccount revokes its token", async () => {
    await c.kubectl(["apply", "-f", "-"], { stdin: "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: temp, namespace: team}\n" });
    const t = await createToken("team", "temp");
    expect(await whoami(t)).toBe("system:serviceaccount:team:temp");
    const del = await c.kubectl(["delete", "serviceaccount", "temp", "-n", "team"]);
    expect(del.code).toBe(0);
    // results are cached for up to 10 s
    let who: string | number = "";
    for (let i = 0; i < 60 && typeof who === "string"; i++) {
      who = await whoami(t);
      if (typeof who === "string") await Bun.sleep(250);
    }
    expect(who).toBe(401);
  }, 30_000);

  test("pod-bound tokens: kubectl create token --bound-object-kind Pod; revoked with the pod", async () => {
    const pod = `apiVersion: v1
kind: ServiceAccount
metadata: {name: default, namespace: team}
---
apiVersion: v1
kind: Pod
metadata: {name: runner, namespace: team}
spec: {serviceAccountName: app, containers: [{name: c, image: busybox}]}
`;
    expect((await c.kubectl(["apply", "-f", "-"], { stdin: pod })).code).toBe(0);
    const t = await c.kubectl(["create", "token", "app", "-n", "team", "--bound-object-kind", "Pod", "--bound-object-name", "runner"]);
    expect(t.stderr).toBe("");
    const who = await c.kubectl(["auth", "whoami", "--token", t.stdout.trim()]);
    expect(who.stdout).toMatch(/Extra: authentication.kubernetes.io\/pod-name\s+\[runner\]/);
    const missing = await c.kubectl(["create", "token", "app", "-n", "team", "--bound-object-kind", "Pod", "--bound-object-name", "ghost"]);
    expect(missing.stderr.trim()).toBe('error: failed to create token: pods "ghost" not found');
    const wrongSA = await c.kubectl(["create", "token", "default", "-n", "team", "--bound-object-kind", "Pod", "--bound-object-name", "runner"]);
    expect(wrongSA.stderr.trim()).toBe('error: failed to create token: cannot bind token for serviceaccount "default" to pod running with different serviceaccount name.');
    const short = await c.kubectl(["create", "token", "app", "-n", "team", "--duration", "5m"]);
    expect(short.stderr.trim()).toBe(
      'error: failed to create token: TokenRequest.authentication.k8s.io "app" is invalid: spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes',
    );
    expect((await c.kubectl(["delete", "pod", "runner", "-n", "team", "--grace-period=0", "--force"])).code).toBe(0);
    let code = 0;
    for (let i = 0; i < 60 && code === 0; i++) {
      code = (await c.kubectl(["auth", "whoami", "--token", t.stdout.trim()])).code;
      if (code === 0) await Bun.sleep(250);
    }
    expect(code).toBe(1);
  }, 30_000);

  test("RBAC escalation: a namespace admin can bind edit but not cluster-admin", async () => {
    const setup = await c.kubectl(["apply", "-f", "-"], {
      stdin: `
apiVersion: v1
kind: ServiceAccount
metadata: {name: boss, namespace: team}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: boss-admin, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{kind: ServiceAccount, name: boss, namespace: team}]
`,
    });
    expect(setup.code).toBe(0);
    const boss = (await c.kubectl(["create", "token", "boss", "-n", "team"])).stdout.trim();
    const ok = await c.kubectl(["create", "rolebinding", "dev-edit", "--clusterrole=edit", "--user=dev", "-n", "team", "--token", boss]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    const bad = await c.kubectl(["create", "rolebinding", "dev-root", "--clusterrole=cluster-admin", "--user=dev", "-n", "team", "--token", boss]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(
      'error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io "dev-root" is forbidden: user "system:serviceaccount:team:boss" ' +
        '(groups=["system:serviceaccounts" "system:serviceaccounts:team" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}',
    );
    const role = await c.kubectl(["create", "role", "peek", "--verb=get", "--resource=nodes", "-n", "team", "--token", boss]);
    expect(role.code).toBe(1);
    expect(role.stderr).toContain('is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}');
  });

  test("a joined node may update only its own Node", async () => {
    const creds = await joinCluster({ server: c.localURL, token: c.joinToken, nodeName: "edge-1" });
    const node = (name: string) => ({ apiVersion: "v1", kind: "Node", metadata: { name, labels: { "kubernetes.io/hostname": name } } });
    const own = await c.api("/api/v1/nodes", { method: "POST", token: creds.nodeToken, body: JSON.stringify(node("edge-1")), headers: { "content-type": "application/json" } });
    expect(own.status).toBe(201);
    const other = await c.api("/api/v1/nodes", { method: "POST", token: creds.nodeToken, body: JSON.stringify(node("edge-2")), headers: { "content-type": "application/json" } });
    expect(other.status).toBe(403);
    expect(((await other.json()) as any).message).toBe('nodes "edge-2" is forbidden: node "edge-1" is not allowed to modify node "edge-2"');
    const secret = await c.api("/api/v1/namespaces/team/secrets/x", { token: creds.nodeToken });
    expect(secret.status).toBe(403);
    expect(((await secret.json()) as any).message).toBe(
      `secrets "x" is forbidden: User "system:node:edge-1" cannot get resource "secrets" in API group "" in the namespace "team": no relationship found between node 'edge-1' and this object`,
    );
  });

  test("kubelet API authentication: only the API server's token for this very kubelet (and system:masters)", async () => {
    const creds = await joinCluster({ server: c.localURL, token: c.joinToken, nodeName: "edge-3" });
    expect(creds.kubeletVerificationKeys?.keys.length).toBeGreaterThan(0);
    const kubelet = createKubeletAuthenticator({ nodeName: "edge-3", verificationKeys: () => creds.kubeletVerificationKeys, server: c.localURL, caPEM: creds.caPEM, token: creds.nodeToken });
    // the identities the API server has (same signing key as the running server's)
    const authn = createAuthenticator({ store: c.store, dataDir: c.dataDir });
    const forMe = await authn.issueKubeletToken("edge-3");
    expect(forMe.expiresAt - Date.now()).toBeLessThanOrEqual(300_000);
    expect((await kubelet.authenticate(`Bearer ${forMe.token}`))?.username).toBe("system:kube-apiserver");
    // a token the API server made for another kubelet is useless here, and so is its long-lived API token
    expect(await kubelet.authenticate(`Bearer ${(await authn.issueKubeletToken("edge-4")).token}`)).toBeNull();
    expect(await kubelet.authenticate(`Bearer ${await authn.issueAPIServerToken()}`)).toBeNull();
    // ...and a kubelet token is no API credential
    expect((await c.api("/api/v1/nodes", { token: forMe.token })).status).toBe(401);
    expect((await kubelet.authenticate(`Bearer ${c.adminToken}`))?.username).toBe("system:admin");
    expect(await kubelet.authenticate(`Bearer ${saToken}`)).toBeNull();
    expect(await kubelet.authenticate("Bearer nonsense")).toBeNull();
    expect(await kubelet.authenticate(undefined)).toBeNull();
    // a kubelet that does not know the signing key (another HA server's) asks the API server with its audience
    const noKeys = createKubeletAuthenticator({ nodeName: "edge-3", server: c.localURL, caPEM: creds.caPEM, token: creds.nodeToken });
    expect((await noKeys.authenticate(`Bearer ${(await authn.issueKubeletToken("edge-3")).token}`))?.username).toBe("system:kube-apiserver");
    expect(await noKeys.authenticate(`Bearer ${(await authn.issueKubeletToken("edge-4")).token}`)).toBeNull();
  });
});

