// CRDs end to end with the real kubectl 1.32: establishing, discovery (shortNames, categories), every verb on
// custom objects, schema validation/defaulting/pruning messages, Table columns, status and scale
// subresources, explain through OpenAPI, and deletion of the CRD with its objects.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { kubectlOK, startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { pollUntil } from "../helpers/wait.ts";

setDefaultTimeout(90_000);
let c: TestCluster;

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wg]
    categories: [all, toys]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.selector
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size, description: how big}
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Mode, type: string, jsonPath: .spec.mode, priority: 1}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        description: A Widget is a test object.
        properties:
          spec:
            type: object
            description: The desired widget.
            required: [size]
            x-kubernetes-validations:
            - {rule: "!has(self.name) || self.name != 'forbidden'", message: name may not be forbidden}
            properties:
              size: {type: integer, minimum: 1, maximum: 10, description: Size of the widget in units.}
              color: {type: string, enum: [red, green, blue]}
              mode: {type: string, default: fast}
              replicas: {type: integer, default: 1, minimum: 0}
              name: {type: string, maxLength: 8, pattern: "^[a-z]+$"}
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    port: {type: integer}
              free:
                type: object
                x-kubernetes-preserve-unknown-fields: true
              selector:
                type: object
                additionalProperties: {type: string}
                x-kubernetes-map-type: atomic
              tags:
                type: array
                x-kubernetes-list-type: set
                items: {type: string}
          status:
            type: object
            properties:
              replicas: {type: integer}
              selector: {type: string}
              phase: {type: string}
`;

function ok(args: string[], stdin?: string): Promise<string> {
  return kubectlOK(c, args, stdin);
}
async function fails(args: string[], stdin?: string) {
  const r = await c.kubectl(args, { stdin });
  expect(r.code).not.toBe(0);
  return r.stderr;
}

beforeAll(async () => {
  c = await startTestCluster();
  await ok(["create", "serviceaccount", "default"]).catch(() => "");
});
afterAll(async () => {
  await c?.stop();
});

describe("CRD lifecycle", () => {
  test("create, Established, discovery", async () => {
    expect(await ok(["apply", "-f", "-"], CRD)).toContain("customresourcedefinition.apiextensions.k8s.io/widgets.example.com created");
    await ok(["wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s"]);
    const crd = JSON.parse(await ok(["get", "crd", "widgets.example.com", "-o", "json"]));
    const conds = Object.fromEntries(crd.status.conditions.map((x: any) => [x.type, x]));
    expect(conds.NamesAccepted).toMatchObject({ status: "True", reason: "NoConflicts", message: "no conflicts found" });
    expect(conds.Established).toMatchObject({ status: "True", reason: "InitialNamesAccepted" });
    expect(crd.status.acceptedNames).toMatchObject({ plural: "widgets", kind: "Widget", shortNames: ["wg"], listKind: "WidgetList" });
    expect(crd.status.storedVersions).toEqual(["v1"]);
    const res = await ok(["api-resources", "--api-group=example.com"]);
    expect(res).toMatch(/widgets\s+wg\s+example.com\/v1\s+true\s+Widget/);
    const wide = await ok(["api-resources", "--api-group=example.com", "-o", "wide"]);
    expect(wide).toContain("all,toys");
  });

  test("create, defaults, get with columns, -o wide, kubectl get all", async () => {
    await ok(["apply", "-f", "-"], `apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, labels: {tier: a}}
