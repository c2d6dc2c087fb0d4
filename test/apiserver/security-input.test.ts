// Untrusted JSON is data (issue #9 item 1): "__proto__", "constructor" and "prototype" keys in request bodies,
// patches, applies, headers and selectors never reach Object.prototype; where upstream's schema stores the key it
// is stored, where it is an invalid key (labels, annotations) it is upstream's 422. The server runs in this
// process, so a polluted Object.prototype would show here directly.
import { describe, expect, test, beforeAll, afterAll, afterEach } from "bun:test";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { readResponse } from "../helpers/response.ts";
import { joinCluster, ruleAllows } from "../../internal/auth/index.ts";
import { decodeKubernetesProtobuf } from "../../internal/apiserver/protobuf/decode.ts";

let c: TestCluster;
let nodeToken: string;
let viewToken: string;

const JSON_CT = { "content-type": "application/json" };
const MERGE = { "content-type": "application/merge-patch+json" };
const SMP = { "content-type": "application/strategic-merge-patch+json" };
const JSONPATCH = { "content-type": "application/json-patch+json" };
const APPLY = { "content-type": "application/apply-patch+yaml" };
const EVIL = { apiGroups: ["*"], resources: ["*"], verbs: ["*"], polluted: "yes" };

beforeAll(async () => {
  c = await startTestCluster();
  const creds = await joinCluster({ server: c.localURL, token: c.joinToken, nodeName: "evil-node" });
  nodeToken = creds.nodeToken;
  const node = { apiVersion: "v1", kind: "Node", metadata: { name: "evil-node" } };
  expect((await c.api("/api/v1/nodes", { method: "POST", token: nodeToken, headers: JSON_CT, body: JSON.stringify(node) })).status).toBe(201);
  const ns = (name: string) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  expect((await c.api("/api/v1/namespaces", { method: "POST", headers: JSON_CT, body: JSON.stringify(ns("team")) })).status).toBe(201);
  const sa = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "viewer", namespace: "team" } };
  expect((await c.api("/api/v1/namespaces/team/serviceaccounts", { method: "POST", headers: JSON_CT, body: JSON.stringify(sa) })).status).toBe(201);
  const crb = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "viewer-view" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
    subjects: [{ kind: "ServiceAccount", name: "viewer", namespace: "team" }],
  };
  expect((await c.api("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", { method: "POST", headers: JSON_CT, body: JSON.stringify(crb) })).status).toBe(201);
  const tr = await c.api("/api/v1/namespaces/team/serviceaccounts/viewer/token", {
    method: "POST",
    headers: JSON_CT,
    body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: {} }),
  });
  viewToken = ((await tr.json()) as any).status.token;
  const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg", namespace: "team" }, data: { a: "1" } };
  expect((await c.api("/api/v1/namespaces/team/configmaps", { method: "POST", headers: JSON_CT, body: JSON.stringify(cm) })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

/** Object.prototype untouched, the server answers a following write, and RBAC still denies the viewer secrets. */
async function expectHealthy(): Promise<void> {
  const probe = {} as Record<string, unknown>;
  expect(probe.polluted).toBeUndefined();
  expect(probe.apiGroups).toBeUndefined();
  expect(probe.resources).toBeUndefined();
  expect(probe.verbs).toBeUndefined();
  expect(Object.getPrototypeOf(probe)).toBe(Object.prototype);
  for (const m of ["toString", "hasOwnProperty", "valueOf", "constructor"]) expect(Object.hasOwn(Object.prototype, m)).toBe(true);
  const name = `probe-${Math.random().toString(36).slice(2, 8)}`;
  const res = await c.api("/api/v1/namespaces/team/configmaps", {
    method: "POST",
    headers: JSON_CT,
    body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { k: "v" } }),
  });
  expect(res.status).toBe(201);
  const denied = await c.api("/api/v1/namespaces/kube-system/secrets", { token: viewToken });
  expect(denied.status).toBe(403);
}

// If a case ever pollutes the prototype, clean up so the other cases report their own result.
afterEach(() => {
  for (const k of ["polluted", "apiGroups", "resources", "verbs", "x"]) delete (Object.prototype as any)[k];
});

