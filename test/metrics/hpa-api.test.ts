// The HorizontalPodAutoscaler API without containers: autoscaling/v1 and v2 views of one stored object (kubectl
// autoscale writes v1), lossless round trips through v1, defaults, upstream's validation messages, `kubectl get
// hpa` targets for Utilization and AverageValue, and the metrics reader role aggregated into view.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { startControllerManager } from "../../internal/controllers/index.ts";
import { waitFor } from "../kubelet/setup.ts";

let c: TestCluster;
const cm = new AbortController();
beforeAll(async () => {
  c = await startTestCluster({});
  expect((await c.kubectl(["create", "deployment", "web", "--image=busybox"])).code).toBe(0);
});
afterAll(async () => {
  cm.abort();
  await c?.stop();
});

const v1 = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers";
const v2 = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";
const json = async (path: string, init?: RequestInit) => {
  const r = await c.api(path, { ...init, headers: { "Content-Type": "application/json", ...(init?.headers ?? {}) } });
  return { status: r.status, body: (await r.json()) as any };
};

test("kubectl autoscale writes v1; the object reads the same through v1 and v2, with v2's defaults", async () => {
  const r = await c.kubectl(["autoscale", "deployment", "web", "--max=4", "--cpu-percent=70"]);
  expect(r.stdout.trim()).toBe("horizontalpodautoscaler.autoscaling/web autoscaled");
  const a = (await json(`${v1}/web`)).body;
  expect(a.apiVersion).toBe("autoscaling/v1");
  expect(a.spec).toEqual({ scaleTargetRef: { kind: "Deployment", name: "web", apiVersion: "apps/v1" }, minReplicas: 1, maxReplicas: 4, targetCPUUtilizationPercentage: 70 });
  const b = (await json(`${v2}/web`)).body;
  expect(b.apiVersion).toBe("autoscaling/v2");
  expect(b.spec.metrics).toEqual([{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }]);
  expect(b.spec.minReplicas).toBe(1);
  const list = (await json("/apis/autoscaling/v1/horizontalpodautoscalers")).body;
  expect(list.kind).toBe("HorizontalPodAutoscalerList");
  expect(list.items[0].spec.targetCPUUtilizationPercentage).toBe(70);
  const get = await c.kubectl(["get", "hpa", "web"]);
  expect(get.stdout).toMatch(/^web\s+Deployment\/web\s+cpu: <unknown>\/70%\s+1\s+4\s+0\s+\d+s$/m);
});

test("v2-only fields survive a read-modify-write through autoscaling/v1", async () => {
  const hpa = {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "both" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
      minReplicas: 2,
      maxReplicas: 6,
      metrics: [
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } },
        { type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "100Mi" } } },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 30 } },
    },
  };
  expect((await json(v2, { method: "POST", body: JSON.stringify(hpa) })).status).toBe(201);
  const stored = (await json(`${v2}/both`)).body;
  // Upstream's defaults fill in the rules of a given behavior.
  expect(stored.spec.behavior.scaleDown).toEqual({ stabilizationWindowSeconds: 30, selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] });
  expect(stored.spec.behavior.scaleUp.policies).toHaveLength(2);
  const old = (await json(`${v1}/both`)).body;
  expect(old.spec.targetCPUUtilizationPercentage).toBe(60);
  expect(JSON.parse(old.metadata.annotations["autoscaling.alpha.kubernetes.io/metrics"])).toEqual([hpa.spec.metrics[1]]);
  old.spec.maxReplicas = 8;
  const put = await json(`${v1}/both`, { method: "PUT", body: JSON.stringify(old) });
  expect(put.status).toBe(200);
  const after = (await json(`${v2}/both`)).body;
  expect(after.spec.maxReplicas).toBe(8);
  expect(after.spec.metrics).toEqual(hpa.spec.metrics);
  expect(after.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(30);
  expect(after.metadata.annotations ?? {}).toEqual({});
  // The status the controller writes in v2 shows in v1 and in kubectl's targets.
  after.status = {
    currentReplicas: 3,
    desiredReplicas: 3,
    currentMetrics: [
      { type: "Resource", resource: { name: "cpu", current: { averageUtilization: 250, averageValue: "500m" } } },
      { type: "Resource", resource: { name: "memory", current: { averageValue: "50Mi" } } },
    ],
    conditions: [{ type: "AbleToScale", status: "True", reason: "SucceededRescale", message: "x", lastTransitionTime: "2026-01-01T00:00:00Z" }],
  };
  expect((await json(`${v2}/both/status`, { method: "PUT", body: JSON.stringify(after) })).status).toBe(200);
  const s1 = (await json(`${v1}/both`)).body;
  expect(s1.status).toMatchObject({ currentReplicas: 3, desiredReplicas: 3, currentCPUUtilizationPercentage: 250 });
  expect(JSON.parse(s1.metadata.annotations["autoscaling.alpha.kubernetes.io/conditions"])[0].reason).toBe("SucceededRescale");
  const get = await c.kubectl(["get", "hpa", "both"]);
  expect(get.stdout).toMatch(/^both\s+Deployment\/web\s+cpu: 250%\/60%, memory: 50Mi\/100Mi\s+2\s+8\s+3\s+\d+s$/m);
  const explain = await c.kubectl(["explain", "hpa.spec.behavior.scaleDown.stabilizationWindowSeconds"]);
  expect(explain.code).toBe(0);
  expect(explain.stdout).toContain("VERSION:    v2");
});

