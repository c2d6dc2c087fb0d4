// The protobuf field table generated from upstream: embedded Go structs (`json:",inline"`: a named field on the
// wire, flattened in JSON) and omitempty zeros read from upstream's Go struct tags; the decoder flattens, the
// encoder nests back. Checked on the schema, by round trips (Ingress rules, pod volume mount status,
// autoscaling/v2 HPAs) and with real kubectl, whose `create ingress` sends its body as protobuf and whose
// `describe hpa` reads autoscaling/v2 in protobuf.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { decodeKubernetesProtobuf } from "../../internal/apiserver/protobuf/decode.ts";
import { encodeKubernetesProtobuf, encodeMessage } from "../../internal/apiserver/protobuf/encode.ts";
import { embeddedFields, omitZeroFields } from "../../internal/apiserver/protobuf/generate.ts";
import schema from "../../internal/apiserver/protobuf/schema.generated.json";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

setDefaultTimeout(60_000);
const messages = schema.messages as unknown as Record<string, Record<string, [string, string, string]>>;
const flagsOf = (type: string, num: number) => messages[type]![num]![2];

describe("generator: embedded fields and omitted zeros from Go struct tags", () => {
  test("bare types with an empty JSON name and a protobuf number are embedded; named or untagged ones are not", () => {
    const go = [
      "type Outer struct {",
      '\tInner `json:",inline" protobuf:"bytes,2,opt,name=inner"`',
      '\t*PtrInner `json:"" protobuf:"bytes,3,opt,name=ptrInner"`',
      '\tCommon `json:",inline" protobuf:"bytes,4,req"`', // no name= (EphemeralContainer's embedding)
      '\tmetav1.TypeMeta `json:",inline"`', // no protobuf field
      '\tListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`', // embedded but named in JSON
      '\tHidden `json:"-" protobuf:"bytes,6,opt,name=hidden"`',
      '\tVolumeStatus *VolumeStatus `json:"volumeStatus,omitempty" protobuf:"bytes,5,opt,name=volumeStatus"`',
      "}",
      "type Other struct {",
      '\tRule `json:",inline" protobuf:"bytes,7,opt,name=rule"`',
      "}",
      '\tStray `json:",inline" protobuf:"bytes,8,opt,name=stray"`', // outside any struct
    ].join("\n");
    expect(embeddedFields(go)).toEqual([["Outer", 2], ["Outer", 3], ["Outer", 4], ["Other", 7]]);
  });

  test("non-pointer numbers and bools tagged omitempty drop their zero; pointers and untagged ones keep it", () => {
    const go = [
      "type ServiceBackendPort struct {",
      '\tName string `json:"name,omitempty" protobuf:"bytes,1,opt,name=name"`',
      '\tNumber int32 `json:"number,omitempty" protobuf:"bytes,2,opt,name=number"`',
      '\tReplicas *int32 `json:"replicas,omitempty" protobuf:"varint,3,opt,name=replicas"`',
      '\tRestartCount int32 `json:"restartCount" protobuf:"varint,4,opt,name=restartCount"`',
      '\tTTY bool `json:"tty,omitempty" protobuf:"varint,5,opt,name=tty"`',
      "}",
    ].join("\n");
    expect(omitZeroFields(go)).toEqual([["ServiceBackendPort", 2], ["ServiceBackendPort", 5]]);
    expect(flagsOf("k8s.io.api.networking.v1.ServiceBackendPort", 2)).toBe("z");
    expect(flagsOf("k8s.io.api.core.v1.ContainerStatus", 5)).toBe(""); // restartCount: 0 is shown
  });

  test("the schema inlines every upstream embedding and nothing else", () => {
    const inlined = Object.entries(messages)
      .flatMap(([type, fields]) => Object.entries(fields).filter(([, f]) => f[2] === "i").map(([n, f]) => `${type.replace(/^k8s\.io\./, "")}.${f[0]}=${n}`))
      .sort();
    expect(inlined).toEqual([
      "api.admissionregistration.v1.NamedRuleWithOperations.ruleWithOperations=2",
      "api.admissionregistration.v1.RuleWithOperations.rule=2",
      "api.core.v1.ConfigMapEnvSource.localObjectReference=1",
      "api.core.v1.ConfigMapKeySelector.localObjectReference=1",
      "api.core.v1.ConfigMapProjection.localObjectReference=1",
      "api.core.v1.ConfigMapVolumeSource.localObjectReference=1",
      "api.core.v1.EphemeralContainer.ephemeralContainerCommon=1",
      "api.core.v1.PersistentVolumeSpec.persistentVolumeSource=2",
      "api.core.v1.Probe.handler=1",
      "api.core.v1.SecretEnvSource.localObjectReference=1",
      "api.core.v1.SecretKeySelector.localObjectReference=1",
      "api.core.v1.SecretProjection.localObjectReference=1",
      "api.core.v1.Volume.volumeSource=2",
      "api.networking.v1.IngressRule.ingressRuleValue=2",
    ]);
    // Ordinary fields the old OpenAPI-based guess took for embeddings (named after their type, newer than the
    // OpenAPI definitions): flattening them lost pod volume health and list shard info.
    expect(flagsOf("k8s.io.api.core.v1.VolumeMountStatus", 5)).toBe("");
    expect(flagsOf("k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta", 5)).toBe("");
  });
});

