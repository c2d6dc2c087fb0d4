// The manifests directory (k3s's auto-deploying manifests) against a real control plane: files there at start are
// applied with server-side apply (field manager kubun-deploy), multi-document YAML and JSON, a CRD before the
// custom object that needs it, ".skip" and --disable honoured, a broken file reported as an Event and on its Addon
// while the others apply; later edits and new files are applied; removing a file deletes nothing.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { pollUntil } from "../helpers/wait.ts";
import { createClient } from "../../internal/client/client.ts";
import { startDeployController, type DeployController } from "../../internal/deploy/index.ts";
import { manifestFiles, parseManifest, applyOrder } from "../../internal/deploy/manifests.ts";

setDefaultTimeout(60_000);
let c: TestCluster;
let deploy: DeployController;
let dir: string;

const CRD_AND_OBJECT = `# the object comes first in the file: the CRD must still be applied (and Established) before it
apiVersion: kubun.test/v1
kind: Widget
metadata:
  name: first-widget
spec:
  size: 3
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.kubun.test
spec:
  group: kubun.test
  scope: Namespaced
  names: { kind: Widget, plural: widgets, singular: widget, listKind: WidgetList }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: { type: integer }
`;

const cmYAML = (name: string, value: string, ns = "") => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
${ns ? `  namespace: ${ns}\n` : ""}data:
  value: "${value}"