async function send(path: string, method: string, headers: Record<string, string>, body: string, token?: string) {
  const r = await readResponse(await c.api(path, { method, headers, body, token }));
  return { status: r.status, body: r.json === undefined ? r.text : r.json };
}

const CM = "/api/v1/namespaces/team/configmaps/cfg";
const NODE_STATUS = "/api/v1/nodes/evil-node/status";

describe("merge patch", () => {
  test("a node patching __proto__ onto its own status (root and nested)", async () => {
    for (const body of [`{"__proto__":${JSON.stringify(EVIL)}}`, `{"status":{"__proto__":${JSON.stringify(EVIL)}}}`, `{"metadata":{"__proto__":${JSON.stringify(EVIL)}}}`]) {
      const r = await send(NODE_STATUS, "PATCH", MERGE, body, nodeToken);
      expect(r.status).toBeLessThan(500);
      await expectHealthy();
    }
  });

  test("an admin patching a ConfigMap: __proto__ data key is stored as data", async () => {
    const r = await send(CM, "PATCH", MERGE, `{"__proto__":${JSON.stringify(EVIL)},"data":{"__proto__":"p","constructor":"c","prototype":"q"}}`);
    expect(r.status).toBe(200);
    expect(Object.hasOwn(r.body.data, "__proto__")).toBe(true);
    expect(r.body.data.__proto__).toBe("p");
    expect(r.body.data.constructor).toBe("c");
    expect(r.body.data.prototype).toBe("q");
    await expectHealthy();
    const back = await send(CM, "PATCH", MERGE, `{"data":{"__proto__":null,"constructor":null,"prototype":null}}`);
    expect(back.status).toBe(200);
    expect(Object.keys(back.body.data).sort()).toEqual(["a"]);
    await expectHealthy();
  });

  test("__proto__ as a label key is upstream's 422; constructor is a valid key and stored", async () => {
    const bad = await send(CM, "PATCH", MERGE, `{"metadata":{"labels":{"__proto__":"x"}}}`);
    expect(bad.status).toBe(422);
    expect(bad.body.reason).toBe("Invalid");
    expect(bad.body.message).toContain(`metadata.labels: Invalid value: "__proto__"`);
    const badAnn = await send(CM, "PATCH", MERGE, `{"metadata":{"annotations":{"__proto__":"x"}}}`);
    expect(badAnn.status).toBe(422);
    expect(badAnn.body.message).toContain(`metadata.annotations: Invalid value: "__proto__"`);
    const ok = await send(CM, "PATCH", MERGE, `{"metadata":{"labels":{"constructor":"x","prototype":"y"},"annotations":{"constructor":"z"}}}`);
    expect(ok.status).toBe(200);
    expect(ok.body.metadata.labels).toEqual({ constructor: "x", prototype: "y" });
    expect(ok.body.metadata.annotations.constructor).toBe("z");
    await expectHealthy();
  });
});

describe("strategic merge patch", () => {
  test("a node patching __proto__ onto its own status (root and nested)", async () => {
    for (const body of [`{"__proto__":${JSON.stringify(EVIL)}}`, `{"status":{"__proto__":${JSON.stringify(EVIL)}}}`, `{"status":{"conditions":[{"type":"X","__proto__":${JSON.stringify(EVIL)}}]}}`]) {
      const r = await send(NODE_STATUS, "PATCH", SMP, body, nodeToken);
      expect(r.status).toBeLessThan(500);
      await expectHealthy();
    }
  });

  test("ConfigMap data keys __proto__ / constructor are data", async () => {
    const r = await send(CM, "PATCH", SMP, `{"__proto__":${JSON.stringify(EVIL)},"data":{"__proto__":"p2","constructor":"c2"}}`);
    expect(r.status).toBe(200);
    expect(r.body.data.__proto__).toBe("p2");
    expect(r.body.data.constructor).toBe("c2");
    await expectHealthy();
    const back = await send(CM, "PATCH", SMP, `{"data":{"__proto__":null,"constructor":null},"$retainKeys":null}`);
    expect(back.status).toBeLessThan(500);
    await expectHealthy();
  });
});

