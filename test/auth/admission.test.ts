// Each default admission plugin against an in-memory getter.
import { describe, expect, test } from "bun:test";
import {
  AdmissionStatusError,
  defaultAdmissionPlugins,
  defaultTolerationSeconds,
  forbiddenNodeLabels,
  namespaceLifecycle,
  nodeRestriction,
  priorityAdmission,
  serviceAccountAdmission,
  type Getter,
} from "../../internal/admission/index.ts";
import type { AdmissionRequest } from "../../internal/admission/types.ts";
import type { UserInfo } from "../../internal/auth/types.ts";

/** Objects keyed "group/resource/ns/name" (ns empty for cluster-scoped). */
function memGetter(objs: Record<string, any>): Getter {
  return {
    async get(group, resource, ns, name) {
      return structuredClone(objs[`${group}/${resource}/${ns ?? ""}/${name}`]);
    },
    async list(group, resource, ns) {
      const prefix = ns === undefined ? `${group}/${resource}/` : `${group}/${resource}/${ns}/`;
      return Object.entries(objs)
        .filter(([k]) => k.startsWith(prefix))
        .map(([, v]) => structuredClone(v));
    },
  };
}

const admin: UserInfo = { username: "system:admin", groups: ["system:masters", "system:authenticated"] };
const node1: UserInfo = { username: "system:node:n1", groups: ["system:nodes", "system:authenticated"] };

function req(r: Partial<AdmissionRequest>): AdmissionRequest {
  return { operation: "CREATE", user: admin, group: "", version: "v1", resource: "pods", kind: "Pod", dryRun: false, ...r };
}

async function rejects(p: Promise<void> | undefined): Promise<AdmissionStatusError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AdmissionStatusError);
    return e as AdmissionStatusError;
  }
  throw new Error("expected a rejection");
}

const world = memGetter({
  "/namespaces//default": { metadata: { name: "default" }, status: { phase: "Active" } },
  "/namespaces//dying": { metadata: { name: "dying", deletionTimestamp: "2026-01-01T00:00:00Z" }, status: { phase: "Terminating" } },
  "/serviceaccounts/default/default": { metadata: { name: "default", namespace: "default" } },
  "/serviceaccounts/default/builder": { metadata: { name: "builder", namespace: "default" }, imagePullSecrets: [{ name: "regcred" }] },
  "/serviceaccounts/default/quiet": { metadata: { name: "quiet", namespace: "default" }, automountServiceAccountToken: false },
  "/pods/default/on-n1": { metadata: { name: "on-n1", namespace: "default", uid: "u1", labels: { a: "1" } }, spec: { nodeName: "n1" } },
  "/pods/default/on-n2": { metadata: { name: "on-n2", namespace: "default", uid: "u2" }, spec: { nodeName: "n2" } },
  "scheduling.k8s.io/priorityclasses//high": { metadata: { name: "high" }, value: 1000, preemptionPolicy: "Never" },
});

describe("NamespaceLifecycle", () => {
  const p = namespaceLifecycle(world);
  test("create in a missing namespace: 404 namespaces \"x\" not found", async () => {
    const e = await rejects(p.admit!(req({ namespace: "nope", object: { metadata: { name: "a" } } })));
    expect(e.code).toBe(404);
    expect(e.reason).toBe("NotFound");
    expect(e.message).toBe('namespaces "nope" not found');
    expect(e.status.details).toEqual({ name: "nope", kind: "namespaces" });
  });
  test("create in a terminating namespace: 403 with upstream message and cause", async () => {
    const e = await rejects(p.admit!(req({ namespace: "dying", name: "a", object: { metadata: { name: "a" } } })));
    expect(e.code).toBe(403);
    expect(e.message).toBe('pods "a" is forbidden: unable to create new content in namespace dying because it is being terminated');
    expect(e.status.details!.causes).toEqual([{ reason: "NamespaceTerminating", message: "namespace dying is being terminated", field: "metadata.namespace" }]);
  });
  test("updates and deletes in a terminating namespace are allowed; create in an active one too", async () => {
    await p.admit!(req({ operation: "UPDATE", namespace: "dying", name: "a" }));
    await p.admit!(req({ operation: "DELETE", namespace: "dying", name: "a" }));
    await p.admit!(req({ namespace: "default", name: "a" }));
  });
  test("immortal namespaces can't be deleted; others can", async () => {
    for (const ns of ["default", "kube-system", "kube-public"]) {
      const e = await rejects(p.admit!(req({ operation: "DELETE", resource: "namespaces", kind: "Namespace", name: ns })));
      expect(e.message).toBe(`namespaces "${ns}" is forbidden: this namespace may not be deleted`);
    }
    await p.admit!(req({ operation: "DELETE", resource: "namespaces", kind: "Namespace", name: "dying" }));
  });
  test("cluster-scoped objects are not checked", async () => {
    await p.admit!(req({ resource: "nodes", kind: "Node", name: "n1" }));
  });
});

