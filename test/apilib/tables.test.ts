// Server-side Table output: the columns kubectl shows per kind (incl. -o wide) and upstream's cell logic.
import { describe, expect, test } from "bun:test";
import { RESOURCES } from "../../internal/api/resources.ts";
import { humanDuration, toTable } from "../../internal/apiserver/tables/index.ts";

const NOW = Date.parse("2026-01-10T12:00:00Z");
const ago = (sec: number) => new Date(NOW - sec * 1000).toISOString();
const res = (resource: string) => RESOURCES.find((r) => r.resource === resource && (resource !== "events" || r.group === ""))!;
const table = (resource: string, objs: any[], includeObject: "None" | "Metadata" | "Object" = "None") =>
  toTable(res(resource), objs, { includeObject, now: NOW });
const headers = (resource: string) => table(resource, []).columnDefinitions.map((c) => (c.priority ? `[${c.name}]` : c.name));
const cells = (resource: string, obj: any) => table(resource, [obj]).rows[0]!.cells;

describe("humanDuration", () => {
  test("matches upstream's buckets", () => {
    const s = 1000;
    expect(humanDuration(-3 * s)).toBe("<invalid>");
    expect(humanDuration(-1 * s)).toBe("0s");
    expect(humanDuration(45 * s)).toBe("45s");
    expect(humanDuration(119 * s)).toBe("119s");
    expect(humanDuration(302 * s)).toBe("5m2s");
    expect(humanDuration(300 * s)).toBe("5m");
    expect(humanDuration(45 * 60 * s)).toBe("45m");
    expect(humanDuration((3 * 3600 + 10 * 60) * s)).toBe("3h10m");
    expect(humanDuration(20 * 3600 * s)).toBe("20h");
    expect(humanDuration((3 * 24 + 4) * 3600 * s)).toBe("3d4h");
    expect(humanDuration(30 * 24 * 3600 * s)).toBe("30d");
    expect(humanDuration((2 * 365 + 15) * 24 * 3600 * s)).toBe("2y15d");
    expect(humanDuration(9 * 365 * 24 * 3600 * s)).toBe("9y");
  });
});