`;

async function getJSON(args: string[]): Promise<any> {
  const r = await c.kubectl(["get", ...args, "-o", "json"]);
  return r.code === 0 ? JSON.parse(r.stdout) : undefined;
}

beforeAll(async () => {
  c = await startTestCluster();
  dir = join(c.dataDir, "server", "manifests");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "10-app.yaml"), `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n---\n${cmYAML("app-config", "one", "app")}---\n${cmYAML("system-config", "sys")}`);
  writeFileSync(join(dir, "20-extra.json"), JSON.stringify({ apiVersion: "v1", kind: "List", items: [JSON.parse(JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "extra", namespace: "app" }, spec: { ports: [{ port: 80 }] } }))] }));
  writeFileSync(join(dir, "30-widgets.yml"), CRD_AND_OBJECT);
  writeFileSync(join(dir, "40-broken.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: [not, a, map\n");
  writeFileSync(join(dir, "50-skipped.yaml"), cmYAML("skipped", "x"));
  writeFileSync(join(dir, "50-skipped.yaml.skip"), "");
  writeFileSync(join(dir, "60-disabled.yaml"), cmYAML("disabled", "x"));
  writeFileSync(join(dir, "notes.txt"), cmYAML("from-txt", "x"));
  deploy = await startDeployController({
    client: createClient({ ...c.clientConfig, userAgent: "kubun-deploy" }),
    dir,
    disable: ["60-disabled"],
    resyncMs: 1000,
  });
});

afterAll(async () => {
  deploy?.stop();
  await c?.stop();
});

describe("manifests directory", () => {
  test("files present at start are applied with server-side apply as kubun-deploy; kube-system is the default namespace", async () => {
    const app = await getJSON(["configmap", "app-config", "-n", "app", "--show-managed-fields"]);
    expect(app.data).toEqual({ value: "one" });
    expect(app.metadata.managedFields.map((m: any) => [m.manager, m.operation])).toEqual([["kubun-deploy", "Apply"]]);
    expect((await getJSON(["configmap", "system-config", "-n", "kube-system"])).data.value).toBe("sys");
    expect((await getJSON(["service", "extra", "-n", "app"])).spec.ports[0].port).toBe(80);
  });

  test("a CRD and a custom object in one file: the CRD is applied and Established first", async () => {
    const w = await getJSON(["widgets.kubun.test", "first-widget", "-n", "kube-system"]);
    expect(w.spec.size).toBe(3);
  });

  test(".skip files, --disable names and other extensions are not applied", async () => {
    for (const name of ["skipped", "disabled", "from-txt"]) expect(await getJSON(["configmap", name, "-n", "kube-system"])).toBeUndefined();
    expect(manifestFiles(dir, new Set(["60-disabled"])).map((f) => f.base)).toEqual(["10-app", "20-extra", "30-widgets", "40-broken"]);
  });

  test("each file has an Addon with its status; a broken file gives a Warning Event and does not stop the others", async () => {
    const addons = await getJSON(["addons", "-n", "kube-system"]);
    const byName = Object.fromEntries(addons.items.map((a: any) => [a.metadata.name, a]));
    expect(Object.keys(byName).sort()).toEqual(["10-app", "20-extra", "30-widgets", "40-broken"]);
    expect(byName["10-app"].spec.source).toBe(join(dir, "10-app.yaml"));
    expect(byName["10-app"].spec.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(byName["10-app"].status.phase).toBe("Applied");
    expect(byName["10-app"].status.objects).toEqual(["Namespace/app", "ConfigMap/app/app-config", "ConfigMap/kube-system/system-config"]);
    expect(byName["40-broken"].status.phase).toBe("Failed");
    expect(byName["40-broken"].status.message).toContain("cannot parse the file");

    const table = await c.kubectl(["get", "addons", "-n", "kube-system"]);
    expect(table.stdout).toMatch(/^NAME\s+SOURCE\s+CHECKSUM\s+STATUS\s+AGE\n/);

    const events = await pollUntil("the Addon events", async () => {
      const list = await getJSON(["events", "-n", "kube-system", "--field-selector", "involvedObject.kind=Addon"]);
      const reasons = list?.items.map((e: any) => `${e.involvedObject.name}:${e.reason}`) ?? [];
      return reasons.includes("40-broken:ApplyManifestFailed") && reasons.includes("10-app:AppliedManifest") ? list.items : undefined;
    }, 10_000);
    const failed = events.find((e: any) => e.reason === "ApplyManifestFailed");
    expect(failed.type).toBe("Warning");
    expect(failed.message).toStartWith(`Error applying manifest at "${join(dir, "40-broken.yaml")}": cannot parse the file`);
    expect(failed.source.component).toBe("kubun-deploy");
  });

  test("editing a file updates its objects; fixing a broken file and adding a new one applies them", async () => {
    writeFileSync(join(dir, "10-app.yaml"), cmYAML("app-config", "two", "app"));
    writeFileSync(join(dir, "40-broken.yaml"), cmYAML("was-broken", "fixed"));
    writeFileSync(join(dir, "70-new.yaml"), cmYAML("new-config", "new"));
    await pollUntil("the edited ConfigMap", async () => (await getJSON(["configmap", "app-config", "-n", "app"]))?.data?.value === "two", 15_000);
    await pollUntil("the fixed file", async () => (await getJSON(["configmap", "was-broken", "-n", "kube-system"]))?.data?.value === "fixed", 15_000);
    await pollUntil("the new file", async () => await getJSON(["configmap", "new-config", "-n", "kube-system"]), 15_000);
    await pollUntil("the fixed Addon", async () => (await getJSON(["addon", "40-broken", "-n", "kube-system"]))?.status?.phase === "Applied", 15_000);
    // system-config left the file: it stays (nothing is deleted).
    expect(await getJSON(["configmap", "system-config", "-n", "kube-system"])).toBeDefined();
  });

  test("removing a file deletes none of its objects", async () => {
    rmSync(join(dir, "70-new.yaml"));
    await deploy.sync();
    await Bun.sleep(1500); // one periodic check later
    expect((await getJSON(["configmap", "new-config", "-n", "kube-system"])).data.value).toBe("new");
  });

  test("parsing: List items, JSON, document errors with their number, CRDs and Namespaces first", () => {
    expect(() => parseManifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: ConfigMap\n", "x.yaml")).toThrow("document 2: apiVersion not set");
    expect(() => parseManifest("{", "x.json")).toThrow("invalid JSON");
    const objs = parseManifest(`${cmYAML("a", "1")}---\napiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n---\n${CRD_AND_OBJECT}`, "x.yaml");
    expect(applyOrder(objs).map((o) => o.kind)).toEqual(["CustomResourceDefinition", "Namespace", "ConfigMap", "Widget"]);
    // __proto__ is an ordinary key.
    const p = parseManifest(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\ndata: {"__proto__": "x"}\n`, "p.yaml");
    expect(Object.hasOwn(p[0]!.data as object, "__proto__")).toBe(true);
  });
});
