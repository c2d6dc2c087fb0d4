// REST semantics over HTTP against a real control plane: status codes, reasons and messages as upstream.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { readResponse } from "../helpers/response.ts";

// kubectl takes a few hundred ms per call; some tests make a dozen calls.
setDefaultTimeout(60_000);
let c: TestCluster;
const NS = "/api/v1/namespaces/default";

beforeAll(async () => {
  c = await startTestCluster();
});
afterAll(async () => {
  await c?.stop();
});

async function req(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const h: Record<string, string> = { ...headers };
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === "string" ? body : JSON.stringify(body);
    h["Content-Type"] ??= "application/json";
  }
  return readResponse(await c.api(path, { method, body: payload, headers: h }));
}

const cm = (name: string, data: Record<string, string> = { a: "1" }, labels?: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, ...(labels ? { labels } : {}) },
  data,
});

describe("create / get / update", () => {
  test("create sets uid, creationTimestamp, resourceVersion; get returns it", async () => {
    const r = await req("POST", `${NS}/configmaps`, cm("c1"));
    expect(r.status).toBe(201);
    expect(r.json.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.json.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(r.json.metadata.resourceVersion)).toBeGreaterThan(0);
    const g = await req("GET", `${NS}/configmaps/c1`);
    expect(g.status).toBe(200);
    expect(g.json.data).toEqual({ a: "1" });
    expect(g.json.metadata.resourceVersion).toBe(r.json.metadata.resourceVersion);
  });

  test("duplicate create → 409 AlreadyExists", async () => {
    const r = await req("POST", `${NS}/configmaps`, cm("c1"));
    expect(r.status).toBe(409);
    expect(r.json.reason).toBe("AlreadyExists");
    expect(r.json.message).toBe('configmaps "c1" already exists');
    expect(r.json.details).toEqual({ name: "c1", kind: "configmaps" });
  });

  test("generateName", async () => {
    const r = await req("POST", `${NS}/configmaps`, { apiVersion: "v1", kind: "ConfigMap", metadata: { generateName: "gen-" } });
    expect(r.status).toBe(201);
    expect(r.json.metadata.name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  test("stale resourceVersion on update → 409 Conflict with upstream's message", async () => {
    const g = await req("GET", `${NS}/configmaps/c1`);
    const first = { ...g.json, data: { a: "2" } };
    expect((await req("PUT", `${NS}/configmaps/c1`, first)).status).toBe(200);
    const stale = { ...g.json, data: { a: "3" } };
    const r = await req("PUT", `${NS}/configmaps/c1`, stale);
    expect(r.status).toBe(409);
    expect(r.json.reason).toBe("Conflict");
    expect(r.json.message).toBe(
      'Operation cannot be fulfilled on configmaps "c1": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  test("concurrent unpinned patches all land; concurrent pinned updates: exactly one wins", async () => {
    await req("POST", `${NS}/configmaps`, cm("hot", {}));
    const patches = await Promise.all(
      Array.from({ length: 40 }, (_, i) => req("PATCH", `${NS}/configmaps/hot`, { data: { [`k${i}`]: "v" } }, { "Content-Type": "application/merge-patch+json" })),
    );
    expect(patches.map((p) => p.status)).toEqual(Array(40).fill(200));
    const after = await req("GET", `${NS}/configmaps/hot`);
    expect(Object.keys(after.json.data).length).toBe(40);
    const puts = await Promise.all(Array.from({ length: 10 }, (_, i) => req("PUT", `${NS}/configmaps/hot`, { ...after.json, data: { winner: String(i) } })));
    expect(puts.filter((p) => p.status === 200).length).toBe(1);
    expect(puts.filter((p) => p.status === 409).every((p) => p.json.reason === "Conflict")).toBe(true);
  });

  test("concurrent server-side applies of a new object: one creates, the others apply onto it", async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        req("PATCH", `${NS}/configmaps/ssa-race?fieldManager=m${i}`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ssa-race" }, data: { [`m${i}`]: "x" } }, { "Content-Type": "application/apply-patch+yaml" }),
      ),
    );
    expect(results.filter((r) => r.status === 201).length).toBe(1);
    expect(results.filter((r) => r.status === 200).length).toBe(4);
    const live = await req("GET", `${NS}/configmaps/ssa-race`);
    expect(Object.keys(live.json.data).sort()).toEqual(["m0", "m1", "m2", "m3", "m4"]);
  });

  test("update without resourceVersion is unconditional", async () => {
    const r = await req("PUT", `${NS}/configmaps/c1`, cm("c1", { a: "9" }));
    expect(r.status).toBe(200);
    expect(r.json.data).toEqual({ a: "9" });
  });

  test("404 for a missing object, with details", async () => {
    const r = await req("GET", `${NS}/configmaps/nope`);
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ kind: "Status", status: "Failure", reason: "NotFound", message: 'configmaps "nope" not found', details: { name: "nope", kind: "configmaps" } });
    const d = await req("GET", "/apis/apps/v1/namespaces/default/deployments/nope");
    expect(d.json.message).toBe('deployments.apps "nope" not found');
    expect(d.json.details.group).toBe("apps");
  });

  test("name mismatch between URL and body → 400", async () => {
    const r = await req("PUT", `${NS}/configmaps/c1`, cm("other"));
    expect(r.status).toBe(400);
    expect(r.json.reason).toBe("BadRequest");
  });

  test("YAML bodies are accepted", async () => {
    const yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n";
    const r = await req("POST", `${NS}/configmaps`, yaml, { "Content-Type": "application/yaml" });
    expect(r.status).toBe(201);
    expect(r.json.data).toEqual({ k: "v" });
  });

  test("malformed JSON and YAML → 400 BadRequest, server still up", async () => {
    for (const [body, type] of [["{not json", "application/json"], ["a: [unclosed", "application/yaml"], ["[1,2]", "application/json"], ["null", "application/json"]]) {
      const r = await req("POST", `${NS}/configmaps`, body, { "Content-Type": type! });
      expect(r.status).toBe(400);
      expect(r.json.reason).toBe("BadRequest");
    }
    expect((await req("GET", `${NS}/configmaps/c1`)).status).toBe(200);
  });

  test("unsupported media type → 415", async () => {
    const r = await req("POST", `${NS}/configmaps`, "x", { "Content-Type": "text/plain" });
    expect(r.status).toBe(415);
    expect(r.json.reason).toBe("UnsupportedMediaType");
    const p = await req("PATCH", `${NS}/configmaps/c1`, "{}", { "Content-Type": "application/json" });
    expect(p.status).toBe(415);
  });

  test("bodies over 3 MiB → 413", async () => {
    const big = cm("big", { x: "y".repeat(3 * 1024 * 1024 + 10) });
    const r = await req("POST", `${NS}/configmaps`, big);
    expect(r.status).toBe(413);
    expect(r.json.reason).toBe("RequestEntityTooLarge");
  });

  test("kind/apiVersion mismatch → 400", async () => {
    const r = await req("POST", `${NS}/configmaps`, { apiVersion: "v1", kind: "Secret", metadata: { name: "x" } });
    expect(r.status).toBe(400);
  });

  test("validation → 422 Invalid with causes", async () => {
    const r = await req("POST", `${NS}/configmaps`, cm("Bad_Name"));
    expect(r.status).toBe(422);
    expect(r.json.reason).toBe("Invalid");
    expect(r.json.details.kind).toBe("ConfigMap");
    expect(r.json.details.causes[0].field).toBe("metadata.name");
    expect(r.json.message).toStartWith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"');
  });

  test("dryRun=All validates but does not store", async () => {
    const r = await req("POST", `${NS}/configmaps?dryRun=All`, cm("dry"));
    expect(r.status).toBe(201);
    expect((await req("GET", `${NS}/configmaps/dry`)).status).toBe(404);
    const bad = await req("POST", `${NS}/configmaps?dryRun=Some`, cm("dry"));
    expect(bad.status).toBe(422); // upstream: CreateOptions validation, see dryrun.test.ts
    const del = await req("DELETE", `${NS}/configmaps/c1?dryRun=All`);
    expect(del.status).toBe(200);
    expect((await req("GET", `${NS}/configmaps/c1`)).status).toBe(200);
  });

  test("fieldValidation Strict rejects, Warn warns, Ignore drops unknown fields", async () => {
    const body = { ...cm("fv"), spec: { foo: 1 } };
    const strict = await req("POST", `${NS}/configmaps?fieldValidation=Strict`, body);
    expect(strict.status).toBe(400);
    expect(strict.json.message).toBe('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "spec"');
    const dup = await req("POST", `${NS}/configmaps?fieldValidation=Strict`, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d1","name":"d2"}}');
    expect(dup.status).toBe(400);
    expect(dup.json.message).toContain('strict decoding error: duplicate field "metadata.name"');
    const wrongType = await req("POST", "/apis/apps/v1/namespaces/default/deployments", { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "wt" }, spec: { replicas: "three" } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.message).toStartWith('Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string');
    const warn = await req("POST", `${NS}/configmaps?fieldValidation=Warn`, body);
    expect(warn.status).toBe(201);
    expect(warn.headers.get("warning")).toBe('299 - "unknown field \\"spec\\""');
    expect(warn.json.spec).toBeUndefined();
    const ignore = await req("POST", `${NS}/configmaps?fieldValidation=Ignore`, { ...body, metadata: { name: "fv2" } });
    expect(ignore.status).toBe(201);
    expect(ignore.headers.get("warning")).toBeNull();
  });
});

describe("generation and status subresource", () => {
  const dep = (replicas: number) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d1" },
    spec: {
      replicas,
      selector: { matchLabels: { app: "d1" } },
      template: { metadata: { labels: { app: "d1" } }, spec: { containers: [{ name: "c", image: "busybox" }] } },
    },
  });
  const D = "/apis/apps/v1/namespaces/default/deployments";

  test("generation bumps on spec changes only; status ignores spec and vice versa", async () => {
    const created = await req("POST", D, { ...dep(1), status: { replicas: 5 } });
    expect(created.status).toBe(201);
    expect(created.json.metadata.generation).toBe(1);
    expect(created.json.status?.replicas).toBeUndefined();

    const labelled = await req("PATCH", `${D}/d1`, { metadata: { labels: { x: "y" } } }, { "Content-Type": "application/merge-patch+json" });
    expect(labelled.json.metadata.generation).toBe(1);

    const scaled = await req("PATCH", `${D}/d1`, { spec: { replicas: 3 } }, { "Content-Type": "application/merge-patch+json" });
    expect(scaled.json.metadata.generation).toBe(2);

    const st = await req("PATCH", `${D}/d1/status`, { spec: { replicas: 9 }, status: { replicas: 2 } }, { "Content-Type": "application/merge-patch+json" });
    expect(st.status).toBe(200);
    expect(st.json.status.replicas).toBe(2);
    expect(st.json.spec.replicas).toBe(3);
    expect(st.json.metadata.generation).toBe(2);

    const main = await req("PATCH", `${D}/d1`, { status: { replicas: 7 } }, { "Content-Type": "application/merge-patch+json" });
    expect(main.json.status.replicas).toBe(2);
  });

  test("pods/ephemeralcontainers changes only spec.ephemeralContainers", async () => {
    await req("POST", `${NS}/serviceaccounts`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } });
    await req("POST", `${NS}/pods`, { apiVersion: "v1", kind: "Pod", metadata: { name: "dbg" }, spec: { containers: [{ name: "c", image: "busybox" }] } });
    const r = await req(
      "PATCH",
      `${NS}/pods/dbg/ephemeralcontainers`,
      { spec: { containers: [{ name: "c", image: "evil" }], ephemeralContainers: [{ name: "debugger", image: "busybox", stdin: true, tty: true }] } },
      { "Content-Type": "application/strategic-merge-patch+json" },
    );
    expect(r.status).toBe(200);
    expect(r.json.spec.ephemeralContainers.map((c: any) => c.name)).toEqual(["debugger"]);
    expect(r.json.spec.containers[0].image).toBe("busybox");
  });

  test("scale subresource", async () => {
    const s = await req("GET", `${D}/d1/scale`);
    expect(s.json).toMatchObject({ kind: "Scale", apiVersion: "autoscaling/v1", spec: { replicas: 3 }, status: { selector: "app=d1" } });
    const put = await req("PUT", `${D}/d1/scale`, { ...s.json, spec: { replicas: 4 } });
    expect(put.status).toBe(200);
    expect(put.json.spec.replicas).toBe(4);
    const neg = await req("PATCH", `${D}/d1/scale`, { spec: { replicas: -1 } }, { "Content-Type": "application/merge-patch+json" });
    expect(neg.status).toBe(422);
    expect(neg.json.reason).toBe("Invalid");
    const d = await req("GET", `${D}/d1`);
    expect(d.json.spec.replicas).toBe(4);
  });
});

