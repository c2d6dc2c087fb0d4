// Malformed bodies must never crash the libraries: every subtree of realistic objects is replaced by
// values of the wrong type (seeded, so failures reproduce) and defaulting, validation, unknown-field and
// type checks and table printing must all return normally.
import { expect, test } from "bun:test";
import { RESOURCES, findKind } from "../../internal/api/resources.ts";
import { toTable } from "../../internal/apiserver/tables/index.ts";
import { defaultObject, typeErrors, unknownFields, validateObject } from "../../internal/apiserver/validation/index.ts";

const JUNK: unknown[] = [null, 0, -1, 1.5, "", "x", true, [], [null], [1, "a"], {}, { a: null }, { containers: 3 }];

function* subtrees(v: unknown, path: (string | number)[] = []): Generator<(string | number)[]> {
  yield path;
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) yield* subtrees(v[i], [...path, i]);
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) yield* subtrees(x, [...path, k]);
}

function replaced(obj: any, path: (string | number)[], value: unknown): any {
  if (path.length === 0) return value;
  const copy = structuredClone(obj);
  let cur = copy;
  for (const p of path.slice(0, -1)) cur = cur[p];
  cur[path[path.length - 1]!] = value;
  return copy;
}

const SAMPLES: [string, string, any][] = [
  ["", "Pod", { metadata: { name: "p", namespace: "default", labels: { a: "b" } }, spec: { initContainers: [{ name: "i", image: "x" }], containers: [{ name: "c", image: "x", ports: [{ containerPort: 80 }], env: [{ name: "A", valueFrom: { fieldRef: { fieldPath: "x" } } }], resources: { limits: { cpu: "1" }, requests: { cpu: "1" } }, livenessProbe: { httpGet: { port: 80 } }, volumeMounts: [{ name: "v", mountPath: "/v" }] }], volumes: [{ name: "v", configMap: { name: "c", items: [{ key: "k", path: "p" }] } }], tolerations: [{ key: "k", operator: "Exists" }], readinessGates: [{ conditionType: "x" }] }, status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }], containerStatuses: [{ name: "c", restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: "2026-01-01T00:00:00Z" } } }], initContainerStatuses: [{ name: "i", state: { terminated: { exitCode: 0 } } }], podIPs: [{ ip: "10.0.0.1" }] } }],
  ["apps", "Deployment", { metadata: { name: "d", namespace: "default" }, spec: { replicas: 1, selector: { matchLabels: { a: "b" }, matchExpressions: [{ key: "k", operator: "In", values: ["v"] }] }, strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } }, template: { metadata: { labels: { a: "b", k: "v" } }, spec: { containers: [{ name: "c", image: "x" }] } } }, status: { readyReplicas: 1 } }],
  ["batch", "CronJob", { metadata: { name: "c", namespace: "default" }, spec: { schedule: "* * * * *", jobTemplate: { spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "x" }] } } } } }, status: { active: [{ name: "j" }] } }],
  ["", "Service", { metadata: { name: "s", namespace: "default" }, spec: { type: "NodePort", ports: [{ port: 80, nodePort: 30000, targetPort: "http" }], selector: { a: "b" }, externalIPs: ["1.2.3.4"] }, status: { loadBalancer: { ingress: [{ ip: "1.1.1.1" }] } } }],
  ["", "Secret", { metadata: { name: "s", namespace: "default" }, type: "kubernetes.io/tls", data: { "tls.crt": "eA==", "tls.key": "eA==" }, stringData: { a: "b" } }],
  ["", "Node", { metadata: { name: "n", labels: { "node-role.kubernetes.io/x": "" } }, spec: { taints: [{ key: "k", effect: "NoSchedule" }] }, status: { conditions: [{ type: "Ready", status: "True" }], addresses: [{ type: "InternalIP", address: "1.2.3.4" }], nodeInfo: { kubeletVersion: "v1" } } }],
  ["rbac.authorization.k8s.io", "ClusterRoleBinding", { metadata: { name: "b" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "r" }, subjects: [{ kind: "User", name: "u" }] }],
  ["", "Event", { metadata: { name: "e", namespace: "default" }, involvedObject: { kind: "Pod", name: "p" }, series: { count: 2, lastObservedTime: "2026-01-01T00:00:00Z" }, source: { component: "c" } }],
  ["", "Endpoints", { metadata: { name: "e", namespace: "default" }, subsets: [{ addresses: [{ ip: "1.2.3.4" }], ports: [{ port: 80 }] }] }],
];

test.each(SAMPLES.map(([g, k, o]) => [k, g, o] as const))("%s survives junk in every field", (kind, group, obj) => {
  const ri = findKind(group, kind)!;
  let checked = 0;
  for (const path of subtrees(obj)) {
    for (const junk of JUNK) {
      const bad = replaced(obj, path, junk);
      const old = structuredClone(obj);
      const run = () => {
        defaultObject(ri, bad);
        validateObject(ri, bad);
        validateObject(ri, bad, old);
        unknownFields(ri, bad);
        typeErrors(ri, bad);
        toTable(ri, [bad], { includeObject: "Metadata" });
      };
      expect(run).not.toThrow();
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(50);
});

test("every resource's printer handles an empty object", () => {
  for (const ri of RESOURCES) {
    expect(() => toTable(ri, [{}, { metadata: {} }], { includeObject: "Object" })).not.toThrow();
  }
});
