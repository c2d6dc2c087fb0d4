// The generated OpenAPI: kubectl's extensions (GVK, patch merge keys, list types), formats, required
// fields, the v3 index/documents kubectl reads, and the v2 protobuf encoding.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { definitions, getSchema, openapiRoutes, openapiV2, openapiV3, openapiV3Index, encodeOpenAPIV2, schemaAt } from "../../internal/apiserver/openapi/index.ts";
import { writeDefinitions } from "../../scripts/gen-openapi.ts";

const defs = () => definitions();
const prop = (def: string, field: string) => defs()[def]!.properties[field];

describe("generated definitions", () => {
  test("top-level kinds carry x-kubernetes-group-version-kind", () => {
    expect(defs()["io.k8s.api.apps.v1.Deployment"]!["x-kubernetes-group-version-kind"]).toEqual([{ group: "apps", kind: "Deployment", version: "v1" }]);
    expect(defs()["io.k8s.api.core.v1.Pod"]!["x-kubernetes-group-version-kind"]).toEqual([{ group: "", kind: "Pod", version: "v1" }]);
    expect(getSchema({ group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole" })?.description).toStartWith("ClusterRole is a cluster level");
    expect(getSchema({ group: "events.k8s.io", version: "v1", kind: "Event" })).toBe(defs()["io.k8s.api.events.v1.Event"]);
    expect(getSchema({ group: "apps", version: "v1", kind: "Nope" })).toBeUndefined();
  });

  test("strategic merge patch keys and list types from upstream's struct tags", () => {
    expect(prop("io.k8s.api.core.v1.PodSpec", "containers")).toMatchObject({
      type: "array",
      items: { $ref: "#/definitions/io.k8s.api.core.v1.Container" },
      "x-kubernetes-patch-merge-key": "name",
      "x-kubernetes-patch-strategy": "merge",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
    });
    expect(prop("io.k8s.api.core.v1.PodSpec", "volumes")["x-kubernetes-patch-strategy"]).toBe("merge,retainKeys");
    expect(prop("io.k8s.api.core.v1.Container", "ports")).toMatchObject({ "x-kubernetes-patch-merge-key": "containerPort", "x-kubernetes-list-map-keys": ["containerPort", "protocol"] });
    expect(prop("io.k8s.api.core.v1.Container", "env")["x-kubernetes-patch-merge-key"]).toBe("name");
    expect(prop("io.k8s.api.core.v1.Container", "volumeMounts")["x-kubernetes-patch-merge-key"]).toBe("mountPath");
    expect(prop("io.k8s.api.core.v1.EphemeralContainer", "env")["x-kubernetes-patch-merge-key"]).toBe("name");
    expect(prop("io.k8s.api.core.v1.ServiceSpec", "ports")).toMatchObject({ "x-kubernetes-patch-merge-key": "port", "x-kubernetes-list-map-keys": ["port", "protocol"] });
    expect(prop("io.k8s.api.apps.v1.DeploymentSpec", "strategy")["x-kubernetes-patch-strategy"]).toBe("retainKeys");
    expect(prop("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "finalizers")).toMatchObject({ "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "set" });
    expect(prop("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "ownerReferences")["x-kubernetes-patch-merge-key"]).toBe("uid");
    expect(prop("io.k8s.api.core.v1.NodeStatus", "conditions")["x-kubernetes-patch-merge-key"]).toBe("type");
    expect(prop("io.k8s.api.core.v1.PodSpec", "tolerations")["x-kubernetes-list-type"]).toBe("atomic");
    expect(defs()["io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"]!["x-kubernetes-map-type"]).toBe("atomic");
    expect(defs()["io.k8s.api.rbac.v1.RoleRef"]!["x-kubernetes-map-type"]).toBe("atomic");
  });

  test("types, formats, required fields and descriptions", () => {
    expect(prop("io.k8s.api.apps.v1.DeploymentSpec", "replicas")).toMatchObject({ type: "integer", format: "int32", description: expect.stringContaining("Defaults to 1.") });
    expect(prop("io.k8s.api.core.v1.PodSpec", "terminationGracePeriodSeconds").format).toBe("int64");
    expect(prop("io.k8s.api.apps.v1.RollingUpdateDeployment", "maxSurge")).toMatchObject({ $ref: "#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString" });
    expect(defs()["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]).toMatchObject({ type: "string", format: "int-or-string" });
    expect(defs()["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]).toMatchObject({ type: "string", format: "date-time" });
    expect(defs()["io.k8s.apimachinery.pkg.api.resource.Quantity"]!.type).toBe("string");
    expect(prop("io.k8s.api.core.v1.ResourceRequirements", "limits")).toMatchObject({ type: "object", additionalProperties: { $ref: "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity" } });
    expect(prop("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "labels")).toMatchObject({ type: "object", additionalProperties: { type: "string" } });
    expect(defs()["io.k8s.api.apps.v1.DeploymentSpec"]!.required).toEqual(["selector", "template"]);
    expect(defs()["io.k8s.api.core.v1.Container"]!.required).toEqual(["name"]);
    expect(schemaAt({ group: "apps", version: "v1", kind: "Deployment" }, ["spec", "template", "spec", "containers", "image"])?.type).toBe("string");
  });

  test("the generator reproduces the embedded file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kubun-openapi-"));
    try {
      const out = join(dir, "definitions.json");
      const count = await writeDefinitions(out);
      expect(count).toBeGreaterThan(300);
      expect(JSON.parse(readFileSync(out, "utf8")).definitions).toEqual(defs());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("documents", () => {
  test("v3 index lists every served group-version with a hashed URL", () => {
    const idx = openapiV3Index().paths;
    for (const key of ["api/v1", "apis/apps/v1", "apis/batch/v1", "apis/rbac.authorization.k8s.io/v1", "apis/coordination.k8s.io/v1", "apis/discovery.k8s.io/v1"]) {
      expect(idx[key].serverRelativeURL).toMatch(new RegExp(`^/openapi/v3/${key.replace(/\./g, "\\.")}\\?hash=[0-9A-F]{128}$`));
    }
  });

  test("v3 patch operations declare GVK, fieldValidation and strategic merge patch", () => {
    const doc = openapiV3("apis/apps/v1")!.doc;
    const item = doc.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
    expect(item.patch["x-kubernetes-group-version-kind"]).toEqual({ group: "apps", version: "v1", kind: "Deployment" });
    expect(item.patch["x-kubernetes-action"]).toBe("patch");
    expect(item.patch.parameters.find((p: any) => p.name === "fieldValidation")).toMatchObject({ in: "query", schema: { type: "string" } });
    expect(Object.keys(item.patch.requestBody.content)).toContain("application/strategic-merge-patch+json");
    expect(item.get.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/io.k8s.api.apps.v1.Deployment" });
    // Every patch operation must allow fieldValidation: kubectl stops at the first one matching the GVK.
    for (const path of Object.values(doc.paths) as any[]) {
      if (path.patch) expect(path.patch.parameters.some((p: any) => p.name === "fieldValidation")).toBe(true);
    }
    expect(doc.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"].patch["x-kubernetes-group-version-kind"]).toEqual({ group: "autoscaling", version: "v1", kind: "Scale" });
  });

  test("v3 schemas wrap described refs in allOf and keep the extensions", () => {
    const schemas = openapiV3("api/v1")!.doc.components.schemas;
    expect(schemas["io.k8s.api.core.v1.Pod"].properties.spec).toMatchObject({ allOf: [{ $ref: "#/components/schemas/io.k8s.api.core.v1.PodSpec" }], description: expect.any(String) });
    expect(schemas["io.k8s.api.core.v1.PodSpec"].properties.containers).toMatchObject({ items: { $ref: "#/components/schemas/io.k8s.api.core.v1.Container" }, "x-kubernetes-patch-merge-key": "name" });
    // IntOrString and Quantity are oneOf in v3, as upstream publishes them.
    expect(schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]).toMatchObject({ format: "int-or-string", oneOf: [{ type: "integer" }, { type: "string" }] });
    expect(schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"].type).toBeUndefined();
    // Only schemas reachable from the group-version's paths are included.
    expect(schemas["io.k8s.api.apps.v1.Deployment"]).toBeUndefined();
    expect(openapiV3("apis/apps/v1")!.doc.components.schemas["io.k8s.api.core.v1.PodSpec"]).toBeDefined();
  });

  test("v2 carries all paths and definitions", () => {
    const v2 = openapiV2();
    expect(v2.swagger).toBe("2.0");
    expect(v2.paths["/api/v1/namespaces/{namespace}/pods/{name}"].patch.consumes).toContain("application/strategic-merge-patch+json");
    expect(v2.paths["/api/v1/pods"].get.operationId).toBe("listCoreV1PodForAllNamespaces");
    expect(v2.paths["/apis/apps/v1/namespaces/{namespace}/deployments"].post.operationId).toBe("createAppsV1NamespacedDeployment");
  });
});

/** Reads top-level length-delimited protobuf fields: [fieldNumber, bytes][]. */
function fields(buf: Uint8Array): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  let i = 0;
  const varint = () => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = buf[i++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  while (i < buf.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 2) {
      const len = varint();
      out.push([tag >>> 3, buf.subarray(i, i + len)]);
      i += len;
    } else if (wire === 0) varint();
    else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("v2 protobuf (gnostic openapi_v2.Document)", () => {
  test("document, definitions and vendor extensions decode", () => {
    const doc = fields(encodeOpenAPIV2(openapiV2()));
    expect(text(doc.find(([f]) => f === 1)![1])).toBe("2.0");
    const definitions = fields(doc.find(([f]) => f === 9)![1]); // Definitions.additional_properties
    const named = definitions.map(([, b]) => fields(b));
    const deploy = named.find((ns) => text(ns.find(([f]) => f === 1)![1]) === "io.k8s.api.apps.v1.Deployment")!;
    const schema = fields(deploy.find(([f]) => f === 2)![1]);
    const ext = schema.filter(([f]) => f === 31).map(([, b]) => fields(b)); // vendor_extension
    const gvk = ext.find((e) => text(e.find(([f]) => f === 1)![1]) === "x-kubernetes-group-version-kind")!;
    const yaml = text(fields(gvk.find(([f]) => f === 2)![1]).find(([f]) => f === 2)![1]);
    expect(JSON.parse(yaml)).toEqual([{ group: "apps", kind: "Deployment", version: "v1" }]);
    const type = fields(schema.find(([f]) => f === 22)![1]);
    expect(text(type[0]![1])).toBe("object");
  });
});

describe("routes", () => {
  const app = openapiRoutes();
  test("v2 negotiates JSON and protobuf", async () => {
    const json = await app.request("/openapi/v2", { headers: { accept: "application/json" } });
    expect(json.status).toBe(200);
    expect(json.headers.get("content-type")).toBe("application/json");
    expect(((await json.json()) as any).swagger).toBe("2.0");
    const pb = await app.request("/openapi/v2", { headers: { accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf" } });
    expect(pb.status).toBe(200);
    // The dotted form: client-go's mime parser rejects "@".
    expect(pb.headers.get("content-type")).toBe("application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
    const etag = pb.headers.get("etag")!;
    const again = await app.request("/openapi/v2", { headers: { accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf", "if-none-match": etag } });
    expect(again.status).toBe(304);
    const gz = await app.request("/openapi/v2", { headers: { accept: "application/json", "accept-encoding": "gzip, deflate" } });
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    expect(JSON.parse(new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await gz.arrayBuffer())))).swagger).toBe("2.0");
    const bad = await app.request("/openapi/v2", { headers: { accept: "text/plain" } });
    expect(bad.status).toBe(406);
  });

  test("v3 index and group-version documents", async () => {
    const index = (await (await app.request("/openapi/v3")).json()) as any;
    const url: string = index.paths["apis/apps/v1"].serverRelativeURL;
    const res = await app.request(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, immutable");
    expect(((await res.json()) as any).openapi).toBe("3.0.0");
    expect(Date.parse(res.headers.get("expires")!)).toBeGreaterThan(Date.now() + 300 * 86400_000);
    const stale = await app.request("/openapi/v3/apis/apps/v1?hash=OLD");
    expect(stale.status).toBe(301);
    expect(stale.headers.get("location")).toBe(url);
    const plain = await app.request("/openapi/v3/apis/apps/v1");
    expect(plain.status).toBe(200);
    expect(plain.headers.get("cache-control")).toBeNull();
    const missing = await app.request("/openapi/v3/apis/nope/v1");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).reason).toBe("NotFound");
  });
});
