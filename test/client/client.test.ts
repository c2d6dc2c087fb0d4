import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError, createClient, fromKubeconfig, refs } from "../../internal/client/index.ts";
import { startFakeApiServer, type FakeApiServer } from "./fake-apiserver.ts";

let srv: FakeApiServer;
beforeAll(() => {
  srv = startFakeApiServer();
});
afterAll(() => srv.stop());

const pod = (name: string, ns = "default") => ({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns }, spec: {} });

test("CRUD on a namespaced resource sends bearer token and JSON", async () => {
  const c = createClient({ server: srv.url, token: "t0k3n" });
  const pods = c.resource<any>(refs.pods, "ns1");
  const created = await pods.create(pod("a", "ns1"));
  expect(created.metadata.uid).toBeString();
  expect((await pods.get("a")).metadata.name).toBe("a");
  const last = srv.requests.at(-1)!;
  expect(last.auth).toBe("Bearer t0k3n");
  expect(last.path).toBe("/api/v1/namespaces/ns1/pods/a");
  const updated = await pods.update({ ...created, spec: { nodeName: "n1" } });
  expect(updated.spec.nodeName).toBe("n1");
  const patched = await pods.patch("a", "merge", { spec: { hostname: "h" } });
  expect(patched.spec.hostname).toBe("h");
  expect(srv.requests.at(-1)!.method).toBe("PATCH");
  await pods.createSubresource("a", "binding", { target: { name: "n1" } });
  expect(srv.requests.at(-1)!.path).toBe("/api/v1/namespaces/ns1/pods/a/binding");
  await pods.delete("a");
  await expect(pods.get("a")).rejects.toBeInstanceOf(ApiError);
});

test("non-2xx answers become ApiError carrying the Status", async () => {
  const c = createClient({ server: srv.url, token: "t0k3n" });
  const pods = c.resource<any>(refs.pods, "default");
  await pods.create(pod("dup"));
  const err = await pods.create(pod("dup")).catch((e) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect(err.code).toBe(409);
  expect(err.reason).toBe("AlreadyExists");
  expect(err.status.kind).toBe("Status");
  const bad = createClient({ server: srv.url, token: "wrong" });
  const e2 = await bad.resource(refs.pods).list().catch((e) => e);
  expect(e2.code).toBe(401);
});

test("resource without namespace uses the object's namespace for writes and cluster paths for lists", async () => {
  const c = createClient({ server: srv.url, token: "t0k3n" });
  const pods = c.resource<any>(refs.pods);
  await pods.create(pod("x", "other"));
  expect(srv.requests.at(-1)!.path).toBe("/api/v1/namespaces/other/pods");
  const list = await pods.list({ labelSelector: "a=b" });
  expect(srv.requests.at(-1)!.path).toBe("/api/v1/pods");
  expect(srv.requests.at(-1)!.search).toBe("?labelSelector=a%3Db");
  expect(list.items.some((p: any) => p.metadata.name === "x")).toBe(true);
  const leases = c.resource(refs.leases, "kube-system");
  await leases.list();
  expect(srv.requests.at(-1)!.path).toBe("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases");
});

test("watch streams newline-delimited events and stops on abort", async () => {
  const c = createClient({ server: srv.url, token: "t0k3n" });
  const pods = c.resource<any>(refs.pods, "w");
  const ac = new AbortController();
  const seen: string[] = [];
  const done = (async () => {
    for await (const ev of pods.watch({ signal: ac.signal })) {
      seen.push(`${ev.type} ${ev.object.metadata.name}`);
      if (seen.length === 3) ac.abort();
    }
  })();
  while (srv.watchers() === 0) await Bun.sleep(5);
  await pods.create(pod("w1", "w"));
  await pods.patch("w1", "merge", { spec: { a: 1 } });
  await pods.delete("w1");
  await done;
  expect(seen).toEqual(["ADDED w1", "MODIFIED w1", "DELETED w1"]);
});

test("watch ends after an ERROR event", async () => {
  const c = createClient({ server: srv.url, token: "t0k3n" });
  srv.compact();
  const evs: string[] = [];
  for await (const ev of c.resource<any>(refs.pods).watch({ resourceVersion: "1" })) evs.push(ev.type);
  expect(evs).toEqual(["ERROR"]);
});

test("fromKubeconfig reads server, CA data and token of the current context", () => {
  const dir = mkdtempSync(join(tmpdir(), "kc-"));
  const p = join(dir, "kubeconfig.yaml");
  writeFileSync(
    p,
    `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: ${Buffer.from("-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n").toString("base64")}
users:
- name: u
  user:
    token: abc
contexts:
- name: ctx
  context: {cluster: c, user: u}
current-context: ctx
`,
  );
  const cfg = fromKubeconfig(p);
  rmSync(dir, { recursive: true, force: true });
  expect(cfg.server).toBe("https://127.0.0.1:6443");
  expect(cfg.token).toBe("abc");
  expect(cfg.caPEM).toContain("BEGIN CERTIFICATE");
});