describe("ServiceAccount", () => {
  const p = serviceAccountAdmission(world, { waitMs: 200 });
  const pod = (spec: any = {}) => ({
    metadata: { name: "web", namespace: "default" },
    spec: { containers: [{ name: "a", image: "x" }], initContainers: [{ name: "i", image: "x" }], ...spec },
  });
  test("defaults serviceAccountName and mounts the projected token volume in every container", async () => {
    const r = req({ namespace: "default", name: "web", object: pod() });
    await p.admit!(r);
    const s = r.object.spec;
    expect(s.serviceAccountName).toBe("default");
    expect(s.volumes).toHaveLength(1);
    const v = s.volumes[0];
    expect(v.name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(v.projected).toEqual({
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
      ],
    });
    for (const c of [...s.containers, ...s.initContainers]) {
      expect(c.volumeMounts).toEqual([{ name: v.name, readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }]);
    }
  });
  test("automount disabled by pod or by ServiceAccount", async () => {
    const r1 = req({ namespace: "default", object: pod({ automountServiceAccountToken: false }) });
    await p.admit!(r1);
    expect(r1.object.spec.volumes).toBeUndefined();
    const r2 = req({ namespace: "default", object: pod({ serviceAccountName: "quiet" }) });
    await p.admit!(r2);
    expect(r2.object.spec.volumes).toBeUndefined();
    // pod overrides the ServiceAccount
    const r3 = req({ namespace: "default", object: pod({ serviceAccountName: "quiet", automountServiceAccountToken: true }) });
    await p.admit!(r3);
    expect(r3.object.spec.volumes).toHaveLength(1);
  });
  test("a container that mounts its own credentials is left alone", async () => {
    const r = req({
      namespace: "default",
      object: pod({ containers: [{ name: "a", image: "x", volumeMounts: [{ name: "mine", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }] }], initContainers: [] }),
    });
    await p.admit!(r);
    expect(r.object.spec.volumes).toBeUndefined();
    expect(r.object.spec.containers[0].volumeMounts).toHaveLength(1);
  });
  test("imagePullSecrets copied from the ServiceAccount", async () => {
    const r = req({ namespace: "default", object: pod({ serviceAccountName: "builder" }) });
    await p.admit!(r);
    expect(r.object.spec.imagePullSecrets).toEqual([{ name: "regcred" }]);
  });
  test("missing ServiceAccount: 403 with upstream's message", async () => {
    const e = await rejects(p.admit!(req({ namespace: "default", name: "web", object: pod({ serviceAccountName: "ghost" }) })));
    expect(e.message).toBe('pods "web" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found');
  });
  test("waits briefly for a namespace's default ServiceAccount", async () => {
    const objs: Record<string, any> = {};
    const g = memGetter(objs);
    const p2 = serviceAccountAdmission(g, { waitMs: 2000 });
    setTimeout(() => (objs["/serviceaccounts/fresh/default"] = { metadata: { name: "default", namespace: "fresh" } }), 150);
    const r = req({ namespace: "fresh", object: pod() });
    await p2.admit!(r);
    expect(r.object.spec.serviceAccountName).toBe("default");
  });
  test("only pod creates are touched", async () => {
    const r = req({ operation: "UPDATE", namespace: "default", object: pod() });
    await p.admit!(r);
    expect(r.object.spec.serviceAccountName).toBeUndefined();
  });
});

describe("DefaultTolerationSeconds", () => {
  const p = defaultTolerationSeconds();
  test("adds not-ready and unreachable NoExecute for 300 s", async () => {
    const r = req({ object: { spec: { containers: [] } } });
    await p.admit!(r);
    expect(r.object.spec.tolerations).toEqual([
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    ]);
  });
  test("keeps the pod's own tolerations (specific key, or tolerate-everything)", async () => {
    const own = { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 10 };
    const r = req({ object: { spec: { containers: [], tolerations: [own] } } });
    await p.admit!(r);
    expect(r.object.spec.tolerations).toEqual([own, { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }]);
    const all = req({ object: { spec: { containers: [], tolerations: [{ operator: "Exists" }] } } });
    await p.admit!(all);
    expect(all.object.spec.tolerations).toEqual([{ operator: "Exists" }]);
  });
});

