// Issue 9 item 5: the join token alone cannot take over an existing node name (k3s's node password), an admin
// deleting the Node frees the name, and node credentials (kubelet and kube-proxy) are revocable, expire and are
// renewed by the node itself.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { joinCluster, renewNodeCredentials, issueNodeCredentials } from "../../internal/auth/index.ts";
import { useSharedCluster } from "../helpers/shared-cluster.ts";
import { pollUntil } from "../helpers/wait.ts";

const env = useSharedCluster();
const tmp = join(import.meta.dir, "..", "..", ".tmp", `node-identity-${process.pid}`);
const machine = (name: string) => {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  return d;
};
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const status = async (path: string, token: string) => (await env.cluster.api(path, { token })).status;
const nodeBody = (name: string) => JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name } });

test("a second machine cannot join under an existing node's name; deleting the Node frees it", async () => {
  const c = env.cluster;
  const real = await joinCluster({ server: c.localURL, token: c.joinToken, nodeName: "edge-a", dataDir: machine("real") });
  const created = await c.api("/api/v1/nodes", { method: "POST", token: real.nodeToken, body: nodeBody("edge-a"), headers: { "content-type": "application/json" } });
  expect(created.status).toBe(201);

  // Same join token, same name, another machine (another node password): refused, and the real node keeps working.
  const err = await joinCluster({ server: c.localURL, token: c.joinToken, nodeName: "edge-a", dataDir: machine("thief") }).then(() => new Error("joined"), (e: Error) => e);
  expect(err).toBeInstanceOf(Error);
  expect(err.message).toContain("Node password rejected");
  expect(err.message).toContain("kube-system/edge-a.node-password.kubun");
  expect(await status("/api/v1/nodes/edge-a", real.nodeToken)).toBe(200);
  // The password is kept as a salted hash in a k3s-style Secret.
  const secret = (await (await c.api("/api/v1/namespaces/kube-system/secrets/edge-a.node-password.kubun")).json()) as any;
  expect(secret.type).toBe("kubun.io/node-password");
  expect(Buffer.from(secret.data.hash, "base64").toString()).toMatch(/^sha256\$[0-9a-f]+\$[0-9a-f]{64}$/);

  // The real machine re-joins fine (same password).
  const again = await joinCluster({ server: c.localURL, token: c.joinToken, nodeName: "edge-a", dataDir: machine("real") });
  expect(await status("/api/v1/nodes/edge-a", again.nodeToken)).toBe(200);

  // An admin deletes the Node: its credentials and node password go with it, and the name is free.
  expect((await c.api("/api/v1/nodes/edge-a", { method: "DELETE" })).status).toBe(200);
  await pollUntil("node credentials revoked", async () => (await status("/api/v1/namespaces/default/pods", again.nodeToken)) === 401, 20_000);
  await pollUntil("node password removed", async () => (await c.api("/api/v1/namespaces/kube-system/secrets/edge-a.node-password.kubun")).status === 404, 20_000);
  const replacement = await joinCluster({ server: c.localURL, token: c.joinToken, nodeName: "edge-a", dataDir: machine("thief") });
  expect(await status("/api/v1/nodes", replacement.nodeToken)).toBe(200);
});