describe("list", () => {
  beforeAll(async () => {
    for (let i = 0; i < 12; i++) {
      await req("POST", `${NS}/configmaps`, cm(`page-${String(i).padStart(2, "0")}`, { i: String(i) }, { tier: i % 3 === 0 ? "a" : "b", idx: String(i) }));
    }
  });

  test("limit/continue pages through a consistent snapshot", async () => {
    const names: string[] = [];
    let cont = "";
    let rv = "";
    let pages = 0;
    do {
      const r = await req("GET", `${NS}/configmaps?labelSelector=idx&limit=5${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`);
      expect(r.status).toBe(200);
      if (!rv) rv = r.json.metadata.resourceVersion;
      else expect(r.json.metadata.resourceVersion).toBe(rv);
      names.push(...r.json.items.map((i: any) => i.metadata.name));
      cont = r.json.metadata.continue ?? "";
      pages++;
      if (pages === 1) await req("POST", `${NS}/configmaps`, cm("page-99", {}, { idx: "99" }));
    } while (cont);
    expect(pages).toBe(3);
    expect(names).toEqual(Array.from({ length: 12 }, (_, i) => `page-${String(i).padStart(2, "0")}`));
  });

  test("large lists are gzipped for clients that accept it", async () => {
    for (let i = 0; i < 40; i++) await req("POST", `${NS}/configmaps`, cm(`big-${i}`, { blob: "x".repeat(4096) }, { big: "yes" }));
    const raw = await c.api(`${NS}/configmaps?labelSelector=big`, { headers: { "Accept-Encoding": "gzip" }, decompress: false } as any);
    expect(raw.headers.get("content-encoding")).toBe("gzip");
    const body = JSON.parse(new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await raw.arrayBuffer()))));
    expect(body.items.length).toBe(40);
    const small = await c.api(`${NS}/configmaps/big-1`, { headers: { "Accept-Encoding": "gzip" }, decompress: false } as any);
    expect(small.headers.get("content-encoding")).toBeNull();
    await req("DELETE", `${NS}/configmaps?labelSelector=big`);
  });

  test("remainingItemCount without selectors", async () => {
    const r = await req("GET", `/api/v1/namespaces/kube-public/configmaps?limit=1`);
    expect(r.status).toBe(200);
    const all = await req("GET", `${NS}/configmaps?limit=2`);
    expect(all.json.metadata.remainingItemCount).toBeGreaterThan(0);
  });

  test("label selectors", async () => {
    const names = async (sel: string) =>
      (await req("GET", `${NS}/configmaps?labelSelector=${encodeURIComponent(sel)}`)).json.items.map((i: any) => i.metadata.name).sort();
    expect(await names("tier=a")).toEqual(["page-00", "page-03", "page-06", "page-09"]);
    expect(await names("tier==a,idx!=0")).toEqual(["page-03", "page-06", "page-09"]);
    expect(await names("idx in (1,2)")).toEqual(["page-01", "page-02"]);
    expect(await names("tier notin (b),idx")).toEqual(["page-00", "page-03", "page-06", "page-09", "page-99"]);
    expect((await names("!tier")).includes("page-99")).toBe(true);
    const bad = await req("GET", `${NS}/configmaps?labelSelector=${encodeURIComponent("a b c")}`);
    expect(bad.status).toBe(400);
  });

  test("field selectors, including unsupported ones", async () => {
    const r = await req("GET", `/api/v1/configmaps?fieldSelector=metadata.name=page-01`);
    expect(r.json.items.map((i: any) => i.metadata.name)).toEqual(["page-01"]);
    const ns = await req("GET", `/api/v1/configmaps?fieldSelector=metadata.namespace!=default`);
    expect(ns.json.items.every((i: any) => i.metadata.namespace !== "default")).toBe(true);
    const bad = await req("GET", `${NS}/configmaps?fieldSelector=spec.foo=1`);
    expect(bad.status).toBe(400);
    expect(bad.json.message).toBe("field label not supported: spec.foo");
    const pods = await req("GET", `/api/v1/pods?fieldSelector=spec.nodeName=n1,status.phase!=Failed`);
    expect(pods.status).toBe(200);
  });

  test("resourceVersionMatch=Exact reads history; compacted → 410 Expired", async () => {
    const before = await req("GET", `${NS}/configmaps`);
    const rv = before.json.metadata.resourceVersion;
    await req("POST", `${NS}/configmaps`, cm("after-exact"));
    const exact = await req("GET", `${NS}/configmaps?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    expect(exact.status).toBe(200);
    expect(exact.json.items.length).toBe(before.json.items.length);
    const cur = await c.store.currentRevision();
    await c.store.compact(cur);
    const gone = await req("GET", `${NS}/configmaps?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    expect(gone.status).toBe(410);
    expect(gone.json.reason).toBe("Expired");
  });
});

