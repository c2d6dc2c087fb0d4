// CRDs through the API and @kubernetes/client-node: invalid CRDs and name conflicts, several versions with
// one storage version (apiVersion rewritten, deprecation Warning), cluster scope, watch/informer with label
// selectors, generation, defaults on read after a schema change, garbage collection and namespace deletion
// of custom objects (controllers picking up CRDs created after they started), and an operator-sized CRD.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as k8s from "@kubernetes/client-node";
import { startEnv, type Env } from "../controllers/env.ts";
import { readResponse } from "../helpers/response.ts";
import { pollUntil } from "../helpers/wait.ts";
import { bigCRD } from "./bigcrd.ts";

setDefaultTimeout(90_000);
let env: Env;
let kc: k8s.KubeConfig;
let custom: k8s.CustomObjectsApi;
let ext: k8s.ApiextensionsV1Api;
let core: k8s.CoreV1Api;

async function api(method: string, path: string, body?: unknown, type = "application/json") {
  const res = await fetch(env.cluster.localURL + path, {
    method,
    headers: { Authorization: `Bearer ${env.cluster.adminToken}`, "Content-Type": type, Accept: "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    tls: { ca: env.cluster.caPEM },
  } as RequestInit);
  const r = await readResponse(res);
  return { status: r.status, json: r.json === undefined ? r.text : r.json, headers: r.headers };
}

function crd(plural: string, kind: string, group: string, extra: Record<string, any> = {}) {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: "Namespaced",
      names: { plural, kind },
      versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } } } }],
      ...extra,
    },
  };
}

