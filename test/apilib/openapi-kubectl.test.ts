// Real kubectl against a test control plane: explain (OpenAPI v3 and the v2 protobuf), client-side apply
// computing strategic merge patches from the published merge keys, server-side field validation, and
// the Table columns of `get -o wide`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

let c: TestCluster;
beforeAll(async () => {
  c = await startTestCluster();
});
afterAll(async () => {
  await c?.stop();
});

const DEPLOY = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: a
        image: nginx:1.25
        env:
        - {name: A, value: "1"}
        - {name: B, value: "2"}
      - name: b
        image: busybox:1.36
`;

/** Header cells of kubectl's table output (columns are separated by 2+ spaces). */
const headerOf = (out: string) => out.split("\n")[0]!.trim().split(/\s{2,}/);

describe("kubectl explain", () => {
  test("uses OpenAPI v3", async () => {
    const r = await c.kubectl(["explain", "deployment.spec.replicas"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("GROUP:      apps");
    expect(r.stdout).toContain("KIND:       Deployment");
    expect(r.stdout).toContain("FIELD: replicas <integer>");
    expect(r.stdout).toContain("Number of desired pods.");
  });

  test("nested lists and the v2 protobuf", async () => {
    const r = await c.kubectl(["explain", "pods.spec.containers.ports"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("FIELD: ports <[]ContainerPort>");
    expect(r.stdout).toContain("containerPort\t<integer> -required-");
    expect((await c.kubectl(["explain", "deployment.spec.strategy.rollingUpdate.maxSurge"])).stdout).toContain("FIELD: maxSurge <IntOrString>");
    expect((await c.kubectl(["explain", "pod.spec.containers.resources.limits"])).stdout).toContain("FIELD: limits <map[string]Quantity>");
    const v2 = await c.kubectl(["explain", "deployment.spec.strategy", "--output", "plaintext-openapiv2"]);
    expect(v2.stderr).toBe("");
    expect(v2.code).toBe(0);
    expect(v2.stdout).toContain("RESOURCE: strategy <Object>");
    expect(v2.stdout).toContain("rollingUpdate\t<Object>");
  });
});

describe("kubectl apply (client-side)", () => {
  test("second apply removes a list entry by merge key", async () => {
    const first = await c.kubectl(["apply", "-f", "-"], { stdin: DEPLOY });
    expect(first.stderr).toBe("");
    expect(first.stdout.trim()).toBe("deployment.apps/web created");

    const changed = DEPLOY.replace(`        - {name: B, value: "2"}\n`, "").replace("nginx:1.25", "nginx:1.26");
    const second = await c.kubectl(["apply", "-f", "-", "-v=6"], { stdin: changed });
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toBe("deployment.apps/web configured");
    // The patch came from the v3 document (no fallback warning) and was sent with server-side validation.
    expect(second.stderr).toContain("/openapi/v3/apis/apps/v1?hash=");
    expect(second.stderr).not.toContain("error calculating patch");
    expect(second.stderr).toMatch(/PATCH https:\/\/\S+\/deployments\/web\?fieldManager=kubectl-client-side-apply&fieldValidation=Strict 200/);

    const got = await c.kubectl(["get", "deploy", "web", "-o", "json"]);
    const containers = JSON.parse(got.stdout).spec.template.spec.containers;
    expect(containers.map((x: any) => x.image)).toEqual(["nginx:1.26", "busybox:1.36"]);
    expect(containers[0].env).toEqual([{ name: "A", value: "1" }]);
  });

  test("unknown fields are rejected by server-side strict validation", async () => {
    const bogus = DEPLOY.replace("        image: busybox:1.36\n", "        image: busybox:1.36\n        bogus: 1\n").replace("name: web", "name: web2");
    const r = await c.kubectl(["apply", "-f", "-"], { stdin: bogus });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('strict decoding error: unknown field "spec.template.spec.containers[1].bogus"');
  });

  test("invalid objects get upstream's 422 message", async () => {
    const bad = DEPLOY.replace("name: web", "name: bad").replace("labels: {app: web}", "labels: {app: other}");
    const r = await c.kubectl(["apply", "-f", "-"], { stdin: bad });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'The Deployment "bad" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`',
    );
  });
});

describe("imperative commands (protobuf bodies with zero-value fields)", () => {
  test("create deployment, expose, create job and cronjob get upstream's defaults", async () => {
    for (const args of [
      ["create", "deployment", "kc", "--image=registry.k8s.io/pause:3.10", "--replicas=2"],
      ["expose", "deployment", "kc", "--port=80", "--target-port=8080"],
      ["create", "job", "once", "--image=busybox"],
      ["create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *"],
    ]) {
      const r = await c.kubectl(args);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    }
    const d = JSON.parse((await c.kubectl(["get", "deploy", "kc", "-o", "json"])).stdout);
    expect(d.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } });
    expect(d.spec.template.spec).toMatchObject({ restartPolicy: "Always", dnsPolicy: "ClusterFirst", schedulerName: "default-scheduler" });
    const svc = JSON.parse((await c.kubectl(["get", "svc", "kc", "-o", "json"])).stdout);
    expect(svc.spec).toMatchObject({ type: "ClusterIP", sessionAffinity: "None", ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }] });
    const job = JSON.parse((await c.kubectl(["get", "job", "once", "-o", "json"])).stdout);
    expect(job.spec).toMatchObject({ backoffLimit: 6, completions: 1, parallelism: 1, completionMode: "NonIndexed" });
    const cj = JSON.parse((await c.kubectl(["get", "cronjob", "tick", "-o", "json"])).stdout);
    expect(cj.spec).toMatchObject({ concurrencyPolicy: "Allow", suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
  });
});

describe("kubectl get tables", () => {
  test("pods -o wide and deployments -o wide headers", async () => {
    // No controller manager here, so the default ServiceAccount the admission plugin requires is made by hand.
    const pod = `apiVersion: v1
kind: ServiceAccount
metadata: {name: default, namespace: default}
---
apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: default}
spec:
  containers: [{name: c, image: busybox}]
`;
    expect((await c.kubectl(["apply", "-f", "-"], { stdin: pod })).code).toBe(0);
    const pods = await c.kubectl(["get", "pods", "-o", "wide"]);
    expect(pods.code).toBe(0);
    expect(headerOf(pods.stdout)).toEqual(["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"]);
    const row = pods.stdout.split("\n").find((l) => l.startsWith("solo "))!.trim().split(/\s{2,}/);
    expect([row[0], row[1], row[2], row[3]]).toEqual(["solo", "0/1", "Pending", "0"]);
    expect(row.slice(5)).toEqual(["<none>", "<none>", "<none>", "<none>"]);

    const narrow = await c.kubectl(["get", "pods"]);
    expect(headerOf(narrow.stdout)).toEqual(["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);

    const deploys = await c.kubectl(["get", "deployments", "-o", "wide"]);
    expect(headerOf(deploys.stdout)).toEqual(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]);
    expect(deploys.stdout).toMatch(/web\s+0\/1\s+0\s+0\s+\S+\s+a,b\s+nginx:1\.26,busybox:1\.36\s+app=web/);

    const ns = await c.kubectl(["get", "namespaces"]);
    expect(headerOf(ns.stdout)).toEqual(["NAME", "STATUS", "AGE"]);
    expect(ns.stdout).toMatch(/kube-system\s+Active\s+\S+/);
  });
});