describe("delete", () => {
  test("finalizers keep the object with deletionTimestamp until removed", async () => {
    await req("POST", `${NS}/configmaps`, { ...cm("fin"), metadata: { name: "fin", finalizers: ["example.com/hold"] } });
    const d = await req("DELETE", `${NS}/configmaps/fin`);
    expect(d.status).toBe(200);
    const g = await req("GET", `${NS}/configmaps/fin`);
    expect(g.json.metadata.deletionTimestamp).toBeDefined();
    const add = await req("PATCH", `${NS}/configmaps/fin`, { metadata: { finalizers: ["example.com/hold", "x/y"] } }, { "Content-Type": "application/merge-patch+json" });
    expect(add.status).toBe(422);
    const rm = await req("PATCH", `${NS}/configmaps/fin`, { metadata: { finalizers: null } }, { "Content-Type": "application/merge-patch+json" });
    expect(rm.status).toBe(200);
    expect((await req("GET", `${NS}/configmaps/fin`)).status).toBe(404);
  });

  test("propagationPolicy adds the orphan / foregroundDeletion finalizer", async () => {
    await req("POST", `${NS}/configmaps`, cm("orph"));
    const o = await req("DELETE", `${NS}/configmaps/orph`, { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Orphan" });
    expect(o.status).toBe(200);
    expect(o.json.metadata.finalizers).toEqual(["orphan"]);
    await req("POST", `${NS}/configmaps`, { ...cm("legacy"), metadata: { name: "legacy", finalizers: ["x/y"] } });
    const legacy = await req("DELETE", `${NS}/configmaps/legacy`, { orphanDependents: false });
    expect(legacy.status).toBe(202);
    await req("POST", `${NS}/configmaps`, cm("fg"));
    const f = await req("DELETE", `${NS}/configmaps/fg?propagationPolicy=Foreground`);
    expect(f.json.metadata.finalizers).toEqual(["foregroundDeletion"]);
    await req("POST", `${NS}/configmaps`, cm("bg"));
    const b = await req("DELETE", `${NS}/configmaps/bg?propagationPolicy=Background`);
    expect(b.status).toBe(200);
    expect(b.json).toMatchObject({ kind: "Status", status: "Success", details: { name: "bg", kind: "configmaps" } });
    const bad = await req("DELETE", `${NS}/configmaps/fg?propagationPolicy=Sideways`);
    expect(bad.status).toBe(422);
  });

  test("preconditions", async () => {
    const c1 = await req("POST", `${NS}/configmaps`, cm("pre"));
    const bad = await req("DELETE", `${NS}/configmaps/pre`, { preconditions: { uid: "00000000-0000-0000-0000-000000000000" } });
    expect(bad.status).toBe(409);
    expect(bad.json.reason).toBe("Conflict");
    expect(bad.json.message).toContain("Precondition failed: UID in precondition");
    const ok = await req("DELETE", `${NS}/configmaps/pre`, { preconditions: { uid: c1.json.metadata.uid, resourceVersion: c1.json.metadata.resourceVersion } });
    expect(ok.status).toBe(200);
  });

  test("graceful deletion of bound pods; unbound pods go at once", async () => {
    await req("POST", `${NS}/serviceaccounts`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } });
    const pod = (name: string, nodeName?: string) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: "c", image: "busybox" }] },
    });
    expect((await req("POST", `${NS}/pods`, pod("unbound"))).status).toBe(201);
    const u = await req("DELETE", `${NS}/pods/unbound`);
    expect(u.status).toBe(200);
    expect((await req("GET", `${NS}/pods/unbound`)).status).toBe(404);

    expect((await req("POST", `${NS}/pods`, pod("bound", "node-a"))).status).toBe(201);
    const b = await req("DELETE", `${NS}/pods/bound`);
    expect(b.status).toBe(200);
    expect(b.json.metadata.deletionGracePeriodSeconds).toBe(30);
    expect((await req("GET", `${NS}/pods/bound`)).json.metadata.deletionTimestamp).toBeDefined();
    const now = await req("DELETE", `${NS}/pods/bound`, { gracePeriodSeconds: 0 });
    expect(now.status).toBe(200);
    expect((await req("GET", `${NS}/pods/bound`)).status).toBe(404);
  });

  test("namespace deletion: Terminating until /finalize clears spec.finalizers", async () => {
    expect((await req("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "doomed" } })).status).toBe(201);
    const ns = await req("GET", "/api/v1/namespaces/doomed");
    expect(ns.json.spec.finalizers).toEqual(["kubernetes"]);
    expect(ns.json.status.phase).toBe("Active");
    const d = await req("DELETE", "/api/v1/namespaces/doomed");
    expect(d.status).toBe(200);
    expect(d.json.status.phase).toBe("Terminating");
    expect(d.json.metadata.deletionTimestamp).toBeDefined();
    const fin = await req("PUT", "/api/v1/namespaces/doomed/finalize", { ...d.json, spec: { finalizers: [] } });
    expect(fin.status).toBe(200);
    expect((await req("GET", "/api/v1/namespaces/doomed")).status).toBe(404);
  });

  test("deletecollection with a selector", async () => {
    const r = await req("DELETE", `${NS}/configmaps?labelSelector=tier%3Da`);
    expect(r.status).toBe(200);
    expect(r.json.kind).toBe("ConfigMapList");
    expect(r.json.items.length).toBe(4);
    const left = await req("GET", `${NS}/configmaps?labelSelector=tier%3Da`);
    expect(left.json.items).toEqual([]);
  });
});

describe("errors and filters", () => {
  test("no token → 401 Unauthorized; bad token → 401", async () => {
    const r = await c.api("/api/v1/namespaces", { token: null });
    expect(r.status).toBe(401);
    expect(((await r.json()) as any).reason).toBe("Unauthorized");
    const bad = await c.api("/api/v1/namespaces", { token: "nope" });
    expect(bad.status).toBe(401);
  });

  test("health and version need no token", async () => {
    for (const p of ["/healthz", "/livez", "/readyz", "/version"]) {
      expect((await c.api(p, { token: null })).status).toBe(200);
    }
    const v = await (await c.api("/readyz?verbose", { token: null })).text();
    expect(v).toContain("[+]ping ok");
    expect(v).toContain("readyz check passed");
    const ver: any = await (await c.api("/version", { token: null })).json();
    expect(ver.gitVersion).toBe("v1.32.0+kubun");
  });

  test("405 for verbs a resource does not serve", async () => {
    const r = await req("DELETE", "/api/v1/namespaces?labelSelector=x");
    expect(r.status).toBe(405);
    expect(r.json.reason).toBe("MethodNotAllowed");
  });

  test("406 when only unsupported media types are accepted; protobuf clients get protobuf (issue 10 item 8)", async () => {
    const r = await req("GET", `${NS}/configmaps`, undefined, { Accept: "text/html" });
    expect(r.status).toBe(406);
    expect(r.json.reason).toBe("NotAcceptable");
    const pb = await req("GET", `${NS}/configmaps`, undefined, { Accept: "application/vnd.kubernetes.protobuf" });
    expect(pb.status).toBe(200);
    expect(pb.headers.get("content-type")).toBe("application/vnd.kubernetes.protobuf");
    const both = await req("GET", `${NS}/configmaps`, undefined, { Accept: "application/vnd.kubernetes.protobuf,application/json" });
    expect(both.headers.get("content-type")).toBe("application/vnd.kubernetes.protobuf");
    const jsonFirst = await req("GET", `${NS}/configmaps`, undefined, { Accept: "application/json,application/vnd.kubernetes.protobuf" });
    expect(jsonFirst.headers.get("content-type")).toBe("application/json");
  });

  test("unknown resources → 404", async () => {
    expect((await req("GET", `${NS}/widgets`)).status).toBe(404);
  });

  test("metrics", async () => {
    const r = await c.api("/metrics");
    const text = await r.text();
    expect(text).toMatch(/apiserver_request_total\{verb="POST",resource="configmaps",code="201"\} \d+/);
    expect(text).toMatch(/apiserver_request_total\{verb="LIST",resource="configmaps",code="200"\} \d+/);
    expect(text).toContain("apiserver_request_duration_seconds_bucket");
    expect(text).toContain("apiserver_storage_request_duration_seconds_count");
    expect(text).toMatch(/apiserver_storage_objects\{resource="namespaces"\} [4-9]/);
    expect(text).toContain('apiserver_storage_objects{resource="deployments.apps"}');
  });
});

describe("discovery", () => {
  test("aggregated discovery v2", async () => {
    const accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    const r = await c.api("/apis", { headers: { Accept: accept } });
    expect(r.headers.get("content-type")).toBe("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    const body: any = await r.json();
    expect(body.kind).toBe("APIGroupDiscoveryList");
    const apps = body.items.find((i: any) => i.metadata.name === "apps");
    const deploy = apps.versions[0].resources.find((x: any) => x.resource === "deployments");
    expect(deploy).toMatchObject({ scope: "Namespaced", singularResource: "deployment", responseKind: { group: "apps", version: "v1", kind: "Deployment" }, shortNames: ["deploy"] });
    expect(deploy.subresources.map((s: any) => s.subresource).sort()).toEqual(["scale", "status"]);
    const core: any = await (await c.api("/api", { headers: { Accept: accept } })).json();
    expect(core.items[0].versions[0].version).toBe("v1");
  });

  test("legacy discovery", async () => {
    const api: any = await (await c.api("/api")).json();
    expect(api).toMatchObject({ kind: "APIVersions", versions: ["v1"] });
    const v1: any = await (await c.api("/api/v1")).json();
    expect(v1.resources.find((r: any) => r.name === "pods/status")).toMatchObject({ kind: "Pod", verbs: ["get", "patch", "update"] });
    const scale = ((await (await c.api("/apis/apps/v1")).json()) as any).resources.find((r: any) => r.name === "deployments/scale");
    expect(scale).toMatchObject({ group: "autoscaling", version: "v1", kind: "Scale" });
  });
});
