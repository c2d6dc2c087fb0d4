// Server-side dry run (issue #10 item 1): `kubectl delete --dry-run=server` and every other write with
// dryRun=All change nothing (no object, finalizer, deletionTimestamp or resourceVersion moves) and answer
// with what would have happened; bad dryRun values get upstream's 422.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { kubectlOK, startTestCluster, type TestCluster } from "../helpers/cluster.ts";

setDefaultTimeout(60_000);
let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster();
});
afterAll(async () => {
  await c?.stop();
});

function ok(args: string[], stdin?: string): Promise<string> {
  return kubectlOK(c, args, stdin);
}

async function getJSON(args: string[]): Promise<any> {
  return JSON.parse(await ok(["get", ...args, "-o", "json"]));
}

const DEPLOY = (ns: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: busybox}]}
`;

describe("kubectl delete --dry-run=server", () => {
  test("a ConfigMap, a label selection and --all stay", async () => {
    await ok(["create", "namespace", "dry1"]);
    await ok(["-n", "dry1", "create", "configmap", "a", "--from-literal=k=v"]);
    await ok(["-n", "dry1", "create", "configmap", "b", "--from-literal=k=v"]);
    await ok(["-n", "dry1", "label", "configmap", "b", "sel=yes"]);
    const before = await getJSON(["-n", "dry1", "configmap"]);

    expect(await ok(["-n", "dry1", "delete", "configmap", "a", "--dry-run=server"])).toContain('configmap "a" deleted (server dry run)');
    expect(await ok(["-n", "dry1", "delete", "configmap", "-l", "sel=yes", "--dry-run=server"])).toContain('configmap "b" deleted (server dry run)');
    const all = await ok(["-n", "dry1", "delete", "configmap", "--all", "--dry-run=server"]);
    expect(all).toContain('configmap "a" deleted (server dry run)');

    const after = await getJSON(["-n", "dry1", "configmap"]);
    const rvs = (l: any) => l.items.map((i: any) => `${i.metadata.name}@${i.metadata.resourceVersion}`).sort();
    expect(rvs(after)).toEqual(rvs(before));
    expect(rvs(after)).toContain(`a@${before.items.find((i: any) => i.metadata.name === "a").metadata.resourceVersion}`);
  });

  test("a Deployment with foreground or orphan propagation keeps its finalizers and dependents", async () => {
    await ok(["create", "namespace", "dry2"]);
    await ok(["apply", "-f", "-"], DEPLOY("dry2"));
    const d = await getJSON(["-n", "dry2", "deployment", "web"]);
    // A dependent, as the Deployment controller would make it.
    await ok(["apply", "-f", "-"], `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-1
  namespace: dry2
  labels: {app: web}
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: ${d.metadata.uid}, controller: true, blockOwnerDeletion: true}]
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: busybox}]}
`);
    for (const cascade of ["foreground", "orphan", "background"]) {
      const out = await ok(["-n", "dry2", "delete", "deployment", "web", `--cascade=${cascade}`, "--dry-run=server"]);
      expect(out).toContain('deployment.apps "web" deleted (server dry run)');
    }
    const after = await getJSON(["-n", "dry2", "deployment", "web"]);
    expect(after.metadata.resourceVersion).toBe(d.metadata.resourceVersion);
    expect(after.metadata.finalizers).toBeUndefined();
    expect(after.metadata.deletionTimestamp).toBeUndefined();
    expect((await getJSON(["-n", "dry2", "replicaset", "web-1"])).metadata.deletionTimestamp).toBeUndefined();
  });

  test("a namespace is not terminated", async () => {
    await ok(["create", "namespace", "dry3"]);
    await ok(["-n", "dry3", "create", "configmap", "x"]);
    const before = await getJSON(["namespace", "dry3"]);
    expect(await ok(["delete", "namespace", "dry3", "--dry-run=server"])).toContain('namespace "dry3" deleted (server dry run)');
    const after = await getJSON(["namespace", "dry3"]);
    expect(after.status.phase).toBe("Active");
    expect(after.metadata.deletionTimestamp).toBeUndefined();
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(await ok(["-n", "dry3", "get", "configmap", "x", "-o", "name"])).toBe("configmap/x\n");
  });

  test("the API answers with what would have happened (object with deletionTimestamp, or the Success status)", async () => {
    await ok(["create", "namespace", "dry4"]);
    await ok(["-n", "dry4", "create", "configmap", "f"]);
    await ok(["-n", "dry4", "patch", "configmap", "f", "--type=merge", "-p", '{"metadata":{"finalizers":["example.com/hold"]}}']);
    const body = JSON.stringify({ kind: "DeleteOptions", apiVersion: "v1", dryRun: ["All"] });
    const res = await c.api("/api/v1/namespaces/dry4/configmaps/f", { method: "DELETE", body, headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(200);
    const obj = (await res.json()) as any;
    expect(obj.kind).toBe("ConfigMap");
    expect(obj.metadata.deletionTimestamp).toBeString();
    const live = await getJSON(["-n", "dry4", "configmap", "f"]);
    expect(live.metadata.deletionTimestamp).toBeUndefined();

    // deletecollection with the body's dryRun
    const coll = await c.api("/api/v1/namespaces/dry4/configmaps", { method: "DELETE", body, headers: { "Content-Type": "application/json" } });
    expect(coll.status).toBe(200);
    expect(((await coll.json()) as any).items.map((i: any) => i.metadata.name)).toContain("f");
    expect((await getJSON(["-n", "dry4", "configmap"])).items.length).toBeGreaterThan(0);
    await ok(["-n", "dry4", "patch", "configmap", "f", "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
  });

  test("eviction with dryRun in its DeleteOptions leaves the pod", async () => {
    await ok(["create", "namespace", "dry5"]);
    await ok(["-n", "dry5", "create", "serviceaccount", "default"]);
    await ok(["-n", "dry5", "run", "p", "--image=busybox", "--restart=Never"]);
    const ev = { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "p", namespace: "dry5" }, deleteOptions: { dryRun: ["All"] } };
    const res = await c.api("/api/v1/namespaces/dry5/pods/p/eviction", { method: "POST", body: JSON.stringify(ev), headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(201);
    expect((await getJSON(["-n", "dry5", "pod", "p"])).metadata.deletionTimestamp).toBeUndefined();
  });
});

describe("dryRun on every write path", () => {
  test("create, apply, replace, patch, label, scale, status and binding change nothing", async () => {
    await ok(["create", "namespace", "dry6"]);
    await ok(["-n", "dry6", "create", "serviceaccount", "default"]);
    await ok(["apply", "-f", "-"], DEPLOY("dry6"));
    await ok(["-n", "dry6", "run", "p", "--image=busybox", "--restart=Never"]);
    const snapshot = async () => ({
      d: (await getJSON(["-n", "dry6", "deployment", "web"])).metadata.resourceVersion,
      p: (await getJSON(["-n", "dry6", "pod", "p"])).metadata.resourceVersion,
      cms: (await getJSON(["-n", "dry6", "configmap"])).items.length,
    });
    const before = await snapshot();
    await ok(["-n", "dry6", "create", "configmap", "new", "--dry-run=server"]);
    await ok(["apply", "--dry-run=server", "-f", "-"], DEPLOY("dry6").replace("replicas: 1", "replicas: 3"));
    await ok(["apply", "--server-side", "--dry-run=server", "-f", "-"], DEPLOY("dry6").replace("replicas: 1", "replicas: 4"));
    const d = await getJSON(["-n", "dry6", "deployment", "web"]);
    d.spec.replicas = 5;
    await ok(["replace", "--dry-run=server", "-f", "-"], JSON.stringify(d));
    await ok(["-n", "dry6", "patch", "deployment", "web", "--dry-run=server", "-p", '{"spec":{"replicas":6}}']);
    await ok(["-n", "dry6", "label", "deployment", "web", "x=y", "--dry-run=server"]);
    await ok(["-n", "dry6", "annotate", "pod", "p", "x=y", "--dry-run=server"]);
    await ok(["-n", "dry6", "scale", "deployment", "web", "--replicas=7", "--dry-run=server"]);
    await ok(["-n", "dry6", "patch", "deployment", "web", "--subresource=status", "--type=merge", "--dry-run=server", "-p", '{"status":{"replicas":9}}']);
    const binding = { apiVersion: "v1", kind: "Binding", metadata: { name: "p" }, target: { kind: "Node", name: "n1" } };
    const b = await c.api("/api/v1/namespaces/dry6/pods/p/binding?dryRun=All", { method: "POST", body: JSON.stringify(binding), headers: { "Content-Type": "application/json" } });
    expect(b.status).toBe(201);
    expect(await snapshot()).toEqual(before);
    expect((await getJSON(["-n", "dry6", "pod", "p"])).spec.nodeName).toBeUndefined();
  });

  test("a dry-run Service shows the cluster IP and node port it would get, and takes neither", async () => {
    const out = JSON.parse(await ok(["create", "service", "nodeport", "dry-svc", "--tcp=80:80", "--dry-run=server", "-o", "json"]));
    expect(out.spec.clusterIP).toMatch(/^10\.43\./);
    expect(out.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect((await c.kubectl(["get", "service", "dry-svc"])).code).not.toBe(0);
    // The same address can then really be taken by a Service that asks for it.
    const svc = { apiVersion: "v1", kind: "Service", metadata: { name: "real-svc" }, spec: { clusterIP: out.spec.clusterIP, ports: [{ port: 80, nodePort: out.spec.ports[0].nodePort }], type: "NodePort" } };
    const res = await c.api("/api/v1/namespaces/default/services", { method: "POST", body: JSON.stringify(svc), headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(201);
    // A dry run asking for a taken address fails as the real create would.
    const again = await c.api("/api/v1/namespaces/default/services?dryRun=All", { method: "POST", body: JSON.stringify({ ...svc, metadata: { name: "other" } }), headers: { "Content-Type": "application/json" } });
    expect(again.status).toBe(422);
    expect(((await again.json()) as any).message).toContain("provided IP is already allocated");
  });

  test("an unsupported dryRun value is upstream's 422 on the options kind", async () => {
    const cm = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "bad" } });
    const create = await c.api("/api/v1/namespaces/default/configmaps?dryRun=Some", { method: "POST", body: cm, headers: { "Content-Type": "application/json" } });
    expect(create.status).toBe(422);
    const s = (await create.json()) as any;
    expect(s.reason).toBe("Invalid");
    expect(s.message).toBe('CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Some"}: supported values: "All"');
    expect(s.details).toEqual({ group: "meta.k8s.io", kind: "CreateOptions", causes: [{ reason: "FieldValueNotSupported", message: 'Unsupported value: []string{"Some"}: supported values: "All"', field: "dryRun" }] });

    const del = await c.api("/api/v1/namespaces/default/configmaps/x", {
      method: "DELETE",
      body: JSON.stringify({ kind: "DeleteOptions", apiVersion: "v1", dryRun: ["All", "Nope"] }),
      headers: { "Content-Type": "application/json" },
    });
    expect(del.status).toBe(422);
    expect(((await del.json()) as any).message).toBe('DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"All", "Nope"}: supported values: "All"');
  });
});
