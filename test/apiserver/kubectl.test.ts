// End-to-end with the real /usr/bin/kubectl (v1.32) against a control plane in a temp dir.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KUBECTL, kubectlOK, startTestCluster, type TestCluster } from "../helpers/cluster.ts";

// kubectl takes a few hundred ms per call; some tests make a dozen calls.
setDefaultTimeout(60_000);
let c: TestCluster;

const MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports: [{containerPort: 80}]
        env: [{name: A, value: "1"}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, labels: {tier: backend}}
data: {mode: fast}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
`;

beforeAll(async () => {
  c = await startTestCluster();
  const sa = await c.kubectl(["create", "serviceaccount", "default"]);
  expect(sa.code).toBe(0);
});
afterAll(async () => {
  await c?.stop();
});

function ok(args: string[], stdin?: string): Promise<string> {
  return kubectlOK(c, args, stdin);
}

describe("kubectl basics", () => {
  test("version and api-resources", async () => {
    expect(await ok(["version"])).toContain("Server Version: v1.32.0+kubun");
    const res = await ok(["api-resources"]);
    expect(res).toMatch(/deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
    expect(res).toMatch(/pods\s+po\s+v1\s+true\s+Pod/);
    const ns = await ok(["api-resources", "--namespaced=false", "-o", "name"]);
    expect(ns.split("\n")).toContain("nodes");
  });

  test("apply multi-document YAML, then get in several formats", async () => {
    const out = await ok(["apply", "-f", "-"], MANIFEST);
    expect(out).toContain("deployment.apps/web created");
    expect(out).toContain("configmap/settings created");
    expect(out).toContain("service/web created");
    expect(await ok(["apply", "-f", "-"], MANIFEST)).toContain("deployment.apps/web unchanged");

    const table = await ok(["get", "deploy", "-o", "wide"]);
    expect(table.split("\n")[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR/);
    expect(table).toMatch(/web\s+0\/2\s+0\s+0\s+\S+\s+nginx\s+nginx:1.25\s+app=web/);

    const json = JSON.parse(await ok(["get", "cm", "settings", "-o", "json"]));
    expect(json.data).toEqual({ mode: "fast" });
    expect(await ok(["get", "cm", "settings", "-o", "yaml"])).toContain("mode: fast");
    expect(await ok(["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"])).toBe("2");
    const cc = await ok(["get", "cm", "-l", "tier=backend", "-o", "custom-columns=NAME:.metadata.name,MODE:.data.mode", "--no-headers"]);
    expect(cc.trim()).toMatch(/^settings\s+fast$/);
    const all = (await ok(["get", "all", "-o", "name"])).split("\n");
    expect(all).toContain("deployment.apps/web");
    expect(all).toContain("service/web");
    expect(all).not.toContain("configmap/settings");
    const svc = await ok(["get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"]);
    expect(svc).toMatch(/^10\.43\.\d+\.\d+$/);
  });

  test("describe", async () => {
    const d = await ok(["describe", "deployment", "web"]);
    expect(d).toMatch(/Name:\s+web/);
    expect(d).toMatch(/Replicas:\s+2 desired/);
    expect(d).toContain("nginx:1.25");
  });

  test("label, annotate and selectors", async () => {
    await ok(["label", "cm", "settings", "env=prod"]);
    await ok(["annotate", "cm", "settings", "owner=team-a"]);
    expect(await ok(["get", "cm", "-l", "env=prod,tier in (backend)", "-o", "name"])).toBe("configmap/settings\n");
    expect(await ok(["get", "cm", "settings", "-o", "jsonpath={.metadata.annotations.owner}"])).toBe("team-a");
    const r = await c.kubectl(["label", "cm", "settings", "env=dev"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("already has a value");
    await ok(["label", "cm", "settings", "env=dev", "--overwrite"]);
    expect(await ok(["get", "cm", "-l", "env!=prod", "-o", "name"])).toContain("configmap/settings");
  });

  test("patch: strategic, merge and JSON", async () => {
    await ok(["patch", "deploy", "web", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","env":[{"name":"B","value":"2"}]}]}}}}']);
    const env = JSON.parse(await ok(["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].env}"]));
    expect(env).toEqual([{ name: "B", value: "2" }, { name: "A", value: "1" }]);
    await ok(["patch", "deploy", "web", "--type=merge", "-p", '{"spec":{"replicas":3}}']);
    await ok(["patch", "deploy", "web", "--type=json", "-p", '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:1.26"}]']);
    expect(await ok(["get", "deploy", "web", "-o", "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.metadata.generation}"])).toBe("3 nginx:1.26 4");
    const bad = await c.kubectl(["patch", "deploy", "web", "--type=json", "-p", '[{"op":"test","path":"/spec/replicas","value":99}]']);
    expect(bad.code).not.toBe(0);
    // 422 without details: kubectl prints upstream's generic text.
    expect(bad.stderr.trim()).toBe("The request is invalid: the server rejected our request due to an error in our request");
  });

  test("scale", async () => {
    expect(await ok(["scale", "deploy", "web", "--replicas=5"])).toContain("deployment.apps/web scaled");
    expect(await ok(["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"])).toBe("5");
    const r = await c.kubectl(["scale", "deploy", "web", "--replicas=1", "--current-replicas=2"]);
    expect(r.code).not.toBe(0);
  });

  test("replace and its conflict", async () => {
    const cur = JSON.parse(await ok(["get", "cm", "settings", "-o", "json"]));
    cur.data.mode = "slow";
    expect(await ok(["replace", "-f", "-"], JSON.stringify(cur))).toContain("configmap/settings replaced");
    cur.data.mode = "stale";
    const r = await c.kubectl(["replace", "-f", "-"], { stdin: JSON.stringify(cur) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Operation cannot be fulfilled on configmaps "settings": the object has been modified; please apply your changes to the latest version and try again');
  });

  test("edit via KUBE_EDITOR", async () => {
    const editor = join(c.dataDir, "editor.sh");
    writeFileSync(editor, `#!/bin/sh\nsed -i 's/mode: slow/mode: edited/' "$1"\n`);
    chmodSync(editor, 0o755);
    const r = await c.kubectl(["edit", "cm", "settings"], { env: { KUBE_EDITOR: editor } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("configmap/settings edited");
    expect(await ok(["get", "cm", "settings", "-o", "jsonpath={.data.mode}"])).toBe("edited");
  });

  test("server-side apply, conflicts and --force-conflicts", async () => {
    const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: one}\n";
    expect(await ok(["apply", "--server-side", "-f", "-"], cm)).toContain("configmap/ssa serverside-applied");
    await ok(["patch", "cm", "ssa", "--type=merge", "-p", '{"data":{"a":"two"}}']);
    const r = await c.kubectl(["apply", "--server-side", "-f", "-"], { stdin: cm });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl-patch"');
    expect(r.stderr).toContain(".data.a");
    await ok(["apply", "--server-side", "--force-conflicts", "-f", "-"], cm);
    expect(await ok(["get", "cm", "ssa", "-o", "jsonpath={.data.a}"])).toBe("one");
    const mf = JSON.parse(await ok(["get", "cm", "ssa", "-o", "jsonpath={.metadata.managedFields}", "--show-managed-fields"]));
    expect(mf.some((m: any) => m.manager === "kubectl" && m.operation === "Apply")).toBe(true);
  });

  test("typed commands (protobuf bodies): create secret / configmap / namespace", async () => {
    await ok(["create", "secret", "generic", "creds", "--from-literal=user=admin"]);
    expect(Buffer.from(await ok(["get", "secret", "creds", "-o", "jsonpath={.data.user}"]), "base64").toString()).toBe("admin");
    await ok(["create", "configmap", "typed", "--from-literal=k=v"]);
    expect(await ok(["get", "cm", "typed", "-o", "jsonpath={.data.k}"])).toBe("v");
    await ok(["create", "deployment", "typed", "--image=nginx:1.27", "--replicas=0"]);
    expect(await ok(["get", "deploy", "typed", "-o", "jsonpath={.spec.replicas} {.spec.strategy.type} {.spec.template.spec.containers[0].image}"])).toBe("0 RollingUpdate nginx:1.27");
    await ok(["create", "namespace", "team-x"]);
    expect(await ok(["get", "ns", "team-x", "-o", "jsonpath={.status.phase}"])).toBe("Active");
  });

  test("errors print upstream's messages", async () => {
    const nf = await c.kubectl(["get", "pod", "missing"]);
    expect(nf.code).toBe(1);
    expect(nf.stderr.trim()).toBe('Error from server (NotFound): pods "missing" not found');
    const ae = await c.kubectl(["create", "configmap", "typed"]);
    expect(ae.stderr.trim()).toBe('error: failed to create configmap: configmaps "typed" already exists');
    const inv = await c.kubectl(["apply", "-f", "-"], { stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n" });
    expect(inv.stderr).toContain('The ConfigMap "Bad_Name" is invalid');
  });
});

