// The pods/binding subresource on its direct storage path (as upstream's BindingREST): what it writes, what it
// leaves alone, and the conflicts a scheduler relies on (a pod bound twice, deleted, gated, or changed meanwhile).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { readResponse } from "../helpers/response.ts";
import { createClient, refs, type Client } from "../../internal/client/index.ts";

setDefaultTimeout(60_000);
let c: TestCluster;
let client: Client;
const NS = "/api/v1/namespaces/default";

async function req(method: string, path: string, body?: unknown, type = "application/json") {
  const { status, json } = await readResponse(await c.api(path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { "Content-Type": type } }));
  return { status, json };
}

const pod = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels: { app: "bind" }, annotations: { keep: "me" } },
  spec: { automountServiceAccountToken: false, containers: [{ name: "c", image: "busybox" }], ...extra },
});
const binding = (name: string, node: string, meta: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "Binding",
  metadata: { name, ...meta },
  target: { apiVersion: "v1", kind: "Node", name: node },
});

beforeAll(async () => {
  c = await startTestCluster();
  client = createClient(c.clientConfig);
  expect((await req("POST", `${NS}/serviceaccounts`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } })).status).toBe(201);
});
afterAll(async () => {
  await c?.stop();
});

describe("pods/binding", () => {
  test("sets nodeName, PodScheduled=True and the binding's annotations; keeps managedFields; one watch event", async () => {
    const created = await req("POST", `${NS}/pods`, pod("b-1"));
    expect(created.status).toBe(201);
    const events: any[] = [];
    const ac = new AbortController();
    const watching = (async () => {
      for await (const ev of client.resource(refs.pods, "default").watch({ resourceVersion: created.json.metadata.resourceVersion, fieldSelector: "metadata.name=b-1", signal: ac.signal })) events.push(ev);
    })().catch(() => {});
    const b = await req("POST", `${NS}/pods/b-1/binding`, binding("b-1", "node-a", { annotations: { "sched/why": "best", __proto__x: "1", ["__proto__"]: "p" } }));
    expect(b.status).toBe(201);
    expect(b.json).toMatchObject({ kind: "Status", status: "Success", code: 201 });
    const p = (await req("GET", `${NS}/pods/b-1`)).json;
    expect(p.spec.nodeName).toBe("node-a");
    expect(p.status.conditions.filter((x: any) => x.type === "PodScheduled")).toEqual([
      expect.objectContaining({ type: "PodScheduled", status: "True" }),
    ]);
    expect(p.metadata.annotations).toEqual({ keep: "me", "sched/why": "best", __proto__x: "1", ["__proto__"]: "p" });
    expect(Object.getPrototypeOf(p.metadata.annotations)).toBe(Object.prototype);
    expect(p.metadata.managedFields).toEqual(created.json.metadata.managedFields);
    expect(p.metadata.uid).toBe(created.json.metadata.uid);
    expect(Number(p.metadata.resourceVersion)).toBeGreaterThan(Number(created.json.metadata.resourceVersion));
    for (let i = 0; i < 50 && events.length < 1; i++) await Bun.sleep(20);
    ac.abort();
    await watching;
    expect(events.map((e) => e.type)).toEqual(["MODIFIED"]);
    expect(events[0].object.spec.nodeName).toBe("node-a");
  });

  test("a pod bound twice: the second binding is a 409 and the first node stays", async () => {
    await req("POST", `${NS}/pods`, pod("b-2"));
    // Two schedulers racing: exactly one wins.
    const [x, y] = await Promise.all([req("POST", `${NS}/pods/b-2/binding`, binding("b-2", "node-x")), req("POST", `${NS}/bindings`, binding("b-2", "node-y"))]);
    expect([x.status, y.status].sort()).toEqual([201, 409]);
    const loser = x.status === 409 ? x : y;
    const winner = x.status === 201 ? "node-x" : "node-y";
    expect(loser.json).toMatchObject({ kind: "Status", reason: "Conflict", code: 409, details: { name: "b-2", kind: "pods/binding" } });
    expect(loser.json.message).toBe(`Operation cannot be fulfilled on pods/binding "b-2": pod b-2 is already assigned to node "${winner}"`);
    expect((await req("GET", `${NS}/pods/b-2`)).json.spec.nodeName).toBe(winner);
  });

  test("preconditions: a uid or resourceVersion that does not match is a 409 and nothing is written", async () => {
    const created = (await req("POST", `${NS}/pods`, pod("b-3"))).json;
    const u = await req("POST", `${NS}/pods/b-3/binding`, binding("b-3", "n", { uid: "not-the-uid" }));
    expect(u.status).toBe(409);
    expect(u.json.message).toContain(`Precondition failed: UID in precondition: not-the-uid, UID in object meta: ${created.metadata.uid}`);
    const r = await req("POST", `${NS}/pods/b-3/binding`, binding("b-3", "n", { resourceVersion: "1" }));
    expect(r.status).toBe(409);
    expect(r.json.message).toContain("Precondition failed: ResourceVersion in precondition: 1");
    const after = (await req("GET", `${NS}/pods/b-3`)).json;
    expect(after.spec.nodeName).toBeUndefined();
    expect(after.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    const ok = await req("POST", `${NS}/pods/b-3/binding`, binding("b-3", "n", { uid: created.metadata.uid, resourceVersion: created.metadata.resourceVersion }));
    expect(ok.status).toBe(201);
  });

  test("a pod being deleted, a gated pod and a missing pod cannot be bound", async () => {
    await req("POST", `${NS}/pods`, { ...pod("b-4"), metadata: { ...pod("b-4").metadata, finalizers: ["test/hold"] } });
    expect((await req("DELETE", `${NS}/pods/b-4`)).status).toBe(200);
    const del = await req("POST", `${NS}/pods/b-4/binding`, binding("b-4", "n"));
    expect(del.status).toBe(409);
    expect(del.json.message).toContain("pod b-4 is being deleted, cannot be assigned to a host");
    await req("PATCH", `${NS}/pods/b-4`, { metadata: { finalizers: null } }, "application/merge-patch+json");

    await req("POST", `${NS}/pods`, pod("b-5", { schedulingGates: [{ name: "wait" }] }));
    const gated = await req("POST", `${NS}/pods/b-5/binding`, binding("b-5", "n"));
    expect(gated.status).toBe(409);
    expect(gated.json.message).toContain("pod b-5 has non-empty .spec.schedulingGates");

    const missing = await req("POST", `${NS}/pods/nope/binding`, binding("nope", "n"));
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ reason: "NotFound", message: 'pods "nope" not found' });
  });

  test("bad bindings are 400s", async () => {
    await req("POST", `${NS}/pods`, pod("b-6"));
    expect((await req("POST", `${NS}/pods/b-6/binding`, { ...binding("b-6", "n"), target: { kind: "Service", name: "n" } })).status).toBe(400);
    expect((await req("POST", `${NS}/pods/b-6/binding`, binding("other", "n"))).status).toBe(400);
    expect((await req("POST", `${NS}/pods/b-6/binding`, binding("b-6", "n", { annotations: { a: 1 } }))).status).toBe(400);
    expect((await req("GET", `${NS}/pods/b-6`)).json.spec.nodeName).toBeUndefined();
  });

  test("a binding racing with status writes to the same pod is applied on top of them (no lost update)", async () => {
    const names = Array.from({ length: 20 }, (_, i) => `race-${i}`);
    await Promise.all(names.map((n) => req("POST", `${NS}/pods`, pod(n))));
    await Promise.all(
      names.flatMap((n) => [
        req("POST", `${NS}/pods/${n}/binding`, binding(n, "node-r")),
        req("PATCH", `${NS}/pods/${n}/status`, { status: { message: "hello" } }, "application/merge-patch+json"),
        req("PATCH", `${NS}/pods/${n}`, { metadata: { labels: { touched: "yes" } } }, "application/merge-patch+json"),
      ]),
    );
    for (const n of names) {
      const p = (await req("GET", `${NS}/pods/${n}`)).json;
      expect(p.spec.nodeName).toBe("node-r");
      expect(p.status.message).toBe("hello");
      expect(p.metadata.labels).toEqual({ app: "bind", touched: "yes" });
      expect(p.status.conditions.some((x: any) => x.type === "PodScheduled" && x.status === "True")).toBe(true);
    }
  });

  test("a terminating namespace refuses new bindings (admission sees the Binding CREATE)", async () => {
    await req("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "bind-term" } });
    await req("POST", "/api/v1/namespaces/bind-term/serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } });
    expect((await req("POST", "/api/v1/namespaces/bind-term/pods", { ...pod("t"), metadata: { name: "t", finalizers: ["test/hold"] } })).status).toBe(201);
    expect((await req("DELETE", "/api/v1/namespaces/bind-term")).status).toBe(200);
    const b = await req("POST", "/api/v1/namespaces/bind-term/pods/t/binding", binding("t", "n"));
    expect(b.status).toBe(403);
    expect(b.json.message).toContain("because it is being terminated");
    await req("PATCH", "/api/v1/namespaces/bind-term/pods/t", { metadata: { finalizers: null } }, "application/merge-patch+json");
  });
});