describe("JSON patch", () => {
  test("paths through __proto__ / constructor / prototype do not resolve inherited properties", async () => {
    for (const ops of [
      [{ op: "add", path: "/__proto__/polluted", value: "yes" }],
      [{ op: "add", path: "/metadata/__proto__/apiGroups", value: ["*"] }],
      [{ op: "add", path: "/constructor/prototype/polluted", value: "yes" }],
      [{ op: "copy", from: "/constructor", path: "/data/x" }],
      [{ op: "test", path: "/toString", value: "function" }],
    ]) {
      const r = await send(CM, "PATCH", JSONPATCH, JSON.stringify(ops));
      expect(r.status).toBe(422);
      // upstream's generic 422 (the detail stays in the server's log)
      expect(r.body.message).toBe("the server rejected our request due to an error in our request");
      await expectHealthy();
    }
  });

  test("adding a __proto__ data key stores it; a node cannot pollute through its status", async () => {
    const r = await send(CM, "PATCH", JSONPATCH, JSON.stringify([{ op: "add", path: "/data/__proto__", value: "j" }, { op: "add", path: "/data/constructor", value: "k" }]));
    expect(r.status).toBe(200);
    expect(Object.hasOwn(r.body.data, "__proto__")).toBe(true);
    expect(r.body.data.__proto__).toBe("j");
    expect(r.body.data.constructor).toBe("k");
    const rm = await send(CM, "PATCH", JSONPATCH, JSON.stringify([{ op: "remove", path: "/data/__proto__" }, { op: "remove", path: "/data/constructor" }]));
    expect(rm.status).toBe(200);
    expect(Object.hasOwn(rm.body.data, "__proto__")).toBe(false);
    const n = await send(NODE_STATUS, "PATCH", JSONPATCH, JSON.stringify([{ op: "add", path: "/status/__proto__", value: EVIL }]), nodeToken);
    expect(n.status).toBeLessThan(500);
    await expectHealthy();
  });
});

describe("server-side apply", () => {
  test("__proto__ keys at the root and nested in an applied configuration", async () => {
    const yaml = [
      "apiVersion: v1",
      "kind: ConfigMap",
      "metadata:",
      "  name: applied",
      "  __proto__:",
      "    polluted: yes",
      "__proto__:",
      "  apiGroups: ['*']",
      "  resources: ['*']",
      "data:",
      "  __proto__: p",
      "  constructor: c",
    ].join("\n");
    const r = await send("/api/v1/namespaces/team/configmaps/applied?fieldManager=t", "PATCH", APPLY, yaml);
    expect(r.status).toBeLessThan(500);
    await expectHealthy();
    const ok = await send(
      "/api/v1/namespaces/team/configmaps/applied2?fieldManager=t",
      "PATCH",
      APPLY,
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied2\ndata:\n  __proto__: p\n  constructor: c\n",
    );
    expect(ok.status).toBe(201);
    expect(ok.body.data.__proto__).toBe("p");
    expect(ok.body.data.constructor).toBe("c");
    expect(Object.keys(ok.body.metadata.managedFields[0].fieldsV1["f:data"]).sort()).toEqual(["f:__proto__", "f:constructor"]);
    // a second apply that drops them prunes them (managed fields walked with __proto__ path elements)
    const again = await send(
      "/api/v1/namespaces/team/configmaps/applied2?fieldManager=t",
      "PATCH",
      APPLY,
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied2\ndata:\n  other: o\n",
    );
    expect(again.status).toBe(200);
    expect(again.body.data).toEqual({ other: "o" });
    await expectHealthy();
  });

  test("a node applying __proto__ onto its own status", async () => {
    const yaml = `apiVersion: v1\nkind: Node\nmetadata:\n  name: evil-node\nstatus:\n  __proto__:\n    apiGroups: ['*']\n    resources: ['*']\n`;
    const r = await send(`${NODE_STATUS}?fieldManager=evil`, "PATCH", APPLY, yaml, nodeToken);
    expect(r.status).toBeLessThan(500);
    await expectHealthy();
  });
});