describe("kubectl auth, explain, wait, watch, delete", () => {
  test("auth can-i", async () => {
    expect((await ok(["auth", "can-i", "create", "deployments"])).trim()).toBe("yes");
    const no = await c.kubectl(["auth", "can-i", "list", "pods", "--as", "system:serviceaccount:default:default"]);
    expect(no.stdout.trim()).toBe("no");
    expect(no.code).toBe(1);
    expect(await ok(["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"])).toBe("system:admin");
    const as = await ok(["auth", "whoami", "--as", "jane", "--as-group", "devs", "-o", "json"]);
    expect(JSON.parse(as).status.userInfo).toEqual({ username: "jane", groups: ["devs", "system:authenticated"] });
    const forbidden = await c.kubectl(["get", "pods", "--as", "jane"]);
    expect(forbidden.stderr.trim()).toBe('Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"');
  });

  test("explain", async () => {
    const e = await ok(["explain", "deployment.spec.replicas"]);
    expect(e).toContain("KIND:       Deployment");
    expect(e).toContain("FIELD: replicas <integer>");
  });

  test("wait --for on a condition and on delete", async () => {
    await ok(["run", "waiter", "--image=busybox", "--restart=Never"]);
    const waiter = c.kubectl(["wait", "--for=condition=Ready", "pod/waiter", "--timeout=20s"]);
    await Bun.sleep(500);
    await ok(["patch", "pod", "waiter", "--subresource=status", "--type=merge", "-p", '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}']);
    const w = await waiter;
    expect(w.code).toBe(0);
    expect(w.stdout).toContain("pod/waiter condition met");
    const del = c.kubectl(["wait", "--for=delete", "pod/waiter", "--timeout=20s"]);
    await ok(["delete", "pod", "waiter", "--wait=false"]);
    expect((await del).code).toBe(0);
  });

  test("get -w streams changes", async () => {
    await ok(["create", "configmap", "watch-seed"]);
    const proc = Bun.spawn([KUBECTL, "--kubeconfig", c.kubeconfigPath, "get", "cm", "-w", "--output-watch-events"], {
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: process.env.PATH ?? "", HOME: join(c.dataDir, "home") },
    });
    const reader = proc.stdout.getReader();
    let out = "";
    let ended = false;
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        out += new TextDecoder().decode(value);
      }
      ended = true;
    })();
    const readUntil = async (re: RegExp) => {
      const deadline = Date.now() + 20_000;
      while (!re.test(out)) {
        if (Date.now() > deadline || ended) throw new Error(`no match for ${re} in:\n${out}`);
        await Bun.sleep(50);
      }
    };
    await readUntil(/ADDED\s+watch-seed/);
    await ok(["create", "configmap", "watched", "--from-literal=a=b"]);
    await readUntil(/ADDED\s+watched/);
    await ok(["label", "cm", "watched", "x=y"]);
    await readUntil(/MODIFIED\s+watched/);
    await ok(["delete", "cm", "watched"]);
    await readUntil(/DELETED\s+watched/);
    proc.kill();
    await proc.exited;
  });

  test("cordon, drain (evictions sent as protobuf) and uncordon", async () => {
    await c.api("/api/v1/nodes", { method: "POST", body: JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: "drain-me" } }), headers: { "Content-Type": "application/json" } });
    for (const n of ["d1", "d2"]) {
      const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: n }, spec: { nodeName: "drain-me", terminationGracePeriodSeconds: 0, containers: [{ name: "c", image: "busybox" }] } };
      expect((await c.api("/api/v1/namespaces/default/pods", { method: "POST", body: JSON.stringify(pod), headers: { "Content-Type": "application/json" } })).status).toBe(201);
    }
    expect(await ok(["cordon", "drain-me"])).toBe("node/drain-me cordoned\n");
    expect(await ok(["get", "node", "drain-me", "-o", "jsonpath={.spec.unschedulable}"])).toBe("true");
    const d = await c.kubectl(["drain", "drain-me", "--force", "--timeout=30s"]);
    expect(d.code).toBe(0);
    expect(d.stdout).toContain("pod/d1 evicted");
    expect(d.stdout).toContain("node/drain-me drained");
    expect(await ok(["get", "pods", "--field-selector", "spec.nodeName=drain-me", "-o", "name"])).toBe("");
    expect(await ok(["uncordon", "drain-me"])).toBe("node/drain-me uncordoned\n");
  });

  test("delete with each propagation policy", async () => {
    for (const [name, cascade, finalizer] of [["bg", "background", ""], ["fg", "foreground", "foregroundDeletion"], ["orph", "orphan", "orphan"]] as const) {
      await ok(["create", "configmap", `del-${name}`]);
      const r = await ok(["delete", "cm", `del-${name}`, `--cascade=${cascade}`, "--wait=false"]);
      expect(r).toContain(`configmap "del-${name}" deleted`);
      const g = await c.kubectl(["get", "cm", `del-${name}`, "-o", "jsonpath={.metadata.finalizers}"]);
      if (!finalizer) expect(g.code).toBe(1);
      else expect(JSON.parse(g.stdout)).toEqual([finalizer]);
    }
    const gone = await c.kubectl(["delete", "cm", "never-existed"]);
    expect(gone.stderr.trim()).toBe('Error from server (NotFound): configmaps "never-existed" not found');
  });
});