test("invalid HorizontalPodAutoscalers get upstream's 422 messages", async () => {
  const bad = (spec: any) => json(v2, { method: "POST", body: JSON.stringify({ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "bad" }, spec }) });
  const ref = { apiVersion: "apps/v1", kind: "Deployment", name: "web" };
  let r = await bad({ scaleTargetRef: ref, minReplicas: 3, maxReplicas: 2 });
  expect(r.status).toBe(422);
  expect(r.body.message).toBe('HorizontalPodAutoscaler.autoscaling "bad" is invalid: spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`');
  r = await bad({ scaleTargetRef: { kind: "Deployment" }, maxReplicas: 0 });
  expect(r.body.message).toContain("spec.scaleTargetRef.name: Required value");
  expect(r.body.message).toContain("spec.maxReplicas: Invalid value: 0: must be greater than 0");
  r = await bad({ scaleTargetRef: ref, maxReplicas: 2, metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 0 } } }] });
  expect(r.body.message).toContain("spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0");
  r = await bad({ scaleTargetRef: ref, maxReplicas: 2, behavior: { scaleUp: { stabilizationWindowSeconds: 4000, policies: [{ type: "Pods", value: 1, periodSeconds: 0 }] } } });
  expect(r.body.message).toContain("spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600");
  expect(r.body.message).toContain("spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 0: must be greater than zero");
  const k = await c.kubectl(["autoscale", "deployment", "web", "--min=5", "--max=2"]);
  expect(k.code).not.toBe(0);
});