describe("create and update bodies", () => {
  test("POST and PUT with __proto__ at the root, in metadata, in data and in a pod spec", async () => {
    const body = `{"apiVersion":"v1","kind":"ConfigMap","__proto__":${JSON.stringify(EVIL)},"metadata":{"name":"created","__proto__":${JSON.stringify(EVIL)}},"data":{"__proto__":"d"}}`;
    const r = await send("/api/v1/namespaces/team/configmaps", "POST", JSON_CT, body);
    expect(r.status).toBeLessThan(500);
    await expectHealthy();
    const clean = await send("/api/v1/namespaces/team/configmaps", "POST", JSON_CT, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"created2"},"data":{"__proto__":"d","constructor":"e"}}`);
    expect(clean.status).toBe(201);
    expect(clean.body.data.__proto__).toBe("d");
    const got = await send("/api/v1/namespaces/team/configmaps/created2", "GET", {}, undefined as any);
    expect(got.body.data.__proto__).toBe("d");
    expect(got.body.data.constructor).toBe("e");
    const put = await send(
      "/api/v1/namespaces/team/configmaps/created2",
      "PUT",
      JSON_CT,
      `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"created2","__proto__":${JSON.stringify(EVIL)}},"data":{"__proto__":"d2"}}`,
    );
    expect(put.status).toBeLessThan(500);
    await expectHealthy();
    const pod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"__proto__":${JSON.stringify(EVIL)},"containers":[{"name":"c","image":"busybox","__proto__":{"polluted":"yes"},"resources":{"limits":{"__proto__":"1"}}}]}}`;
    const pr = await send("/api/v1/namespaces/team/pods", "POST", JSON_CT, pod);
    expect(pr.status).toBeLessThan(500);
    await expectHealthy();
  });

  test("a YAML body with __proto__ keys (and an alias to one)", async () => {
    const yaml = ["apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: from-yaml", "  __proto__: &evil", "    polluted: yes", "__proto__: *evil", "data:", "  __proto__: y"].join("\n");
    const r = await send("/api/v1/namespaces/team/configmaps", "POST", { "content-type": "application/yaml" }, yaml);
    expect(r.status).toBe(201);
    expect(r.body.data.__proto__).toBe("y");
    await expectHealthy();
  });

  test("an unknown field path through __proto__ is dropped without touching Object.prototype", async () => {
    const body = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"unk","__proto__.toString":"x","constructor.name":"y"},"__proto__.hasOwnProperty":1,"data":{"a":"b"}}`;
    const r = await send("/api/v1/namespaces/team/configmaps", "POST", JSON_CT, body);
    expect(r.status).toBe(201);
    expect(r.body.metadata["__proto__.toString"]).toBeUndefined();
    expect(r.body["__proto__.hasOwnProperty"]).toBeUndefined();
    await expectHealthy();
  });

  test("Secret stringData with a __proto__ key becomes a data key", async () => {
    const body = `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"stringData":{"__proto__":"p","constructor":"c"}}`;
    const r = await send("/api/v1/namespaces/team/secrets", "POST", JSON_CT, body);
    expect(r.status).toBe(201);
    expect(Object.hasOwn(r.body.data, "__proto__")).toBe(true);
    expect(Buffer.from(r.body.data.__proto__, "base64").toString()).toBe("p");
    expect(Buffer.from(r.body.data.constructor, "base64").toString()).toBe("c");
    await expectHealthy();
  });

  test("client-sent managedFields naming __proto__ fields, and a Table of such objects", async () => {
    const mf = [{ manager: "m", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:__proto__": { "f:polluted": {} }, "f:data": { "f:__proto__": {}, "f:constructor": {} } } }];
    const body = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"created2","managedFields":${JSON.stringify(mf)}},"data":{"__proto__":"d3","constructor":"e3"}}`;
    const put = await send("/api/v1/namespaces/team/configmaps/created2", "PUT", JSON_CT, body);
    expect(put.status).toBe(200);
    expect(put.body.data.__proto__).toBe("d3");
    await expectHealthy();
    const table = await c.api("/api/v1/namespaces/team/configmaps/created2", { headers: { accept: "application/json;as=Table;v=v1;g=meta.k8s.io" } });
    expect(table.status).toBe(200);
    const t = (await table.json()) as any;
    expect(t.kind).toBe("Table");
    expect(t.rows[0].cells[0]).toBe("created2");
    await expectHealthy();
  });

  test("a Role whose rule carries __proto__ grants nothing extra", async () => {
    const role = `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"odd"},"rules":[{"verbs":["get"],"__proto__":{"apiGroups":["*"],"resources":["*"]}}]}`;
    const r = await send("/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles", "POST", JSON_CT, role);
    expect(r.status).toBeLessThan(500);
    await expectHealthy();
  });
});