const ingress = {
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: { name: "web", namespace: "default" },
  spec: {
    ingressClassName: "kubun",
    rules: [
      { host: "a.example", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "svc", port: { number: 80 } } } }] } },
      { host: "b.example" }, // no IngressRuleValue set: nothing of it goes on the wire
    ],
  },
};

describe("round trips", () => {
  test("Ingress: http sits under the rule in JSON and inside field 2 (IngressRuleValue) on the wire", () => {
    const back = decodeKubernetesProtobuf(encodeKubernetesProtobuf(ingress));
    expect(back).toEqual(ingress);
    expect(back.spec.rules[0].ingressRuleValue).toBeUndefined();
    // IngressRule { host = 1, ingressRuleValue = 2 { http = 1 { paths = 1 ... } } }: the rule's bytes hold
    // 0a 09 "a.example" then 12 <len> 0a <len> ...
    const bytes = Buffer.from(encodeMessage(ingress)).toString("hex");
    expect(bytes).toContain("0a09" + Buffer.from("a.example").toString("hex") + "12");
  });

  test("autoscaling/v2 HorizontalPodAutoscaler: metrics, behavior and status", () => {
    const hpa = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "web", namespace: "default" },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [
          { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } },
          { type: "Pods", pods: { metric: { name: "rps" }, target: { type: "AverageValue", averageValue: "100m" } } },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] } },
      },
      status: {
        currentReplicas: 2,
        desiredReplicas: 3,
        currentMetrics: [{ type: "Resource", resource: { name: "cpu", current: { averageValue: "250m", averageUtilization: 83 } } }],
        conditions: [{ type: "AbleToScale", status: "True", lastTransitionTime: "2026-01-01T00:00:00Z", reason: "ReadyForNewScale", message: "ok" }],
      },
    };
    expect(decodeKubernetesProtobuf(encodeKubernetesProtobuf(hpa))).toEqual(hpa);
  });

  test("Pod status: volumeMounts[].volumeStatus stays a nested object both ways", () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "default" },
      status: {
        containerStatuses: [{
          name: "c",
          image: "busybox",
          imageID: "",
          ready: true,
          restartCount: 0,
          volumeMounts: [{ name: "data", mountPath: "/data", volumeStatus: { image: { imageRef: "sha256:abc" } } }],
        }],
      },
    };
    const back = decodeKubernetesProtobuf(encodeKubernetesProtobuf(pod));
    expect(back.status.containerStatuses[0].volumeMounts[0]).toEqual({ name: "data", mountPath: "/data", volumeStatus: { image: { imageRef: "sha256:abc" } } });
  });
});

describe("real kubectl", () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startTestCluster();
  });
  afterAll(async () => {
    await c?.stop();
  });

  test("kubectl create ingress (a protobuf body) stores spec.rules[0].http", async () => {
    const r = await c.kubectl(["create", "ingress", "web", "--rule=host.example/=svc:80", "--rule=other.example/api*=api:http", "-v=8"]);
    expect(r.stderr).toMatch(/Request Headers:[\s\S]*Content-Type: application\/vnd\.kubernetes\.protobuf/);
    expect(r.stdout).toContain("ingress.networking.k8s.io/web created");
    const stored = await (await c.api("/apis/networking.k8s.io/v1/namespaces/default/ingresses/web")).json();
    expect(stored.spec.rules).toEqual([
      { host: "host.example", http: { paths: [{ path: "/", pathType: "Exact", backend: { service: { name: "svc", port: { number: 80 } } } }] } },
      { host: "other.example", http: { paths: [{ path: "/api", pathType: "Prefix", backend: { service: { name: "api", port: { name: "http" } } } }] } },
    ]);
    // And back through kubectl's typed (protobuf) read.
    const d = await c.kubectl(["describe", "ingress", "web"]);
    expect(d.stdout).toMatch(/host\.example\s+\n?\s*\/\s+svc:80/);
  });

  test("kubectl describe hpa reads autoscaling/v2 in protobuf", async () => {
    await c.kubectl(["create", "deployment", "web", "--image=nginx"]);
    const made = await c.kubectl(["autoscale", "deployment", "web", "--min=2", "--max=4", "--cpu-percent=60"]);
    expect(made.stdout).toContain("horizontalpodautoscaler.autoscaling/web autoscaled");
    const res = await c.api("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web", { headers: { Accept: "application/vnd.kubernetes.protobuf" } });
    expect(res.headers.get("content-type")).toBe("application/vnd.kubernetes.protobuf");
    const hpa = decodeKubernetesProtobuf(new Uint8Array(await res.arrayBuffer()));
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 4, metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } }] });
    const d = await c.kubectl(["describe", "hpa", "web", "-v=8"]);
    expect(d.stderr).toMatch(/GET https:\/\/[^ ]+\/apis\/autoscaling\/v2\/namespaces\/default\/horizontalpodautoscalers\/web[\s\S]*Content-Type: application\/vnd\.kubernetes\.protobuf/);
    expect(d.stdout).toMatch(/Min replicas:\s+2/);
    expect(d.stdout).toMatch(/Max replicas:\s+4/);
    expect(d.stdout).toContain("resource cpu on pods  (as a percentage of request)");
  });
});