test("metrics.k8s.io is readable with the view role (system:aggregated-metrics-reader aggregates into it)", async () => {
  const role = (await json("/apis/rbac.authorization.k8s.io/v1/clusterroles/system:aggregated-metrics-reader")).body;
  expect(role.metadata.labels).toMatchObject({ "rbac.authorization.k8s.io/aggregate-to-view": "true", "rbac.authorization.k8s.io/aggregate-to-edit": "true", "rbac.authorization.k8s.io/aggregate-to-admin": "true" });
  expect((await c.kubectl(["create", "rolebinding", "viewer", "--clusterrole=view", "--user=alice"])).code).toBe(0);
  const can = async (verb: string, res: string) => (await c.kubectl(["auth", "can-i", verb, res, "--as=alice"])).stdout.trim();
  await Bun.sleep(200);
  expect(await can("list", "pods.metrics.k8s.io")).toBe("yes");
  expect((await c.kubectl(["auth", "can-i", "list", "pods.metrics.k8s.io", "--as=bob"])).stdout.trim()).toBe("no");
  expect(await can("list", "horizontalpodautoscalers.autoscaling")).toBe("yes");
});

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: workers.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: workers, singular: worker, kind: Worker}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas, labelSelectorPath: .status.selector}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`;

test("the controller rescales any scale subresource into [minReplicas, maxReplicas]: a StatefulSet and a custom resource", async () => {
  void startControllerManager(c.componentConfig("controller-manager"), {
    identity: "hpa-api-test",
    serviceCIDR: "10.43.0.0/16",
    clusterCIDR: "10.42.0.0/16",
    signal: cm.signal,
    leaderElection: false,
    controllers: ["horizontalpodautoscaling"],
    hpaSyncPeriodMs: 500,
  });
  const sts = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: busybox}]}
`;
  expect((await c.kubectl(["apply", "-f", "-"], { stdin: sts })).code).toBe(0);
  expect((await c.kubectl(["autoscale", "statefulset", "db", "--min=2", "--max=4"])).code).toBe(0);
  await waitFor("StatefulSet scaled to minReplicas", async () => ((await json("/apis/apps/v1/namespaces/default/statefulsets/db")).body.spec.replicas === 2), 20_000);
  const h = await waitFor("status of db", async () => {
    const o = (await json(`${v2}/db`)).body;
    return o.status?.desiredReplicas === 2 ? o : undefined;
  }, 20_000);
  expect(h.status.currentReplicas).toBe(1);
  expect(h.status.conditions.find((x: any) => x.type === "AbleToScale")).toMatchObject({ status: "True", reason: "SucceededRescale", message: "the HPA controller was able to update the target scale to 2" });
  const ev = await c.kubectl(["get", "events", "--field-selector", "involvedObject.name=db,reason=SuccessfulRescale", "-o", "jsonpath={.items[*].message}"]);
  expect(ev.stdout).toBe("New size: 2; reason: Current number of replicas below Spec.MinReplicas");

  expect((await c.kubectl(["apply", "-f", "-"], { stdin: CRD })).code).toBe(0);
  await waitFor("CRD established", async () => (await c.kubectl(["get", "workers"])).code === 0, 20_000);
  const worker = { apiVersion: "example.com/v1", kind: "Worker", metadata: { name: "w" }, spec: { replicas: 7 } };
  expect((await json("/apis/example.com/v1/namespaces/default/workers", { method: "POST", body: JSON.stringify(worker) })).status).toBe(201);
  const hpa = { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "w" }, spec: { scaleTargetRef: { apiVersion: "example.com/v1", kind: "Worker", name: "w" }, minReplicas: 1, maxReplicas: 3 } };
  expect((await json(v2, { method: "POST", body: JSON.stringify(hpa) })).status).toBe(201);
  await waitFor("custom resource scaled to maxReplicas", async () => (await json("/apis/example.com/v1/namespaces/default/workers/w")).body.spec.replicas === 3, 20_000);
  const ev2 = await c.kubectl(["get", "events", "--field-selector", "involvedObject.name=w,reason=SuccessfulRescale", "-o", "jsonpath={.items[*].message}"]);
  expect(ev2.stdout).toBe("New size: 3; reason: Current number of replicas above Spec.MaxReplicas");

  // No node reports metrics here: the HPA of `web` says so as upstream does, and does not scale.
  const web = await waitFor("ScalingActive False on web", async () => {
    const o = (await json(`${v2}/web`)).body;
    return o.status?.conditions?.find((x: any) => x.type === "ScalingActive" && x.status === "False") ? o : undefined;
  }, 20_000);
  expect(web.status.conditions.find((x: any) => x.type === "ScalingActive")).toMatchObject({
    reason: "FailedGetResourceMetric",
    message: "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API",
  });
  expect(web.status.conditions.find((x: any) => x.type === "AbleToScale")).toMatchObject({ status: "True", reason: "SucceededGetScale" });
  const ev3 = await c.kubectl(["get", "events", "--field-selector", "involvedObject.name=web,involvedObject.kind=HorizontalPodAutoscaler", "-o", "jsonpath={.items[*].reason}"]);
  expect(ev3.stdout.split(" ").sort()).toEqual(["FailedComputeMetricsReplicas", "FailedGetResourceMetric"]);
});