describe("column headers", () => {
  test("per kind, with wide columns in brackets", () => {
    expect(headers("pods")).toEqual(["Name", "Ready", "Status", "Restarts", "Age", "[IP]", "[Node]", "[Nominated Node]", "[Readiness Gates]"]);
    expect(headers("deployments")).toEqual(["Name", "Ready", "Up-to-date", "Available", "Age", "[Containers]", "[Images]", "[Selector]"]);
    expect(headers("replicasets")).toEqual(["Name", "Desired", "Current", "Ready", "Age", "[Containers]", "[Images]", "[Selector]"]);
    expect(headers("daemonsets")).toEqual(["Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age", "[Containers]", "[Images]", "[Selector]"]);
    expect(headers("statefulsets")).toEqual(["Name", "Ready", "Age", "[Containers]", "[Images]"]);
    expect(headers("jobs")).toEqual(["Name", "Status", "Completions", "Duration", "Age", "[Containers]", "[Images]", "[Selector]"]);
    expect(headers("cronjobs")).toEqual(["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age", "[Containers]", "[Images]", "[Selector]"]);
    expect(headers("services")).toEqual(["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "[Selector]"]);
    expect(headers("endpoints")).toEqual(["Name", "Endpoints", "Age"]);
    expect(headers("endpointslices")).toEqual(["Name", "AddressType", "Ports", "Endpoints", "Age"]);
    expect(headers("nodes")).toEqual(["Name", "Status", "Roles", "Age", "Version", "[Internal-IP]", "[External-IP]", "[OS-Image]", "[Kernel-Version]", "[Container-Runtime]"]);
    expect(headers("namespaces")).toEqual(["Name", "Status", "Age"]);
    expect(headers("configmaps")).toEqual(["Name", "Data", "Age"]);
    expect(headers("secrets")).toEqual(["Name", "Type", "Data", "Age"]);
    expect(headers("serviceaccounts")).toEqual(["Name", "Secrets", "Age"]);
    expect(headers("events")).toEqual(["Last Seen", "Type", "Reason", "Object", "[Subobject]", "[Source]", "Message", "[First Seen]", "[Count]", "[Name]"]);
    expect(headers("leases")).toEqual(["Name", "Holder", "Age"]);
    expect(headers("roles")).toEqual(["Name", "Created At"]);
    expect(headers("clusterrolebindings")).toEqual(["Name", "Role", "Age", "[Users]", "[Groups]", "[ServiceAccounts]"]);
    expect(headers("priorityclasses")).toEqual(["Name", "Value", "Global-Default", "Age", "PreemptionPolicy"]);
    expect(headers("persistentvolumeclaims")).toEqual(["Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass", "VolumeAttributesClass", "Age", "[VolumeMode]"]);
    // Kinds without a printer get upstream's default table.
    expect(toTable({ resource: "widgets" }, [], { includeObject: "None" }).columnDefinitions.map((c) => c.name)).toEqual(["Name", "Created At"]);
  });

  test("name column carries format name", () => {
    const nameCol = table("pods", []).columnDefinitions[0]!;
    expect(nameCol).toMatchObject({ name: "Name", type: "string", format: "name", priority: 0 });
    expect(nameCol.description).toStartWith("Name must be unique within a namespace.");
  });
});

function pod(status: any, spec: any = {}, meta: any = {}): any {
  return {
    metadata: { name: "p", namespace: "default", creationTimestamp: ago(302), ...meta },
    spec: { containers: [{ name: "a", image: "x" }], ...spec },
    status,
  };
}

describe("pod status column", () => {
  test("running and ready, with restarts and IP/node", () => {
    const p = pod(
      {
        phase: "Running",
        podIP: "10.42.0.5",
        podIPs: [{ ip: "10.42.0.5" }],
        containerStatuses: [
          { name: "a", ready: true, restartCount: 2, state: { running: { startedAt: ago(60) } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(300) } } },
        ],
      },
      { nodeName: "node-1" },
    );
    expect(cells("pods", p)).toEqual(["p", "1/1", "Running", "2 (5m ago)", "5m2s", "10.42.0.5", "node-1", "<none>", "<none>"]);
  });

  test("pending and creating", () => {
    expect(cells("pods", pod({ phase: "Pending" }))[2]).toBe("Pending");
    const creating = pod({ phase: "Pending", containerStatuses: [{ name: "a", ready: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } }] });
    expect(cells("pods", creating).slice(1, 4)).toEqual(["0/1", "ContainerCreating", "0"]);
  });

  test("crash loop, completed, error exit codes", () => {
    const crash = pod({ phase: "Running", containerStatuses: [{ name: "a", restartCount: 4, state: { waiting: { reason: "CrashLoopBackOff" } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(30) } } }] });
    expect(cells("pods", crash).slice(1, 4)).toEqual(["0/1", "CrashLoopBackOff", "4 (30s ago)"]);
    const done = pod({ phase: "Succeeded", containerStatuses: [{ name: "a", restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed" } } }] });
    expect(cells("pods", done)[2]).toBe("Completed");
    expect(table("pods", [done]).rows[0]!.conditions).toEqual([{ type: "Completed", status: "True" }]);
    const signal = pod({ phase: "Failed", containerStatuses: [{ name: "a", restartCount: 0, state: { terminated: { exitCode: 137, signal: 9 } } }] });
    expect(cells("pods", signal)[2]).toBe("Signal:9");
    const code = pod({ phase: "Failed", containerStatuses: [{ name: "a", restartCount: 0, state: { terminated: { exitCode: 3 } } }] });
    expect(cells("pods", code)[2]).toBe("ExitCode:3");
  });

  test("init containers", () => {
    const spec = { initContainers: [{ name: "i1", image: "x" }, { name: "i2", image: "x" }] };
    const waiting = pod({ phase: "Pending", initContainerStatuses: [{ name: "i1", restartCount: 0, state: { terminated: { exitCode: 0 } } }, { name: "i2", restartCount: 0, state: { running: {} } }] }, spec);
    expect(cells("pods", waiting)[2]).toBe("Init:1/2");
    const failing = pod({ phase: "Pending", initContainerStatuses: [{ name: "i1", restartCount: 3, state: { waiting: { reason: "CrashLoopBackOff" } } }] }, spec);
    expect(cells("pods", failing)[2]).toBe("Init:CrashLoopBackOff");
    const errored = pod({ phase: "Pending", initContainerStatuses: [{ name: "i1", restartCount: 0, state: { terminated: { exitCode: 2, reason: "Error" } } }] }, spec);
    expect(cells("pods", errored)[2]).toBe("Init:Error");
  });

  test("terminating, and readiness gates", () => {
    const term = pod({ phase: "Running" }, {}, { deletionTimestamp: ago(1) });
    expect(cells("pods", term)[2]).toBe("Terminating");
    const gated = pod({ phase: "Running", conditions: [{ type: "example.com/ready", status: "True" }] }, { readinessGates: [{ conditionType: "example.com/ready" }, { conditionType: "other" }] });
    expect(cells("pods", gated)[8]).toBe("1/2");
  });
});

describe("cells per kind", () => {
  test("deployments and replicasets", () => {
    const d = {
      metadata: { name: "web", creationTimestamp: ago(3 * 86400 + 4 * 3600) },
      spec: { replicas: 3, selector: { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["fe", "be"] }] }, template: { spec: { containers: [{ name: "a", image: "nginx:1" }, { name: "b", image: "busybox" }] } } },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    expect(cells("deployments", d)).toEqual(["web", "2/3", 3, 2, "3d4h", "a,b", "nginx:1,busybox", "app=web,tier in (be,fe)"]);
    const rs = { metadata: { name: "web-1", creationTimestamp: ago(10) }, spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template: { spec: { containers: [{ name: "a", image: "x" }] } } }, status: { replicas: 3 } };
    expect(cells("replicasets", rs)).toEqual(["web-1", 3, 3, 0, "10s", "a", "x", "app=web"]);
  });

  test("jobs and cronjobs", () => {
    const job = {
      metadata: { name: "pi", creationTimestamp: ago(600) },
      spec: { completions: 1, parallelism: 1, template: { spec: { containers: [{ name: "pi", image: "perl" }] } }, selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "u" } } },
      status: { succeeded: 1, startTime: ago(600), completionTime: ago(570), conditions: [{ type: "Complete", status: "True" }] },
    };
    expect(cells("jobs", job)).toEqual(["pi", "Complete", "1/1", "30s", "10m", "pi", "perl", "batch.kubernetes.io/controller-uid=u"]);
    const running = { metadata: { name: "p2", creationTimestamp: ago(5) }, spec: { parallelism: 3 }, status: { startTime: ago(5) } };
    expect(cells("jobs", running).slice(1, 4)).toEqual(["Running", "0/1 of 3", "5s"]);
    const cj = { metadata: { name: "c", creationTimestamp: ago(7200) }, spec: { schedule: "*/5 * * * *", suspend: false, jobTemplate: { spec: { template: { spec: { containers: [{ name: "c", image: "busybox" }] } } } } }, status: { active: [{ name: "c-1" }], lastScheduleTime: ago(120) } };
    expect(cells("cronjobs", cj)).toEqual(["c", "*/5 * * * *", "<none>", false, 1, "2m", "120m", "c", "busybox", "<none>"]);
  });

  test("services of each type", () => {
    const base = (spec: any, status: any = {}) => ({ metadata: { name: "s", creationTimestamp: ago(60) }, spec, status });
    expect(cells("services", base({ type: "ClusterIP", clusterIP: "10.43.0.1", clusterIPs: ["10.43.0.1"], ports: [{ port: 443, protocol: "TCP" }] }))).toEqual(["s", "ClusterIP", "10.43.0.1", "<none>", "443/TCP", "60s", "<none>"]);
    expect(cells("services", base({ type: "NodePort", clusterIPs: ["10.43.0.7"], ports: [{ port: 80, nodePort: 30080, protocol: "TCP" }, { port: 53, protocol: "UDP" }], selector: { app: "web" } }))).toEqual(["s", "NodePort", "10.43.0.7", "<none>", "80:30080/TCP,53/UDP", "60s", "app=web"]);
    expect(cells("services", base({ type: "LoadBalancer", clusterIPs: ["10.43.0.8"], ports: [] }))[3]).toBe("<pending>");
    expect(cells("services", base({ type: "LoadBalancer", clusterIPs: ["10.43.0.8"] }, { loadBalancer: { ingress: [{ ip: "192.168.1.10" }] } }))[3]).toBe("192.168.1.10");
    expect(cells("services", base({ type: "ExternalName", externalName: "example.com" })).slice(1, 5)).toEqual(["ExternalName", "<none>", "example.com", "<none>"]);
  });

  test("endpoints and endpointslices", () => {
    const ep = { metadata: { name: "e", creationTimestamp: ago(1) }, subsets: [{ addresses: [{ ip: "10.42.0.1" }, { ip: "10.42.0.2" }, { ip: "10.42.0.3" }, { ip: "10.42.0.4" }], ports: [{ port: 80 }] }] };
    expect(cells("endpoints", ep)).toEqual(["e", "10.42.0.1:80,10.42.0.2:80,10.42.0.3:80 + 1 more...", "1s"]);
    expect(cells("endpoints", { metadata: { name: "e" } })[1]).toBe("<none>");
    const es = { metadata: { name: "e-abc", creationTimestamp: ago(1) }, addressType: "IPv4", ports: [{ port: 80 }], endpoints: [{ addresses: ["10.42.0.1"] }, { addresses: ["10.42.0.2"] }] };
    expect(cells("endpointslices", es)).toEqual(["e-abc", "IPv4", "80", "10.42.0.1,10.42.0.2", "1s"]);
  });

  test("nodes", () => {
    const node = {
      metadata: { name: "n1", creationTimestamp: ago(86400 * 10), labels: { "node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "" } },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: "Ready", status: "True" }],
        addresses: [{ type: "InternalIP", address: "192.168.1.5" }, { type: "Hostname", address: "n1" }],
        nodeInfo: { kubeletVersion: "v1.32.0+kubun", osImage: "Debian GNU/Linux 12", kernelVersion: "6.1.0", containerRuntimeVersion: "containerd://1.7.0" },
      },
    };
    expect(cells("nodes", node)).toEqual(["n1", "Ready,SchedulingDisabled", "control-plane,master", "10d", "v1.32.0+kubun", "192.168.1.5", "<none>", "Debian GNU/Linux 12", "6.1.0", "containerd://1.7.0"]);
    expect(cells("nodes", { metadata: { name: "n2" }, status: { conditions: [{ type: "Ready", status: "Unknown" }] } }).slice(1, 3)).toEqual(["NotReady", "<none>"]);
  });

  test("config, secrets, accounts, events, leases, rbac, priority classes", () => {
    const t = ago(90);
    expect(cells("configmaps", { metadata: { name: "c", creationTimestamp: t }, data: { a: "1", b: "2" }, binaryData: { c: "" } })).toEqual(["c", 3, "90s"]);
    expect(cells("secrets", { metadata: { name: "s", creationTimestamp: t }, type: "Opaque", data: { a: "" } })).toEqual(["s", "Opaque", 1, "90s"]);
    expect(cells("serviceaccounts", { metadata: { name: "default", creationTimestamp: t } })).toEqual(["default", 0, "90s"]);
    const ev = {
      metadata: { name: "p.123" },
      involvedObject: { kind: "Pod", name: "p", fieldPath: "spec.containers{a}" },
      reason: "Pulled",
      type: "Normal",
      message: "Successfully pulled image \n",
      source: { component: "kubelet", host: "n1" },
      firstTimestamp: ago(600),
      lastTimestamp: ago(30),
      count: 3,
    };
    expect(cells("events", ev)).toEqual(["30s", "Normal", "Pulled", "pod/p", "spec.containers{a}", "kubelet, n1", "Successfully pulled image", "10m", 3, "p.123"]);
    expect(cells("leases", { metadata: { name: "kube-scheduler", creationTimestamp: t }, spec: { holderIdentity: "node-1_abc" } })).toEqual(["kube-scheduler", "node-1_abc", "90s"]);
    expect(cells("clusterroles", { metadata: { name: "view", creationTimestamp: "2026-01-10T11:58:30.123Z" } })).toEqual(["view", "2026-01-10T11:58:30Z"]);
    const crb = {
      metadata: { name: "b", creationTimestamp: t },
      roleRef: { kind: "ClusterRole", name: "view" },
      subjects: [{ kind: "User", name: "alice" }, { kind: "Group", name: "devs" }, { kind: "ServiceAccount", name: "sa", namespace: "ns1" }, { kind: "User", name: "bob" }],
    };
    expect(cells("clusterrolebindings", crb)).toEqual(["b", "ClusterRole/view", "90s", "alice, bob", "devs", "ns1/sa"]);
    expect(cells("priorityclasses", { metadata: { name: "high", creationTimestamp: t }, value: 1000, globalDefault: false, preemptionPolicy: "PreemptLowerPriority" })).toEqual(["high", 1000, false, "90s", "PreemptLowerPriority"]);
  });
});

describe("row objects", () => {
  const obj = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default", resourceVersion: "5" }, data: { a: "1" } };
  test("Metadata carries PartialObjectMetadata (kubectl's default)", () => {
    expect(table("configmaps", [obj], "Metadata").rows[0]!.object).toEqual({ kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: obj.metadata });
  });
  test("Object carries the object, None nothing", () => {
    expect(table("configmaps", [obj], "Object").rows[0]!.object).toEqual(obj);
    expect("object" in table("configmaps", [obj], "None").rows[0]!).toBe(false);
  });
  test("table envelope", () => {
    const t = toTable(res("configmaps"), [obj], { includeObject: "None", listMeta: { resourceVersion: "9" }, now: NOW });
    expect(t).toMatchObject({ kind: "Table", apiVersion: "meta.k8s.io/v1", metadata: { resourceVersion: "9" } });
  });
});