async function established(name: string) {
  return pollUntil(`${name} Established`, async () => {
    const r = await api("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
    return r.json?.status?.conditions?.find((c: any) => c.type === "Established" && c.status === "True") ? r.json : undefined;
  }, 15_000);
}

// Restored in afterAll: bun runs every test file in one process, and other files check that TLS is verified.
const savedRejectUnauthorized = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
beforeAll(async () => {
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  env = await startEnv({ scheduler: false, manager: { controllers: ["garbagecollector", "namespace"] } });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(env.cluster.kubeconfigPath);
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  core = kc.makeApiClient(k8s.CoreV1Api);
});
afterAll(async () => {
  if (savedRejectUnauthorized === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  else process.env.NODE_TLS_REJECT_UNAUTHORIZED = savedRejectUnauthorized;
  await env?.stop();
});

describe("CRD validation and names", () => {
  test("invalid CRDs get upstream's 422 messages", async () => {
    const bad = crd("things", "Thing", "example.com");
    bad.metadata.name = "wrong.example.com";
    (bad.spec.versions[0] as any).schema.openAPIV3Schema.properties.spec = { properties: { a: { type: "string" } } };
    const r = await api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", bad);
    expect(r.status).toBe(422);
    expect(r.json.reason).toBe("Invalid");
    expect(r.json.message).toContain('CustomResourceDefinition.apiextensions.k8s.io "wrong.example.com" is invalid: [metadata.name: Invalid value: "wrong.example.com": must be spec.names.plural+"."+spec.group');
    expect(r.json.message).toContain("spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields");
    const k8sGroup = crd("things", "Thing", "things.k8s.io");
    const r2 = await api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", k8sGroup);
    expect(r2.status).toBe(422);
    expect(r2.json.message).toContain('metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io"');
    const typo = crd("typos", "Typo", "example.com");
    (typo.spec as any).foo = 1;
    (typo.spec.versions[0] as any).schema.openAPIV3Schema.properties.spec.typo = 1;
    const r3 = await api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions?fieldValidation=Strict", typo);
    expect(r3.status).toBe(400);
    expect(r3.json.message).toBe('CustomResourceDefinition in version "v1" cannot be handled as a CustomResourceDefinition: strict decoding error: unknown field "spec.versions[0].schema.openAPIV3Schema.properties[spec].typo", unknown field "spec.foo"');
    const r4 = await api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", { ...crd("keeps", "Keep", "example.com"), spec: { ...crd("keeps", "Keep", "example.com").spec, preserveUnknownFields: true } });
    expect(r4.json.message).toContain("spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead");
    // The client library surfaces the same error.
    const err = await ext.createCustomResourceDefinition({ body: { ...crd("things", "Thing", "example.com"), spec: { ...crd("things", "Thing", "example.com").spec, scope: "Global" } } as any }).catch((e) => e);
    expect(err.code).toBe(422);
    expect(String(err.body)).toContain('spec.scope: Unsupported value: \\"Global\\": supported values: \\"Cluster\\", \\"Namespaced\\"');
  });

  test("a kind already accepted in the group is refused (NamesAccepted=False) and not served", async () => {
    expect((await api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd("gizmos", "Gizmo", "names.example.com"))).status).toBe(201);
    await established("gizmos.names.example.com");
    expect((await api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", { ...crd("gadgets", "Gizmo", "names.example.com"), spec: { ...crd("gadgets", "Gizmo", "names.example.com").spec, names: { plural: "gadgets", singular: "gadget", kind: "Gizmo" } } })).status).toBe(201);
    const c2 = await pollUntil("NamesAccepted=False", async () => {
      const r = await api("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.names.example.com");
      return r.json.status?.conditions?.find((c: any) => c.type === "NamesAccepted" && c.status === "False") ? r.json : undefined;
    }, 15_000);
    expect(c2.status.conditions.find((c: any) => c.type === "NamesAccepted")).toMatchObject({ reason: "KindConflict", message: '"Gizmo" is already in use' });
    expect(c2.status.conditions.find((c: any) => c.type === "Established")?.status).not.toBe("True");
    expect((await api("GET", "/apis/names.example.com/v1/namespaces/default/gadgets")).status).toBe(404);
    // Once the first CRD is gone, the second gets its names.
    await api("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.names.example.com");
    await established("gadgets.names.example.com");
    expect((await api("GET", "/apis/names.example.com/v1/namespaces/default/gadgets")).status).toBe(200);
  });
});

describe("versions", () => {
  const schema = (extra: Record<string, any>) => ({ openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { size: { type: "integer" }, ...extra } } } } });
  test("two served versions, one storage version, apiVersion rewritten, deprecation warning", async () => {
    const body = crd("crontabs", "CronTab", "stable.example.com", {
      versions: [
        { name: "v1beta1", served: true, storage: false, deprecated: true, schema: schema({ legacy: { type: "string" } }) },
        { name: "v1", served: true, storage: true, schema: schema({}) },
      ],
    });
    expect((await api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body)).status).toBe(201);
    const c = await established("crontabs.stable.example.com");
    expect(c.status.storedVersions).toEqual(["v1"]);
    const group = await api("GET", "/apis/stable.example.com");
    expect(group.json.preferredVersion).toEqual({ groupVersion: "stable.example.com/v1", version: "v1" });
    expect(group.json.versions.map((v: any) => v.version)).toEqual(["v1", "v1beta1"]);

    const created = await api("POST", "/apis/stable.example.com/v1beta1/namespaces/default/crontabs", { apiVersion: "stable.example.com/v1beta1", kind: "CronTab", metadata: { name: "old" }, spec: { size: 1, legacy: "x" } });
    expect(created.status).toBe(201);
    expect(created.json.apiVersion).toBe("stable.example.com/v1beta1");
    expect(created.headers.get("warning")).toBe('299 - "stable.example.com/v1beta1 CronTab is deprecated; use stable.example.com/v1 CronTab"');
    const viaV1 = await custom.getNamespacedCustomObject({ group: "stable.example.com", version: "v1", namespace: "default", plural: "crontabs", name: "old" });
    expect(viaV1.apiVersion).toBe("stable.example.com/v1");
    expect(viaV1.spec).toEqual({ size: 1, legacy: "x" }); // conversion None keeps the fields
    const list = await api("GET", "/apis/stable.example.com/v1beta1/namespaces/default/crontabs");
    expect(list.json.apiVersion).toBe("stable.example.com/v1beta1");
    expect(list.json.items[0].apiVersion).toBe("stable.example.com/v1beta1");
    // Each version validates with its own schema: v1 does not know "legacy".
    const strict = await api("POST", "/apis/stable.example.com/v1/namespaces/default/crontabs?fieldValidation=Strict", { apiVersion: "stable.example.com/v1", kind: "CronTab", metadata: { name: "new" }, spec: { size: 1, legacy: "x" } });
    expect(strict.status).toBe(400);
    expect(strict.json.message).toBe('CronTab in version "v1" cannot be handled as a CronTab: strict decoding error: unknown field "spec.legacy"');
  });
});

