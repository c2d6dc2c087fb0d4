// HorizontalPodAutoscaler end to end with real containers: `kubectl autoscale` on a Deployment whose pods burn
// CPU, scale-up to maxReplicas (ScalingLimited TooManyReplicas), `kubectl get hpa` targets ("cpu: 500%/50%"),
// then the load stops (each pod is told through exec) and the HPA scales back down to minReplicas once the
// scale-down stabilization window (shortened through spec.behavior) has passed.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { refs } from "../../internal/client/refs.ts";
import { startMetricsEnv, waitFor, type MetricsEnv } from "./env.ts";

let env: MetricsEnv;
const HPA = { group: "autoscaling", version: "v2", resource: "horizontalpodautoscalers", namespaced: true };

beforeAll(async () => {
  env = await startMetricsEnv(["h1"], { hpaSyncPeriodMs: 2000 });
}, 120_000);

afterAll(async () => {
  await env?.cleanup();
}, 60_000);

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: burner, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: burner}}
  template:
    metadata: {labels: {app: burner}}
    spec:
      nodeName: h1
      terminationGracePeriodSeconds: 1
      containers:
      - name: burn
        image: busybox:latest
        imagePullPolicy: IfNotPresent
        # Burns a CPU until told to stop, then idles.
        command: ["sh", "-c", "while [ ! -e /tmp/stop ]; do :; done; exec sleep 3600"]
        resources: {requests: {cpu: 200m, memory: 16Mi}}
`;

async function hpaObj(): Promise<any> {
  return env.client.resource(HPA, "default").get("burner");
}

test("an HPA scales a CPU-burning Deployment up to maxReplicas and back down when the load stops", async () => {
  expect((await env.cluster.kubectl(["apply", "-f", "-"], { stdin: deployment })).code).toBe(0);
  const auto = await env.cluster.kubectl(["autoscale", "deployment", "burner", "--cpu-percent=50", "--min=1", "--max=3"]);
  expect(auto.stderr).toBe("");
  expect(auto.stdout.trim()).toBe("horizontalpodautoscaler.autoscaling/burner autoscaled");
  const patch = await env.cluster.kubectl(["patch", "hpa", "burner", "--type=merge", "-p", JSON.stringify({ spec: { behavior: { scaleDown: { stabilizationWindowSeconds: 6 } } } })]);
  expect(patch.code).toBe(0);

  // Scale up: one pod at ~1 core against a 200m request is far above 50 %: max is 3.
  await waitFor("HPA scaled the Deployment to 3", async () => ((await env.client.resource(refs.deployments, "default").get("burner")) as any).spec.replicas === 3, 90_000, 500);
  const up = await waitFor("HPA status after scale-up", async () => {
    const h = await hpaObj();
    return h.status?.desiredReplicas === 3 && h.status?.currentMetrics?.[0]?.resource?.current?.averageUtilization > 50 ? h : undefined;
  }, 30_000);
  expect(up.status.lastScaleTime).toBeString();
  expect(up.status.currentMetrics[0].resource.name).toBe("cpu");
  const cond = (h: any, t: string) => h.status.conditions.find((c: any) => c.type === t);
  expect(cond(up, "AbleToScale").status).toBe("True");
  expect(cond(up, "ScalingActive")).toMatchObject({ status: "True", reason: "ValidMetricFound", message: "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)" });
  await waitFor("ScalingLimited TooManyReplicas", async () => cond(await hpaObj(), "ScalingLimited")?.reason === "TooManyReplicas", 30_000);

  const get = await env.cluster.kubectl(["get", "hpa", "burner"]);
  const [head, row] = get.stdout.trim().split("\n");
  expect(head).toMatch(/^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE$/);
  expect(row).toMatch(/^burner\s+Deployment\/burner\s+cpu: \d+%\/50%\s+1\s+3\s+\d\s+\d+s$/);
  const events = await env.cluster.kubectl(["get", "events", "--field-selector", "involvedObject.name=burner,involvedObject.kind=HorizontalPodAutoscaler", "-o", "jsonpath={.items[*].reason}"]);
  expect(events.stdout).toContain("SuccessfulRescale");

  // The load stops: every pod gets /tmp/stop (new pods of the scale-up too), then usage falls to ~0.
  await waitFor("all pods told to stop", async () => {
    const pods = ((await env.client.resource(refs.pods, "default").list({ labelSelector: "app=burner" })) as any).items.filter((p: any) => p.status?.phase === "Running");
    if (pods.length < 3) return false;
    for (const p of pods) {
      const r = await env.cluster.kubectl(["exec", p.metadata.name, "--", "touch", "/tmp/stop"]);
      if (r.code !== 0) return false;
    }
    return true;
  }, 60_000, 1000);
  await waitFor("HPA scaled the Deployment back down to 1", async () => ((await env.client.resource(refs.deployments, "default").get("burner")) as any).spec.replicas === 1, 120_000, 1000);
  const down = await hpaObj();
  expect(down.status.desiredReplicas).toBe(1);
  expect(down.status.currentMetrics[0].resource.current.averageUtilization).toBeLessThan(50);
  const described = await env.cluster.kubectl(["describe", "hpa", "burner"]);
  expect(described.stdout).toContain("All metrics below target");
}, 360_000);

test("an HPA on a target scaled to zero reports ScalingDisabled; an invalid target reports FailedGetScale", async () => {
  const dep = deployment.replace(/burner/g, "zero").replace("replicas: 1", "replicas: 0");
  expect((await env.cluster.kubectl(["apply", "-f", "-"], { stdin: dep })).code).toBe(0);
  expect((await env.cluster.kubectl(["autoscale", "deployment", "zero", "--cpu-percent=50", "--max=2"])).code).toBe(0);
  const h = await waitFor("ScalingDisabled", async () => {
    const o: any = await env.client.resource(HPA, "default").get("zero");
    return o.status?.conditions?.find((c: any) => c.type === "ScalingActive" && c.reason === "ScalingDisabled") ? o : undefined;
  }, 30_000);
  expect(h.status.desiredReplicas).toBe(0);
  const missing = { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "ghost" }, spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "ghost" }, maxReplicas: 2 } };
  await env.client.resource(HPA, "default").create(missing);
  const g: any = await waitFor("FailedGetScale", async () => {
    const o: any = await env.client.resource(HPA, "default").get("ghost");
    return o.status?.conditions?.find((c: any) => c.type === "AbleToScale" && c.status === "False") ? o : undefined;
  }, 30_000);
  expect(g.status.conditions.find((c: any) => c.type === "AbleToScale").reason).toBe("FailedGetScale");
}, 120_000);