test("node and kube-proxy credentials expire, are renewed by the node itself, and renewal replaces the old ones", async () => {
  const c = env.cluster;
  const creds = await joinCluster({ server: c.localURL, token: c.joinToken, nodeName: "edge-b", dataDir: machine("b") });
  // Days, not a year.
  const left = Date.parse(creds.expires!) - Date.now();
  expect(left).toBeGreaterThan(86_400_000);
  expect(left).toBeLessThanOrEqual(7 * 86_400_000);
  const whoami = async (token: string) => {
    const r = await c.api("/apis/authentication.k8s.io/v1/selfsubjectreviews", { method: "POST", token, body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }), headers: { "content-type": "application/json" } });
    return r.status === 201 ? ((await r.json()) as any).status.userInfo.username : r.status;
  };
  expect(await whoami(creds.proxyToken!)).toBe("system:kube-proxy");
  expect(await whoami(creds.nodeToken)).toBe("system:node:edge-b");

  const renewed = await renewNodeCredentials({ server: c.localURL, current: creds, nodeName: "edge-b" });
  expect(renewed.nodeToken).not.toBe(creds.nodeToken);
  expect(await whoami(renewed.nodeToken)).toBe("system:node:edge-b");
  expect(await whoami(renewed.proxyToken!)).toBe("system:kube-proxy");
  expect(await whoami(creds.nodeToken)).toBe(401);
  expect(await whoami(creds.proxyToken!)).toBe(401);

  // A node may renew only its own credentials; the join token without the node password gets nothing; a revoked
  // token cannot renew.
  const other = await renewNodeCredentials({ server: c.localURL, current: renewed, nodeName: "edge-a" }).then(() => new Error("renewed"), (e: Error) => e);
  expect(other.message).toContain('node "edge-b" may not renew the credentials of node "edge-a"');
  await expect(renewNodeCredentials({ server: c.localURL, current: { ...renewed, nodeToken: c.joinToken }, nodeName: "edge-b" })).rejects.toThrow(/nodePassword is required/);
  await expect(renewNodeCredentials({ server: c.localURL, current: creds, nodeName: "edge-b" })).rejects.toThrow(/401/);

  // Expired credentials are refused.
  const short = await issueNodeCredentials(c.store, "edge-c", 1);
  await Bun.sleep(5);
  expect(await whoami(short.nodeToken)).toBe(401);
  expect(await whoami(short.proxyToken)).toBe(401);
});

test("the agent's credential manager renews when half the lifetime is gone and re-joins after its Node is deleted", async () => {
  const { NodeCredentialManager, ensureServingKey } = await import("../../internal/agent/credentials.ts");
  const { createClient } = await import("../../internal/client/client.ts");
  const c = env.cluster;
  const dataDir = machine("managed");
  const m = new NodeCredentialManager({ server: () => c.localURL, joinToken: c.joinToken, nodeName: "edge-m", dataDir, addresses: ["192.0.2.77"], servingKey: await ensureServingKey(join(dataDir, "agent", "serving")) });
  expect(await m.start(new AbortController().signal)).toBe(true);
  expect(m.current.servingCert).toContain("BEGIN CERTIFICATE");
  // The kubelet serves each new certificate as it comes (agent/index.ts → setServingCert).
  const firstCert = m.current.servingCert;
  const served: string[] = [];
  m.onServingCert((pem) => served.push(pem));
  // A client that reads the current token on each request keeps working across renewals.
  const client = createClient({ server: c.localURL, token: m.nodeToken(), tokenSource: m.nodeToken, caPEM: c.caPEM });
  await client.request("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "edge-m" } });

  const first = m.nodeToken();
  await m.refresh(); // not due yet, still accepted: nothing changes
  expect(m.nodeToken()).toBe(first);
  expect(served).toEqual([]);
  // Pretend most of the lifetime is gone: obtained a day ago, expiring in an hour.
  (m as any).obtainedAt = Date.now() - 86_400_000;
  m.current.expires = new Date(Date.now() + 3_600_000).toISOString();
  await m.refresh();
  const second = m.nodeToken();
  expect(second).not.toBe(first);
  expect(served).toEqual([m.current.servingCert!]);
  expect(served[0]).not.toBe(firstCert);
  expect(await status("/api/v1/nodes/edge-m", first)).toBe(401);
  expect((await client.request("GET", "/api/v1/nodes/edge-m"))?.metadata?.name).toBe("edge-m");

  // The Node is deleted (credentials revoked, name freed): the next check joins again with the same password.
  expect((await c.api("/api/v1/nodes/edge-m", { method: "DELETE" })).status).toBe(200);
  await pollUntil("credentials revoked", async () => (await status("/api/v1/namespaces/default/pods", second)) === 401, 20_000);
  await m.refresh();
  expect(m.nodeToken()).not.toBe(second);
  expect(await status("/api/v1/nodes", m.nodeToken())).toBe(200);
}, 60_000);