describe("Priority", () => {
  const p = priorityAdmission(world);
  test("no class → 0 and PreemptLowerPriority", async () => {
    const r = req({ object: { spec: { containers: [] } } });
    await p.admit!(r);
    expect(r.object.spec.priority).toBe(0);
    expect(r.object.spec.preemptionPolicy).toBe("PreemptLowerPriority");
  });
  test("built-in system classes", async () => {
    const r = req({ object: { spec: { containers: [], priorityClassName: "system-node-critical" } } });
    await p.admit!(r);
    expect(r.object.spec.priority).toBe(2000001000);
    const r2 = req({ object: { spec: { containers: [], priorityClassName: "system-cluster-critical" } } });
    await p.admit!(r2);
    expect(r2.object.spec.priority).toBe(2000000000);
  });
  test("stored class with its preemption policy", async () => {
    const r = req({ object: { spec: { containers: [], priorityClassName: "high" } } });
    await p.admit!(r);
    expect(r.object.spec.priority).toBe(1000);
    expect(r.object.spec.preemptionPolicy).toBe("Never");
  });
  test("unknown class and conflicting priority are refused", async () => {
    const e = await rejects(p.admit!(req({ name: "x", object: { metadata: { name: "x" }, spec: { containers: [], priorityClassName: "nope" } } })));
    expect(e.message).toBe('pods "x" is forbidden: no PriorityClass with name nope was found');
    const e2 = await rejects(p.admit!(req({ name: "x", object: { spec: { containers: [], priorityClassName: "high", priority: 5 } } })));
    expect(e2.message).toContain("the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000");
  });
  test("globalDefault class applies when none is named", async () => {
    const g = memGetter({ "scheduling.k8s.io/priorityclasses//dflt": { metadata: { name: "dflt" }, value: 7, globalDefault: true } });
    const r = req({ object: { spec: { containers: [] } } });
    await priorityAdmission(g).admit!(r);
    expect(r.object.spec.priority).toBe(7);
    expect(r.object.spec.priorityClassName).toBe("dflt");
  });
});

