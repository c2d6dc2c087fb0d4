// Realistic manifests (the shapes Helm charts and the controllers produce) must default and validate
// without errors: guards against validation that is stricter than upstream.
import { expect, test } from "bun:test";
import { findKind } from "../../internal/api/resources.ts";
import { defaultObject, validateObject } from "../../internal/apiserver/validation/index.ts";

const cases: [string, string, any][] = [];
cases.push(["apps", "Deployment", { metadata: { name: "web", namespace: "default", labels: { "app.kubernetes.io/name": "web" } }, spec: { replicas: 2, selector: { matchLabels: { app: "web" } }, strategy: { type: "Recreate" }, template: { metadata: { labels: { app: "web" }, annotations: { "prometheus.io/scrape": "true" } }, spec: {
  securityContext: { runAsNonRoot: true, fsGroup: 1000 },
  initContainers: [{ name: "init", image: "busybox", command: ["sh", "-c", "true"] }, { name: "sidecar", image: "envoy:v1", restartPolicy: "Always", readinessProbe: { tcpSocket: { port: 9901 } } }],
  containers: [{ name: "nginx", image: "nginx:1.25", ports: [{ containerPort: 80, name: "http" }, { containerPort: 443, name: "https" }],
    env: [{ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }, { name: "CFG", valueFrom: { configMapKeyRef: { name: "c", key: "k" } } }],
    envFrom: [{ configMapRef: { name: "c" } }],
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
    livenessProbe: { httpGet: { path: "/healthz", port: "http" }, initialDelaySeconds: 5 }, readinessProbe: { exec: { command: ["true"] } }, startupProbe: { grpc: { port: 9000 } },
    volumeMounts: [{ name: "data", mountPath: "/data" }, { name: "cfg", mountPath: "/etc/cfg", readOnly: true }, { name: "tok", mountPath: "/var/run/tok" }] }],
  volumes: [{ name: "data", emptyDir: {} }, { name: "cfg", configMap: { name: "c", items: [{ key: "a.conf", path: "a.conf" }] } }, { name: "tok", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } }],
  tolerations: [{ operator: "Exists" }, { key: "k", operator: "Equal", value: "v", effect: "NoExecute", tolerationSeconds: 60 }],
  affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app: "web" } } } }] } },
  topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: { app: "web" } } }],
  nodeSelector: { "kubernetes.io/os": "linux" }, hostNetwork: false, dnsPolicy: "ClusterFirstWithHostNet" } } } }]);
cases.push(["", "Service", { metadata: { name: "web-headless", namespace: "default" }, spec: { clusterIP: "None", selector: { app: "web" } } }]);
cases.push(["", "Service", { metadata: { name: "lb", namespace: "default" }, spec: { type: "LoadBalancer", ports: [{ name: "http", port: 80, targetPort: "http", nodePort: 30080 }, { name: "https", port: 443 }] } }]);
cases.push(["apps", "DaemonSet", { metadata: { name: "agent", namespace: "kube-system" }, spec: { selector: { matchLabels: { k: "a" } }, updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } }, template: { metadata: { labels: { k: "a" } }, spec: { hostNetwork: true, containers: [{ name: "a", image: "a", ports: [{ containerPort: 9100 }], volumeMounts: [{ name: "root", mountPath: "/host", mountPropagation: "HostToContainer" }] }], volumes: [{ name: "root", hostPath: { path: "/" } }] } } } }]);
cases.push(["apps", "StatefulSet", { metadata: { name: "db", namespace: "default" }, spec: { serviceName: "db", selector: { matchLabels: { app: "db" } }, template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "pg", image: "postgres:16", volumeMounts: [{ name: "data", mountPath: "/var/lib/postgresql" }] }] } }, volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }] } }]);
cases.push(["batch", "CronJob", { metadata: { name: "hello", namespace: "default" }, spec: { schedule: "*/1 * * * *", timeZone: "Etc/UTC", jobTemplate: { spec: { template: { spec: { restartPolicy: "OnFailure", containers: [{ name: "hello", image: "busybox:1.28", command: ["/bin/sh", "-c", "date"] }] } } } } } }]);
cases.push(["batch", "CronJob", { metadata: { name: "hello2", namespace: "default" }, spec: { schedule: "@hourly", jobTemplate: { spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "hello", image: "busybox" }] } } } } } }]);
cases.push(["batch", "CronJob", { metadata: { name: "hello3", namespace: "default" }, spec: { schedule: "0 0 * * MON-FRI", jobTemplate: { spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "hello", image: "busybox" }] } } } } } }]);
cases.push(["rbac.authorization.k8s.io", "ClusterRole", { metadata: { name: "system:aggregate-to-view" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }, { nonResourceURLs: ["/healthz"], verbs: ["get"] }] }]);
cases.push(["rbac.authorization.k8s.io", "RoleBinding", { metadata: { name: "rb", namespace: "default" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" }, subjects: [{ kind: "ServiceAccount", name: "default", namespace: "default" }, { kind: "User", name: "alice" }] }]);
cases.push(["coordination.k8s.io", "Lease", { metadata: { name: "kube-scheduler", namespace: "kube-system" }, spec: { holderIdentity: "x", leaseDurationSeconds: 15, acquireTime: "2026-01-01T00:00:00.000000Z", renewTime: "2026-01-01T00:00:00.000000Z" } }]);
cases.push(["discovery.k8s.io", "EndpointSlice", { metadata: { name: "web-abc", namespace: "default", labels: { "kubernetes.io/service-name": "web" } }, addressType: "IPv4", endpoints: [{ addresses: ["10.42.0.5"], conditions: { ready: true } }], ports: [{ name: "http", port: 80 }] }]);
cases.push(["", "Endpoints", { metadata: { name: "web", namespace: "default" }, subsets: [{ addresses: [{ ip: "10.42.0.5" }], ports: [{ port: 80 }] }] }]);
cases.push(["", "Event", { metadata: { name: "p.1", namespace: "default" }, involvedObject: { kind: "Pod", name: "p" }, reason: "Scheduled", message: "x", type: "Normal" }]);
cases.push(["", "Node", { metadata: { name: "node-1", labels: { "kubernetes.io/hostname": "node-1", "node-role.kubernetes.io/control-plane": "true" } }, spec: { podCIDR: "10.42.0.0/24", podCIDRs: ["10.42.0.0/24"], taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] } }]);
cases.push(["scheduling.k8s.io", "PriorityClass", { metadata: { name: "system-node-critical" }, value: 2000001000 }]);
cases.push(["", "Pod", { metadata: { name: "web-7d4b9c-abcde", namespace: "default", generateName: "web-7d4b9c-", ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d4b9c", uid: "x", controller: true, blockOwnerDeletion: true }] }, spec: { containers: [{ name: "c", image: "nginx" }] } }]);

test.each(cases.map(([g, k, o]) => [`${k} ${o.metadata.name}`, g, k, o] as const))("%s is valid", (_name, group, kind, obj) => {
  const ri = findKind(group, kind)!;
  obj.metadata.uid = "11111111-2222-3333-4444-555555555555";
  defaultObject(ri, obj);
  expect(validateObject(ri, obj)).toEqual([]);
});
