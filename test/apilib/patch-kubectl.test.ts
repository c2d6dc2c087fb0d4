// Real /usr/bin/kubectl against a kubun control plane: client-side apply (strategic merge patches with
// $setElementOrder/$retainKeys), kubectl patch of all three types, and server-side apply with conflicts.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { kubectlOK, startTestCluster, type TestCluster } from "../helpers/cluster.ts";

// Each test runs several kubectl processes; leave room for a loaded CI machine.
setDefaultTimeout(90_000);

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startTestCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

function deployment(opts: { replicas?: number; containers: { name: string; image: string; port?: number }[]; strategy?: string }): string {
  const containers = opts.containers
    .map(
      (c) => `      - name: ${c.name}
        image: ${c.image}${c.port ? `\n        ports:\n        - containerPort: ${c.port}` : ""}`,
    )
    .join("\n");
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
${opts.replicas !== undefined ? `  replicas: ${opts.replicas}\n` : ""}${opts.strategy ? `  strategy:\n    type: ${opts.strategy}\n` : ""}  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
${containers}
`;
}

async function getJSON(...args: string[]): Promise<any> {
  const r = await cluster.kubectl(["get", ...args, "-o", "json", "--show-managed-fields"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

function ok(args: string[], stdin?: string): Promise<string> {
  return kubectlOK(cluster, args, stdin);
}

describe("kubectl apply (client-side) twice", () => {
  test("a changed container list merges by name; a removed container goes; strategy switch clears rollingUpdate", async () => {
    await ok(
      ["apply", "-f", "-"],
      deployment({ replicas: 2, containers: [{ name: "nginx", image: "nginx:1.25", port: 80 }, { name: "sidecar", image: "busybox:1" }] }),
    );
    let d = await getJSON("deployment", "web");
    expect(d.spec.template.spec.containers.map((c: any) => c.name)).toEqual(["nginx", "sidecar"]);
    expect(d.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]).toBeString();
    expect(d.metadata.managedFields.map((e: any) => e.manager)).toContain("kubectl-client-side-apply");

    const out = await ok(
      ["apply", "-f", "-"],
      deployment({
        replicas: 3,
        strategy: "Recreate",
        containers: [{ name: "log", image: "fluent-bit:2" }, { name: "nginx", image: "nginx:1.26", port: 80 }],
      }),
    );
    expect(out.trim()).toBe("deployment.apps/web configured");
    d = await getJSON("deployment", "web");
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.template.spec.containers.map((c: any) => `${c.name}=${c.image}`)).toEqual(["log=fluent-bit:2", "nginx=nginx:1.26"]);
    expect(d.spec.template.spec.containers[1].ports.map((p: any) => p.containerPort)).toEqual([80]);
    expect(d.spec.strategy.type).toBe("Recreate");
    expect(d.spec.strategy.rollingUpdate).toBeUndefined();
  });
});

describe("kubectl patch", () => {
  test("--type strategic merges containers by name", async () => {
    await ok(["patch", "deployment", "web", "--type", "strategic", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}']);
    const d = await getJSON("deployment", "web");
    expect(d.spec.template.spec.containers.map((c: any) => `${c.name}=${c.image}`)).toEqual(["log=fluent-bit:2", "nginx=nginx:1.27"]);
  });

  test("--type strategic with $patch: delete removes one container", async () => {
    await ok(["patch", "deployment", "web", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"log","$patch":"delete"}]}}}}']);
    const d = await getJSON("deployment", "web");
    expect(d.spec.template.spec.containers.map((c: any) => c.name)).toEqual(["nginx"]);
  });

  test("--type merge replaces lists and deletes with null", async () => {
    await ok(["label", "deployment", "web", "tier=fe", "team=a"]);
    await ok(["patch", "deployment", "web", "--type", "merge", "-p", '{"metadata":{"labels":{"team":null}},"spec":{"replicas":1}}']);
    const d = await getJSON("deployment", "web");
    expect(d.metadata.labels).toEqual({ tier: "fe" });
    expect(d.spec.replicas).toBe(1);
  });

  test("--type json applies operations; a failed test is 422 Invalid", async () => {
    await ok(["patch", "deployment", "web", "--type", "json", "-p", '[{"op":"replace","path":"/spec/replicas","value":2},{"op":"add","path":"/metadata/labels/x","value":"y"}]']);
    const d = await getJSON("deployment", "web");
    expect(d.spec.replicas).toBe(2);
    expect(d.metadata.labels.x).toBe("y");
    const r = await cluster.kubectl(["patch", "deployment", "web", "--type", "json", "-p", '[{"op":"test","path":"/spec/replicas","value":9}]']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe("The request is invalid: the server rejected our request due to an error in our request");
  });

  test("a strategic patch item without its merge key is refused", async () => {
    const r = await cluster.kubectl(["patch", "deployment", "web", "-p", '{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("does not contain declared merge key: name");
  });
});

describe("kubectl apply --server-side", () => {
  const cm = (data: Record<string, string>) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n${Object.entries(data)
      .map(([k, v]) => `  ${k}: "${v}"`)
      .join("\n")}\n`;

  test("creates, re-applies (removing omitted fields) and conflicts with another manager", async () => {
    const created = await ok(["apply", "--server-side", "--field-manager", "alice", "-f", "-"], cm({ a: "1", b: "2" }));
    expect(created.trim()).toBe("configmap/settings serverside-applied");
    let c = await getJSON("configmap", "settings");
    expect(c.data).toEqual({ a: "1", b: "2" });
    const alice = c.metadata.managedFields.find((e: any) => e.manager === "alice");
    expect(alice).toMatchObject({ operation: "Apply", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:data": { "f:a": {}, "f:b": {} } } });

    await ok(["apply", "--server-side", "--field-manager", "alice", "-f", "-"], cm({ a: "1" }));
    c = await getJSON("configmap", "settings");
    expect(c.data).toEqual({ a: "1" });

    const r = await cluster.kubectl(["apply", "--server-side", "--field-manager", "bob", "-f", "-"], { stdin: cm({ a: "changed" }) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Apply failed with 1 conflict: conflict with "alice": .data.a');
    expect(r.stderr).toContain("--force-conflicts");

    await ok(["apply", "--server-side", "--field-manager", "bob", "--force-conflicts", "-f", "-"], cm({ a: "changed" }));
    c = await getJSON("configmap", "settings");
    expect(c.data.a).toBe("changed");
    const managers = Object.fromEntries(c.metadata.managedFields.map((e: any) => [e.manager, e.fieldsV1]));
    expect(managers.bob).toEqual({ "f:data": { "f:a": {} } });
    expect(managers.alice).toBeUndefined(); // alice owned nothing else, so her entry is gone
  });

  test("a field changed by kubectl edit-style update conflicts with that manager, with its apiVersion", async () => {
    await ok(["patch", "deployment", "web", "--type", "merge", "-p", '{"spec":{"replicas":4}}']);
    const r = await cluster.kubectl(["apply", "--server-side", "--field-manager", "ci", "-f", "-"], {
      stdin: deployment({ replicas: 5, containers: [{ name: "nginx", image: "nginx:1.27", port: 80 }] }),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('conflict with "kubectl-patch" using apps/v1: .spec.replicas');
  });
});

describe("moving a client-side applied object to server-side apply", () => {
  const svc = (port: number, extra = "") => `apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: default
spec:
  selector:
    app: api
  ports:
  - name: http
    port: ${port}
    targetPort: 8080
${extra}`;

  test("another field manager conflicts with kubectl-client-side-apply; kubectl itself upgrades without conflict", async () => {
    await ok(["apply", "-f", "-"], svc(80));
    const r = await cluster.kubectl(["apply", "--server-side", "--field-manager", "ci", "-f", "-"], {
      stdin: svc(80).replace("targetPort: 8080", "targetPort: 9090"),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('conflict with "kubectl-client-side-apply" using v1: .spec.ports[port=80,protocol="TCP"].targetPort');

    const out = await ok(["apply", "--server-side", "-f", "-"], svc(80).replace("targetPort: 8080", "targetPort: 9090"));
    expect(out.trim()).toBe("service/api serverside-applied");
    const s = await getJSON("service", "api");
    expect(s.spec.ports).toHaveLength(1);
    expect(s.spec.ports[0].targetPort).toBe(9090);
    expect(s.metadata.managedFields.find((e: any) => e.manager === "kubectl" && e.operation === "Apply")).toBeDefined();
  });
});

describe("kubectl edit", () => {
  test("an edit through KUBE_EDITOR patches the object and records kubectl-edit as owner of what it changed", async () => {
    const before = await getJSON("deployment", "web");
    const image = before.spec.template.spec.containers[0].image;
    const r = await cluster.kubectl(["edit", "deployment", "web"], {
      env: { KUBE_EDITOR: `sed -i s#${image}#nginx:edited#`, EDITOR: "" },
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("deployment.apps/web edited");
    const d = await getJSON("deployment", "web");
    expect(d.spec.template.spec.containers[0].image).toBe("nginx:edited");
    const edit = d.metadata.managedFields.find((e: any) => e.manager === "kubectl-edit");
    expect(edit.operation).toBe("Update");
    expect(edit.fieldsV1["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}']).toEqual({ "f:image": {} });
  });
});

describe("kubectl commands that send strategic merge patches", () => {
  test("set image, rollout restart and taint", async () => {
    expect((await ok(["set", "image", "deployment/web", "nginx=nginx:set"])).trim()).toBe("deployment.apps/web image updated");
    let d = await getJSON("deployment", "web");
    expect(d.spec.template.spec.containers.map((c: any) => `${c.name}=${c.image}`)).toEqual(["nginx=nginx:set"]);

    expect((await ok(["rollout", "restart", "deployment/web"])).trim()).toBe("deployment.apps/web restarted");
    d = await getJSON("deployment", "web");
    expect(d.spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]).toBeString();
    expect(d.spec.template.metadata.labels).toEqual({ app: "web" });

    await ok(["apply", "-f", "-"], "apiVersion: v1\nkind: Node\nmetadata:\n  name: patch-node\n");
    await ok(["taint", "node", "patch-node", "dedicated=db:NoSchedule"]);
    await ok(["taint", "node", "patch-node", "spot=true:NoExecute"]);
    let n = await getJSON("node", "patch-node");
    expect(n.spec.taints.map((t: any) => `${t.key}=${t.value}:${t.effect}`).sort()).toEqual(["dedicated=db:NoSchedule", "spot=true:NoExecute"]);
    await ok(["taint", "node", "patch-node", "dedicated-"]);
    n = await getJSON("node", "patch-node");
    expect(n.spec.taints.map((t: any) => t.key)).toEqual(["spot"]);
    await ok(["delete", "node", "patch-node"]);
  });
});