describe("NodeRestriction", () => {
  const p = nodeRestriction(world);
  const nodeObj = (name: string, labels: Record<string, string> = {}, taints: any[] = []) => ({ metadata: { name, labels }, spec: { taints } });
  test("a node may create and update only its own Node", async () => {
    await p.admit!(req({ user: node1, resource: "nodes", kind: "Node", name: "n1", object: nodeObj("n1", { "kubernetes.io/hostname": "n1" }) }));
    const e = await rejects(p.admit!(req({ user: node1, resource: "nodes", kind: "Node", operation: "UPDATE", subresource: "status", name: "n2", object: nodeObj("n2"), oldObject: nodeObj("n2") })));
    expect(e.message).toBe('nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
    expect(e.code).toBe(403);
  });
  test("restricted labels and taints", async () => {
    const e = await rejects(
      p.admit!(req({ user: node1, resource: "nodes", kind: "Node", name: "n1", object: nodeObj("n1", { "node-role.kubernetes.io/control-plane": "true", "node-restriction.kubernetes.io/x": "y", "example.com/ok": "1" }) })),
    );
    expect(e.message).toBe(
      'nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: node-restriction.kubernetes.io/x, node-role.kubernetes.io/control-plane',
    );
    const e2 = await rejects(p.admit!(req({ user: node1, resource: "nodes", kind: "Node", operation: "UPDATE", name: "n1", object: nodeObj("n1", {}, [{ key: "k", effect: "NoSchedule" }]), oldObject: nodeObj("n1") })));
    expect(e2.message).toBe('nodes "n1" is forbidden: node "n1" is not allowed to modify taints');
    // the same taints in another order are not a change
    const two = [{ key: "a", effect: "NoSchedule" }, { key: "b", effect: "NoExecute" }];
    await p.admit!(req({ user: node1, resource: "nodes", kind: "Node", operation: "UPDATE", name: "n1", object: nodeObj("n1", {}, [two[1], two[0]]), oldObject: nodeObj("n1", {}, two) }));
    // allowed kubelet labels
    await p.admit!(req({ user: node1, resource: "nodes", kind: "Node", operation: "UPDATE", name: "n1", object: nodeObj("n1", { "topology.kubernetes.io/zone": "z", "node.kubernetes.io/foo": "1" }), oldObject: nodeObj("n1") }));
    expect(forbiddenNodeLabels(["kubernetes.io/hostname", "k8s.io/x", "sub.k8s.io/y", "kubelet.kubernetes.io/z"])).toEqual(["k8s.io/x", "sub.k8s.io/y"]);
  });
  test("pod status only for pods bound to it, without label changes", async () => {
    const old = await world.get("", "pods", "default", "on-n1");
    await p.admit!(req({ user: node1, operation: "UPDATE", subresource: "status", namespace: "default", name: "on-n1", object: old, oldObject: old }));
    const other = await world.get("", "pods", "default", "on-n2");
    const e = await rejects(p.admit!(req({ user: node1, operation: "UPDATE", subresource: "status", namespace: "default", name: "on-n2", object: other, oldObject: other })));
    expect(e.message).toBe('pods "on-n2" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself');
    const relabel = { ...old, metadata: { ...old.metadata, labels: { a: "2" } } };
    const e2 = await rejects(p.admit!(req({ user: node1, operation: "UPDATE", subresource: "status", namespace: "default", name: "on-n1", object: relabel, oldObject: old })));
    expect(e2.message).toBe('pods "on-n1" is forbidden: node "n1" cannot update labels through pod status');
  });
  test("delete only pods bound to it; no spec updates; only mirror pod creates", async () => {
    await p.admit!(req({ user: node1, operation: "DELETE", namespace: "default", name: "on-n1", oldObject: await world.get("", "pods", "default", "on-n1") }));
    const e = await rejects(p.admit!(req({ user: node1, operation: "DELETE", namespace: "default", name: "on-n2", oldObject: await world.get("", "pods", "default", "on-n2") })));
    expect(e.message).toBe('pods "on-n2" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself');
    const e2 = await rejects(p.admit!(req({ user: node1, operation: "UPDATE", namespace: "default", name: "on-n1", object: {}, oldObject: {} })));
    expect(e2.message).toBe('pods "on-n1" is forbidden: unexpected operation "UPDATE", node "n1" can only create and delete mirror pods');
    const e3 = await rejects(p.admit!(req({ user: node1, namespace: "default", name: "x", object: { metadata: { name: "x" }, spec: { nodeName: "n1" } } })));
    expect(e3.message).toBe('pods "x" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods');
  });
  test("own lease only", async () => {
    await p.admit!(req({ user: node1, group: "coordination.k8s.io", resource: "leases", kind: "Lease", namespace: "kube-node-lease", object: { metadata: { name: "n1" } } }));
    const e = await rejects(p.admit!(req({ user: node1, group: "coordination.k8s.io", resource: "leases", kind: "Lease", namespace: "kube-node-lease", object: { metadata: { name: "n2" } } })));
    expect(e.message).toBe('leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node');
  });
  test("token requests must be bound to its own pods", async () => {
    const tr = (ref: any) => req({ user: node1, resource: "serviceaccounts", subresource: "token", kind: "TokenRequest", namespace: "default", name: "default", object: { spec: { boundObjectRef: ref } } });
    await p.admit!(tr({ apiVersion: "v1", kind: "Pod", name: "on-n1", uid: "u1" }));
    expect((await rejects(p.admit!(tr(undefined)))).message).toBe('serviceaccounts "default" is forbidden: node requested token not bound to a pod');
    expect((await rejects(p.admit!(tr({ apiVersion: "v1", kind: "Pod", name: "on-n2", uid: "u2" })))).message).toBe(
      'serviceaccounts "default" is forbidden: node requested token bound to a pod scheduled on a different node',
    );
    expect((await rejects(p.admit!(tr({ apiVersion: "v1", kind: "Pod", name: "on-n1", uid: "old" })))).message).toContain("does not match the UID in record");
  });
  test("non-node users are not restricted", async () => {
    await p.admit!(req({ resource: "nodes", kind: "Node", operation: "UPDATE", name: "n2", object: nodeObj("n2", {}, [{ key: "x" }]), oldObject: nodeObj("n2") }));
  });
});

describe("defaultAdmissionPlugins", () => {
  test("upstream order", () => {
    expect(defaultAdmissionPlugins({ getter: world }).map((p) => p.name)).toEqual([
      "NamespaceLifecycle",
      "ServiceAccount",
      "NodeRestriction",
      "Priority",
      "DefaultTolerationSeconds",
      "DefaultStorageClass",
      "StorageObjectInUseProtection",
      "RuntimeClass",
      "DefaultIngressClass",
    ]);
  });
});
