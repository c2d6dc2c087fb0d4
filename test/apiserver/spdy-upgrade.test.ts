// SPDY upgrades reach the API server's handlers through the TLS listener: a refused upgrade is an ordinary
// HTTP/1.1 answer with upstream's Status (401, 403 with verb create, 404), and plain requests on other
// connections are unaffected. (Upgrades that succeed are tested with real containers in test/kubelet.)
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

let c: TestCluster;
beforeAll(async () => {
  c = await startTestCluster();
}, 60_000);
afterAll(async () => {
  await c?.stop();
}, 30_000);

/** Sends a SPDY upgrade request on a new TLS connection; resolves with the whole answer. */
function spdyUpgrade(path: string, token?: string): Promise<{ status: number; head: string; body: string }> {
  const port = Number(new URL(c.localURL).port);
  let got = "";
  return new Promise((resolve, reject) => {
    const done = () => {
      const [head = "", body = ""] = got.split("\r\n\r\n");
      resolve({ status: Number(head.split(" ")[1]), head, body });
    };
    void Bun.connect({
      hostname: "127.0.0.1",
      port,
      tls: { ca: c.caPEM, serverName: "localhost" } as any,
      socket: {
        open(s) {
          s.write(
            `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${token ? `Authorization: Bearer ${token}\r\n` : ""}` +
              "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n\r\n",
          );
        },
        data(_s, b) {
          got += b.toString("latin1");
        },
        close: done,
        error: (_s, e) => reject(e),
      },
    }).catch(reject);
  });
}

test("unauthenticated SPDY upgrade: 401 Status, connection closed", async () => {
  const r = await spdyUpgrade("/api/v1/namespaces/default/pods/x/exec?command=true");
  expect(r.status).toBe(401);
  expect(JSON.parse(r.body)).toMatchObject({ kind: "Status", reason: "Unauthorized", code: 401 });
}, 30_000);

test("SPDY exec on a missing pod: 404 Status", async () => {
  const r = await spdyUpgrade("/api/v1/namespaces/default/pods/nope/exec?command=true", c.adminToken);
  expect(r.status).toBe(404);
  expect(JSON.parse(r.body)).toMatchObject({ kind: "Status", reason: "NotFound", message: 'pods "nope" not found', code: 404 });
}, 30_000);

test("SPDY exec is authorized as create on pods/exec", async () => {
  await c.kubectl(["create", "serviceaccount", "viewer"]);
  await c.kubectl(["create", "rolebinding", "viewer", "--clusterrole=view", "--serviceaccount=default:viewer"]);
  const token = (await c.kubectl(["create", "token", "viewer"])).stdout.trim();
  const r = await spdyUpgrade("/api/v1/namespaces/default/pods/p/exec?command=true", token);
  expect(r.status).toBe(403);
  expect(JSON.parse(r.body).message).toBe('pods "p" is forbidden: User "system:serviceaccount:default:viewer" cannot create resource "pods/exec" in API group "" in the namespace "default"');
}, 30_000);

test("plain requests keep working on the same listener, several per connection", async () => {
  for (let i = 0; i < 20; i++) expect((await c.api("/api/v1/namespaces/default")).status).toBe(200);
  const r = await c.kubectl(["get", "ns", "default", "-o", "name"]);
  expect(r.stdout).toBe("namespace/default\n");
}, 30_000);