describe("custom objects", () => {
  test("cluster scope, informer with a label selector, generation only on spec changes", async () => {
    const body = crd("clusterthings", "ClusterThing", "scope.example.com", {
      scope: "Cluster",
      versions: [{ name: "v1", served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { n: { type: "integer" } } }, status: { type: "object", properties: { ok: { type: "boolean" } } } } } } }],
    });
    expect((await api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body)).status).toBe(201);
    await established("clusterthings.scope.example.com");
    const path = "/apis/scope.example.com/v1/clusterthings";
    const seen: string[] = [];
    const informer = k8s.makeInformer<any>(kc, path, () => custom.listClusterCustomObject({ group: "scope.example.com", version: "v1", plural: "clusterthings", labelSelector: "team=a" }) as any, "team=a");
    informer.on("add", (o: any) => seen.push(o.metadata.name));
    informer.on("error", () => {});
    await informer.start();
    await custom.createClusterCustomObject({ group: "scope.example.com", version: "v1", plural: "clusterthings", body: { apiVersion: "scope.example.com/v1", kind: "ClusterThing", metadata: { name: "a1", labels: { team: "a" } }, spec: { n: 1 } } });
    await custom.createClusterCustomObject({ group: "scope.example.com", version: "v1", plural: "clusterthings", body: { apiVersion: "scope.example.com/v1", kind: "ClusterThing", metadata: { name: "b1", labels: { team: "b" } }, spec: { n: 1 } } });
    await pollUntil("informer add", async () => (seen.includes("a1") ? true : undefined), 10_000);
    await informer.stop();
    expect(seen).toEqual(["a1"]);
    expect((await api("GET", "/apis/scope.example.com/v1/namespaces/default/clusterthings/a1")).status).toBe(404);
    const st = await api("PATCH", `${path}/a1/status`, { status: { ok: true } }, "application/merge-patch+json");
    expect(st.json.metadata.generation).toBe(1);
    const sp = await api("PATCH", `${path}/a1`, { spec: { n: 2 } }, "application/merge-patch+json");
    expect(sp.json.metadata.generation).toBe(2);
    expect(sp.json.status).toEqual({ ok: true });
    const byField = await api("GET", `${path}?fieldSelector=metadata.name%3Db1`);
    expect(byField.json.items.map((i: any) => i.metadata.name)).toEqual(["b1"]);
    // deletecollection with a label selector.
    const dc = await api("DELETE", `${path}?labelSelector=team%3Db`);
    expect(dc.status).toBe(200);
    expect((await api("GET", path)).json.items.map((i: any) => i.metadata.name)).toEqual(["a1"]);
  });

  test("selectableFields, field selector errors, generation without a status subresource", async () => {
    const body = crd("cars", "Car", "fields.example.com", {
      versions: [{
        name: "v1",
        served: true,
        storage: true,
        selectableFields: [{ jsonPath: ".spec.color" }],
        schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { color: { type: "string" }, seats: { type: "integer" } } }, status: { type: "object", properties: { km: { type: "integer" } } } } } },
      }],
    });
    expect((await api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body)).status).toBe(201);
    await established("cars.fields.example.com");
    const base = "/apis/fields.example.com/v1/namespaces/default/cars";
    for (const [name, color] of [["c1", "red"], ["c2", "blue"]]) {
      expect((await api("POST", base, { apiVersion: "fields.example.com/v1", kind: "Car", metadata: { name }, spec: { color, seats: 4 } })).status).toBe(201);
    }
    const red = await api("GET", `${base}?fieldSelector=spec.color%3Dred`);
    expect(red.json.items.map((i: any) => i.metadata.name)).toEqual(["c1"]);
    const bad = await api("GET", `${base}?fieldSelector=spec.seats%3D4`);
    expect(bad.status).toBe(400);
    expect(bad.json.message).toBe('"spec.seats" is not a known field selector: only "metadata.name", "metadata.namespace", "spec.color"');
    // Without a status subresource, status is an ordinary field and changing it bumps generation.
    const st = await api("PATCH", `${base}/c1`, { status: { km: 10 } }, "application/merge-patch+json");
    expect([st.json.status, st.json.metadata.generation]).toEqual([{ km: 10 }, 2]);
    const badCRD = crd("boats", "Boat", "fields.example.com", {
      versions: [{ name: "v1", served: true, storage: true, selectableFields: [{ jsonPath: ".spec.tags" }], schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { tags: { type: "array", items: { type: "string" } } } } } } } }],
    });
    const r = await api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", badCRD);
    expect(r.status).toBe(422);
    expect(r.json.message).toContain('spec.versions[0].selectableFields[0].jsonPath: Invalid value: ".spec.tags": must point to a field of type string, boolean or integer');
  });

  test("schema updates apply to new writes; new defaults show on read", async () => {
    const name = "settings.update.example.com";
    const body = crd("settings", "Setting", "update.example.com", {
      versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { level: { type: "integer" } } } } } } }],
    });
    await api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body);
    await established(name);
    const base = "/apis/update.example.com/v1/namespaces/default/settings";
    expect((await api("POST", base, { apiVersion: "update.example.com/v1", kind: "Setting", metadata: { name: "s1" }, spec: { level: 50 } })).status).toBe(201);
    const live = (await api("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`)).json;
    live.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties = { level: { type: "integer", maximum: 10 }, mode: { type: "string", default: "auto" } };
    expect(live.metadata.generation).toBe(1);
    const put = await api("PUT", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`, live);
    expect(put.status).toBe(200);
    expect(put.json.metadata.generation).toBe(2);
    await pollUntil("default on read", async () => ((await api("GET", `${base}/s1`)).json.spec?.mode === "auto" ? true : undefined), 10_000);
    expect((await api("GET", `${base}/s1`)).json.spec).toEqual({ level: 50, mode: "auto" });
    // Defaults apply on update too: a PUT without the field stores the default.
    const cur = (await api("GET", `${base}/s1`)).json;
    const put2 = await api("PUT", `${base}/s1`, { ...cur, spec: { level: 5 } });
    expect(put2.json.spec).toEqual({ level: 5, mode: "auto" });
    const r = await api("POST", base, { apiVersion: "update.example.com/v1", kind: "Setting", metadata: { name: "s2" }, spec: { level: 50 } });
    expect(r.status).toBe(422);
    expect(r.json.message).toBe('Setting.update.example.com "s2" is invalid: spec.level: Invalid value: 50: spec.level in body should be less than or equal to 10');
  });

  test("garbage collection and namespace deletion include custom objects", async () => {
    const body = crd("pets", "Pet", "gc.example.com");
    await api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body);
    await established("pets.gc.example.com");
    await core.createNamespace({ body: { metadata: { name: "zoo" } } });
    const cm = await core.createNamespacedConfigMap({ namespace: "zoo", body: { metadata: { name: "owner" } } });
    const pet = await custom.createNamespacedCustomObject({ group: "gc.example.com", version: "v1", namespace: "zoo", plural: "pets", body: { apiVersion: "gc.example.com/v1", kind: "Pet", metadata: { name: "rex", ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: cm.metadata!.uid! }] }, spec: {} } });
    // A ConfigMap owned by a custom object.
    await core.createNamespacedConfigMap({ namespace: "zoo", body: { metadata: { name: "dep", ownerReferences: [{ apiVersion: "gc.example.com/v1", kind: "Pet", name: "rex", uid: (pet as any).metadata.uid }] } } });
    await core.deleteNamespacedConfigMap({ namespace: "zoo", name: "owner" });
    await pollUntil("pet collected", async () => ((await api("GET", "/apis/gc.example.com/v1/namespaces/zoo/pets/rex")).status === 404 ? true : undefined), 20_000);
    await pollUntil("configmap collected", async () => ((await api("GET", "/api/v1/namespaces/zoo/configmaps/dep")).status === 404 ? true : undefined), 20_000);
    await custom.createNamespacedCustomObject({ group: "gc.example.com", version: "v1", namespace: "zoo", plural: "pets", body: { apiVersion: "gc.example.com/v1", kind: "Pet", metadata: { name: "tom" }, spec: {} } });
    await core.deleteNamespace({ name: "zoo" });
    await pollUntil("namespace gone", async () => ((await api("GET", "/api/v1/namespaces/zoo")).status === 404 ? true : undefined), 30_000);
    expect((await api("GET", "/apis/gc.example.com/v1/pets")).json.items).toEqual([]);
  });
});

describe("an operator-sized CRD", () => {
  test("thousands of schema lines: established, discovery and OpenAPI keep working", async () => {
    const big = bigCRD();
    const lines = JSON.stringify(big, null, 2).split("\n").length;
    expect(lines).toBeGreaterThan(5000);
    expect((await api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", big)).status).toBe(201);
    await established(big.metadata.name);
    const disc = await api("GET", "/apis/big.example.com/v1");
    expect(disc.json.resources.map((r: any) => r.name)).toContain("clusters");
    const index = await api("GET", "/openapi/v3");
    expect(Object.keys(index.json.paths)).toContain("apis/big.example.com/v1");
    const doc = await api("GET", "/openapi/v3/apis/big.example.com/v1");
    expect(doc.json.components.schemas["com.example.big.v1.Cluster"].properties.spec.properties.component0.description).toBe("Component 0 of the cluster.");
    const v2 = await api("GET", "/openapi/v2");
    expect(v2.json.definitions["com.example.big.v1.Cluster"]).toBeDefined();
    const obj = big.sample;
    expect((await api("POST", "/apis/big.example.com/v1/namespaces/default/clusters", obj)).status).toBe(201);
    const r = await env.cluster.kubectl(["explain", "cluster.spec.component3.settings"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Settings of component 3.");
    expect((await env.cluster.kubectl(["get", "clusters", "-o", "name"])).stdout).toBe("cluster.big.example.com/sample\n");
  });
});