spec: {size: 3, color: red, ports: [{name: http, port: 80}]}
`);
    const w = JSON.parse(await ok(["get", "widget", "w1", "-o", "json"]));
    expect(w.spec.mode).toBe("fast");
    expect(w.spec.replicas).toBe(1);
    expect(w.metadata.generation).toBe(1);
    const table = await ok(["get", "wg"]);
    expect(table.split("\n")[0]).toMatch(/^NAME\s+SIZE\s+COLOR\s+AGE$/);
    expect(table).toMatch(/w1\s+3\s+red\s+\d+s/);
    expect((await ok(["get", "wg", "-o", "wide"])).split("\n")[0]).toMatch(/^NAME\s+SIZE\s+COLOR\s+MODE\s+AGE$/);
    expect(await ok(["get", "all"])).toContain("widget.example.com/w1");
    expect(await ok(["get", "toys"])).toContain("w1");
    expect(await ok(["get", "wg", "-l", "tier=a", "-o", "name"])).toBe("widget.example.com/w1\n");
    expect(await ok(["get", "wg", "-l", "tier=b", "-o", "name"])).toBe("");
    expect(await ok(["get", "wg", "--field-selector", "metadata.name=w1", "-o", "name"])).toBe("widget.example.com/w1\n");
  });

  test("schema errors carry upstream's messages", async () => {
    const bad = (spec: string) => `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: bad}\nspec: ${spec}\n`;
    expect(await fails(["apply", "-f", "-"], bad("{size: 11}"))).toContain('The Widget "bad" is invalid: spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10');
    expect(await fails(["apply", "-f", "-"], bad("{size: 2, color: purple}"))).toContain('spec.color: Unsupported value: "purple": supported values: "red", "green", "blue"');
    expect(await fails(["apply", "-f", "-"], bad("{color: red}"))).toContain("spec.size: Required value");
    expect(await fails(["apply", "-f", "-"], bad("{size: 2, name: ABC}"))).toContain("spec.name: Invalid value: \"ABC\": spec.name in body should match '^[a-z]+$'");
    expect(await fails(["apply", "-f", "-"], bad("{size: 2, ports: [{name: a}, {name: a}]}"))).toContain('spec.ports[1]: Duplicate value: map[string]interface {}{"name":"a"}');
    expect(await fails(["apply", "-f", "-"], bad("{size: 2, name: forbidden}"))).toContain('spec: Invalid value: "object": name may not be forbidden');
    // kubectl's default is fieldValidation=Strict.
    expect(await fails(["apply", "-f", "-"], bad("{size: 2, x: 1}"))).toContain('unknown field "spec.x"');
    // Warn: dropped with a warning; preserve-unknown-fields keeps what is below it.
    const r = await c.kubectl(["apply", "--validate=warn", "-f", "-"], { stdin: bad("{size: 2, x: 1, free: {any: {thing: true}}}") });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('unknown field "spec.x"');
    const stored = JSON.parse(await ok(["get", "widget", "bad", "-o", "json"]));
    expect(stored.spec.x).toBeUndefined();
    expect(stored.spec.free).toEqual({ any: { thing: true } });
    await ok(["delete", "widget", "bad"]);
  });

  test("patch: merge and JSON; strategic merge is refused with 415", async () => {
    await ok(["patch", "widget", "w1", "--type=merge", "-p", '{"spec":{"size":4}}']);
    await ok(["patch", "widget", "w1", "--type=json", "-p", '[{"op":"replace","path":"/spec/color","value":"blue"}]']);
    const w = JSON.parse(await ok(["get", "widget", "w1", "-o", "json"]));
    expect([w.spec.size, w.spec.color, w.metadata.generation]).toEqual([4, "blue", 3]);
    const err = await fails(["patch", "widget", "w1", "--type=strategic", "-p", '{"spec":{"size":5}}']);
    expect(err).toContain("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
    await ok(["label", "widget", "w1", "extra=yes"]);
    expect(JSON.parse(await ok(["get", "widget", "w1", "-o", "json"])).metadata.generation).toBe(3);
  });

  test("server-side apply merges map lists by key", async () => {
    const doc = (ports: string) => `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec:\n  size: 4\n  ports: ${ports}\n`;
    await ok(["apply", "--server-side", "--field-manager=a", "--force-conflicts", "-f", "-"], doc("[{name: http, port: 80}]"));
    await ok(["apply", "--server-side", "--field-manager=b", "-f", "-"], `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec:\n  ports: [{name: metrics, port: 9090}]\n`);
    const w = JSON.parse(await ok(["get", "widget", "w1", "-o", "json"]));
    expect(w.spec.ports.map((p: any) => p.name).sort()).toEqual(["http", "metrics"]);
    // A set list merges by value; an atomic map belongs to one manager as a whole.
    const spec = (body: string) => `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec:\n${body}\n`;
    await ok(["apply", "--server-side", "--field-manager=a", "-f", "-"], spec("  tags: [red]\n  selector: {app: a}"));
    await ok(["apply", "--server-side", "--field-manager=b", "-f", "-"], spec("  tags: [blue]"));
    expect(JSON.parse(await ok(["get", "widget", "w1", "-o", "json"])).spec.tags.sort()).toEqual(["blue", "red"]);
    const conflict = await fails(["apply", "--server-side", "--field-manager=b", "-f", "-"], spec("  tags: [blue]\n  selector: {tier: b}"));
    expect(conflict).toContain('conflict with "a"');
    expect(conflict).toContain(".spec.selector");
  });

  test("status and scale subresources", async () => {
    const raw = await ok(["get", "--raw", "/apis/example.com/v1/namespaces/default/widgets/w1/scale"]);
    expect(JSON.parse(raw)).toMatchObject({ kind: "Scale", apiVersion: "autoscaling/v1", spec: { replicas: 1 }, status: { replicas: 0 } });
    expect(await ok(["scale", "widget", "w1", "--replicas=3"])).toContain("widget.example.com/w1 scaled");
    const w = JSON.parse(await ok(["get", "widget", "w1", "-o", "json"]));
    expect(w.spec.replicas).toBe(3);
    await ok(["patch", "widget", "w1", "--subresource=status", "--type=merge", "-p", '{"status":{"replicas":3,"phase":"Ready"},"spec":{"size":9}}']);
    const after = JSON.parse(await ok(["get", "widget", "w1", "-o", "json"]));
    expect(after.status).toEqual({ replicas: 3, phase: "Ready" });
    expect(after.spec.size).toBe(4); // the status subresource ignores spec
    // The main resource ignores status.
    await ok(["patch", "widget", "w1", "--type=merge", "-p", '{"status":{"phase":"Hacked"}}']);
    expect(JSON.parse(await ok(["get", "widget", "w1", "-o", "json"])).status.phase).toBe("Ready");
  });

  test("explain reads the schema through OpenAPI", async () => {
    const out = await pollUntil("explain", async () => {
      const r = await c.kubectl(["explain", "widget.spec.size"]);
      return r.code === 0 ? r.stdout : undefined;
    }, 15_000);
    expect(out).toContain("Size of the widget in units.");
    expect(await ok(["explain", "widget"])).toContain("A Widget is a test object.");
  });

  test("resourceVersion conflicts and delete/deletecollection", async () => {
    const w = JSON.parse(await ok(["get", "widget", "w1", "-o", "json"]));
    w.metadata.resourceVersion = "1";
    const err = await fails(["replace", "-f", "-"], JSON.stringify(w));
    expect(err).toContain("the object has been modified; please apply your changes to the latest version and try again");
    await ok(["apply", "-f", "-"], `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {size: 1}\n`);
    expect(await ok(["delete", "widget", "w2"])).toContain('widget.example.com "w2" deleted');
  });
});

describe("CRD deletion", () => {
  test("deleting the CRD deletes its objects, then stops serving", async () => {
    await ok(["apply", "-f", "-"], `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w3, finalizers: [example.com/hold]}\nspec: {size: 1}\n`);
    // An open watch of the resource ends once the CRD is gone.
    const watch = await c.api("/apis/example.com/v1/namespaces/default/widgets?watch=1");
    const watchEnded = (async () => {
      const reader = watch.body!.getReader();
      while (!(await reader.read()).done);
      return true;
    })();
    await ok(["delete", "crd", "widgets.example.com", "--wait=false"]);
    // As upstream, the cleanup finalizer is added by the delete.
    const crd = JSON.parse(await ok(["get", "crd", "widgets.example.com", "-o", "json"]));
    expect(crd.metadata.finalizers).toContain("customresourcecleanup.apiextensions.k8s.io");
    expect(crd.metadata.deletionTimestamp).toBeDefined();
    // The object with a finalizer holds the CRD in Terminating; creates are refused meanwhile.
    await pollUntil("w3 being deleted", async () => {
      const o = JSON.parse(await ok(["get", "widget", "w3", "-o", "json"]));
      return o.metadata.deletionTimestamp ? true : undefined;
    }, 15_000);
    const create = await fails(["create", "-f", "-"], `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w4}\nspec: {size: 1}\n`);
    expect(create).toContain("create not allowed while custom resource definition is terminating");
    const term = JSON.parse(await ok(["get", "crd", "widgets.example.com", "-o", "json"]));
    expect(term.status.conditions.find((x: any) => x.type === "Terminating")).toMatchObject({ status: "True", reason: "InstanceDeletionInProgress" });
    await ok(["patch", "widget", "w3", "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
    await pollUntil("CRD gone", async () => ((await c.kubectl(["get", "crd", "widgets.example.com"])).code !== 0 ? true : undefined), 15_000);
    const gone = await c.kubectl(["get", "--raw", "/apis/example.com/v1/namespaces/default/widgets"]);
    expect(gone.code).not.toBe(0);
    expect(await ok(["api-resources"])).not.toContain("widgets");
    expect(await Promise.race([watchEnded, Bun.sleep(10_000).then(() => false)])).toBe(true);
  });
});