describe("headers and query parameters", () => {
  test("Impersonate-Extra-* with __proto__, constructor and malformed escapes", async () => {
    for (const name of ["Impersonate-Extra-__proto__", "Impersonate-Extra-constructor", "Impersonate-Extra-%ZZ", "Impersonate-Extra-a%2"]) {
      const admin = await c.api("/apis/authentication.k8s.io/v1/selfsubjectreviews", {
        method: "POST",
        headers: { ...JSON_CT, "Impersonate-User": "someone", [name]: "v" },
        body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }),
      });
      expect(admin.status).toBe(201);
      const review = (await admin.json()) as any;
      expect(review.status.userInfo.username).toBe("someone");
      const key = name.slice("Impersonate-Extra-".length).toLowerCase();
      expect(Object.hasOwn(review.status.userInfo.extra, key)).toBe(true);
      expect(review.status.userInfo.extra[key]).toEqual(["v"]);
      // a caller who may not impersonate gets 403, not 500
      const viewer = await c.api("/api/v1/namespaces/team/configmaps", { headers: { "Impersonate-User": "someone", [name]: "v" }, token: viewToken });
      expect(viewer.status).toBe(403);
      await expectHealthy();
    }
  });

  test("label and field selectors naming __proto__", async () => {
    for (const q of ["labelSelector=__proto__%3Dx", "labelSelector=constructor%3Dx", "fieldSelector=__proto__%3Dx", "fieldSelector=metadata.__proto__%3Dx"]) {
      const r = await c.api(`/api/v1/namespaces/team/configmaps?${q}`);
      expect(r.status).toBeLessThan(500);
      await r.body?.cancel();
      await expectHealthy();
    }
    const ok = await c.api("/api/v1/namespaces/team/configmaps?labelSelector=constructor%3Dx");
    expect(ok.status).toBe(200);
    const items = ((await ok.json()) as any).items.map((i: any) => i.metadata.name);
    expect(items).toEqual(["cfg"]);
  });
});

describe("decoders and matchers", () => {
  test("protobuf map entries keyed __proto__ are own entries", () => {
    const enc = new TextEncoder();
    const varint = (n: number) => {
      const out: number[] = [];
      do {
        out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
        n >>>= 7;
      } while (n);
      return out;
    };
    const bytes = (num: number, b: number[]) => [...varint((num << 3) | 2), ...varint(b.length), ...b];
    const str = (num: number, v: string) => bytes(num, [...enc.encode(v)]);
    const meta = [...str(1, "s"), ...bytes(11, [...str(1, "__proto__"), ...str(2, "v")])];
    const raw = [...bytes(1, meta), ...bytes(2, [...str(1, "__proto__"), ...str(2, "x")]), ...str(3, "Opaque")];
    const typeMeta = [...str(1, "v1"), ...str(2, "Secret")];
    const buf = new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...bytes(1, typeMeta), ...bytes(2, raw)]);
    const obj = decodeKubernetesProtobuf(buf) as any;
    expect(Object.hasOwn(obj.data, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(obj.data)).toBe(Object.prototype);
    expect(Object.hasOwn(obj.metadata.labels, "__proto__")).toBe(true);
    expect(({} as any).x).toBeUndefined();
  });

  test("RBAC rules match on their own fields only, even if Object.prototype were polluted", () => {
    const attrs = { user: { username: "u", groups: [] }, resourceRequest: true, verb: "get", apiGroup: "", resource: "secrets", namespace: "kube-system" } as any;
    const rule = JSON.parse('{"verbs":["get"],"__proto__":{"apiGroups":["*"],"resources":["*"]}}');
    expect(ruleAllows(attrs, rule)).toBe(false);
    try {
      (Object.prototype as any).apiGroups = ["*"];
      (Object.prototype as any).resources = ["*"];
      expect(ruleAllows(attrs, { verbs: ["get"] } as any)).toBe(false);
      expect(ruleAllows(attrs, { verbs: ["get"], apiGroups: [""], resources: ["secrets"] })).toBe(true);
    } finally {
      delete (Object.prototype as any).apiGroups;
      delete (Object.prototype as any).resources;
    }
  });
});
