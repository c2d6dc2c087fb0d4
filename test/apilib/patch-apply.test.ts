// Server-side apply and managedFields, checked against upstream's field-set shapes and conflict messages.
import { describe, expect, test } from "bun:test";
import {
  ApplyConflictError,
  computeFieldSet,
  PatchError,
  serverSideApply,
  stripManagedFields,
  updateManagedFields,
} from "../../internal/apiserver/patch/index.ts";

const DEPLOY = { group: "apps", version: "v1", kind: "Deployment" };
const POD = { group: "", version: "v1", kind: "Pod" };
const T0 = new Date("2024-05-01T10:00:00Z");
const T1 = new Date("2024-05-01T11:00:00Z");

function applied(opts: { replicas?: number; containers?: object[]; labels?: Record<string, string> } = {}): any {
  const spec: any = {
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: { containers: opts.containers ?? [{ name: "nginx", image: "nginx:1.25", ports: [{ containerPort: 80 }] }] },
    },
  };
  if (opts.replicas !== undefined) spec.replicas = opts.replicas;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", ...(opts.labels ? { labels: opts.labels } : {}) },
    spec,
  };
}

const entries = (o: any) => o.metadata.managedFields as any[];
const entry = (o: any, manager: string, operation = "Apply") =>
  entries(o).find((e) => e.manager === manager && e.operation === operation);

function conflictOf(fn: () => unknown): ApplyConflictError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ApplyConflictError);
    return e as ApplyConflictError;
  }
  throw new Error("expected an ApplyConflictError");
}

describe("serverSideApply", () => {
  test("create via apply records upstream's FieldsV1 for the applied fields", () => {
    const out: any = serverSideApply({ live: undefined, applied: applied({ replicas: 2 }), manager: "kubectl", gvk: DEPLOY, now: T0 });
    expect(out.spec.replicas).toBe(2);
    expect(out.spec.template.spec.containers[0].image).toBe("nginx:1.25");
    expect(entries(out)).toEqual([
      {
        manager: "kubectl",
        operation: "Apply",
        apiVersion: "apps/v1",
        time: "2024-05-01T10:00:00Z",
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:spec": {
            "f:replicas": {},
            "f:selector": {}, // LabelSelector is an atomic struct
            "f:template": {
              "f:metadata": { "f:labels": { "f:app": {} } },
              "f:spec": {
                "f:containers": {
                  'k:{"name":"nginx"}': {
                    ".": {},
                    "f:image": {},
                    "f:name": {},
                    "f:ports": { 'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:containerPort": {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  test("re-apply removes what the manager applied before and omits now", () => {
    const v1: any = serverSideApply({
      applied: applied({
        replicas: 2,
        labels: { team: "a" },
        containers: [
          { name: "nginx", image: "nginx:1.25", env: [{ name: "A", value: "1" }] },
          { name: "sidecar", image: "busybox" },
        ],
      }),
      manager: "kubectl",
      gvk: DEPLOY,
      now: T0,
    });
    const v2: any = serverSideApply({
      live: v1,
      applied: applied({ containers: [{ name: "nginx", image: "nginx:1.26" }] }),
      manager: "kubectl",
      gvk: DEPLOY,
      now: T1,
    });
    expect(v2.spec.template.spec.containers).toEqual([{ name: "nginx", image: "nginx:1.26" }]);
    expect("replicas" in v2.spec).toBe(false);
    expect(v2.metadata.labels).toBeUndefined(); // emptied map dropped, as Go's omitempty would
    expect(entry(v2, "kubectl").time).toBe("2024-05-01T11:00:00Z");
    expect(JSON.stringify(entry(v2, "kubectl").fieldsV1)).not.toContain("sidecar");
  });

  test("fields another manager also owns survive when the applier drops them", () => {
    const v1: any = serverSideApply({ applied: applied({ replicas: 2 }), manager: "kubectl", gvk: DEPLOY, now: T0 });
    // Another applier sets the same value: no conflict, shared ownership.
    const v2: any = serverSideApply({ live: v1, applied: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: { replicas: 2 } }, manager: "hpa", gvk: DEPLOY, now: T0 });
    expect(entry(v2, "hpa").fieldsV1).toEqual({ "f:spec": { "f:replicas": {} } });
    expect(entry(v2, "kubectl").fieldsV1["f:spec"]["f:replicas"]).toEqual({});
    const v3: any = serverSideApply({ live: v2, applied: applied(), manager: "kubectl", gvk: DEPLOY, now: T1 });
    expect(v3.spec.replicas).toBe(2);
    expect(entry(v3, "kubectl").fieldsV1["f:spec"]["f:replicas"]).toBeUndefined();
  });

  test("a different value for a field another applier owns is a conflict with upstream's message", () => {
    const v1: any = serverSideApply({ applied: applied({ replicas: 2 }), manager: "alice", gvk: DEPLOY, now: T0 });
    const err = conflictOf(() => serverSideApply({ live: v1, applied: applied({ replicas: 3 }), manager: "bob", gvk: DEPLOY }));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "alice": .spec.replicas');
    expect(err.code).toBe(409);
    expect(err.causes).toEqual([{ reason: "FieldManagerConflict", message: 'conflict with "alice"', field: ".spec.replicas" }]);
  });

  test("conflicts inside keyed lists name the item by its key; several conflicts are listed per manager", () => {
    const v1: any = serverSideApply({ applied: applied({ replicas: 2 }), manager: "alice", gvk: DEPLOY, now: T0 });
    const err = conflictOf(() =>
      serverSideApply({
        live: v1,
        applied: applied({ replicas: 5, containers: [{ name: "nginx", image: "nginx:2", ports: [{ containerPort: 80 }] }] }),
        manager: "bob",
        gvk: DEPLOY,
      }),
    );
    expect(err.message).toBe(
      'Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image',
    );
    expect(err.conflicts.map((c) => c.field)).toEqual([".spec.replicas", '.spec.template.spec.containers[name="nginx"].image']);
  });

  test("force takes ownership of the conflicting fields", () => {
    const v1: any = serverSideApply({ applied: applied({ replicas: 2 }), manager: "alice", gvk: DEPLOY, now: T0 });
    const v2: any = serverSideApply({
      live: v1,
      applied: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: { replicas: 3 } },
      manager: "bob",
      force: true,
      gvk: DEPLOY,
      now: T1,
    });
    expect(v2.spec.replicas).toBe(3);
    expect(entry(v2, "bob").fieldsV1).toEqual({ "f:spec": { "f:replicas": {} } });
    expect(entry(v2, "alice").fieldsV1["f:spec"]["f:replicas"]).toBeUndefined();
    // alice re-applying her config without replicas no longer removes bob's value.
    const v3: any = serverSideApply({ live: v2, applied: applied(), manager: "alice", gvk: DEPLOY, now: T1 });
    expect(v3.spec.replicas).toBe(3);
  });

  test("conflict with a non-apply writer names its apiVersion (kubectl client-side apply, then --server-side)", () => {
    const created: any = updateManagedFields({ updated: applied({ replicas: 2 }), manager: "kubectl-client-side-apply", gvk: DEPLOY, now: T0 });
    const err = conflictOf(() =>
      serverSideApply({ live: created, applied: applied({ replicas: 4 }), manager: "kubectl", gvk: DEPLOY }),
    );
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    expect(err.causes).toEqual([
      { reason: "FieldManagerConflict", message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: ".spec.replicas" },
    ]);
    // Same values: no conflict, and the applier becomes a co-owner.
    const same: any = serverSideApply({ live: created, applied: applied({ replicas: 2 }), manager: "kubectl", gvk: DEPLOY, now: T1 });
    expect(entries(same).map((e) => `${e.manager}/${e.operation}`)).toEqual(["kubectl/Apply", "kubectl-client-side-apply/Update"]);
  });

  test("objects written before ownership tracking belong to before-first-apply", () => {
    const live = applied({ replicas: 2 });
    const err = conflictOf(() => serverSideApply({ live, applied: applied({ replicas: 3 }), manager: "kubectl", gvk: DEPLOY }));
    expect(err.conflicts[0]!.manager).toBe("before-first-apply");
  });

  test("set lists (finalizers) are owned by value", () => {
    const out: any = serverSideApply({
      applied: { apiVersion: "v1", kind: "Pod", metadata: { name: "p", finalizers: ["example.com/f"] }, spec: { containers: [{ name: "c", image: "i" }] } },
      manager: "m",
      gvk: POD,
      now: T0,
    });
    expect(entry(out, "m").fieldsV1["f:metadata"]).toEqual({ "f:finalizers": { 'v:"example.com/f"': {} } });
  });

  test("live-only list items keep their place; applied items merge by key", () => {
    const live: any = updateManagedFields({
      updated: applied({ containers: [{ name: "a", image: "1" }, { name: "b", image: "1" }] }),
      manager: "creator",
      gvk: DEPLOY,
      now: T0,
    });
    const out: any = serverSideApply({
      live,
      applied: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: { template: { spec: { containers: [{ name: "c", image: "1" }] } } } },
      manager: "adder",
      gvk: DEPLOY,
      now: T1,
    });
    expect(out.spec.template.spec.containers.map((c: any) => c.name)).toEqual(["a", "b", "c"]);
  });

  test("bad configurations are 400", () => {
    const withMF = applied();
    withMF.metadata.managedFields = [];
    let e: unknown;
    try {
      serverSideApply({ applied: withMF, manager: "m", gvk: DEPLOY });
    } catch (x) {
      e = x;
    }
    expect((e as PatchError).code).toBe(400);
    expect((e as PatchError).message).toBe("metadata.managedFields must be nil");
    try {
      serverSideApply({ applied: applied({ containers: [{ image: "x" }] }), manager: "m", gvk: DEPLOY });
    } catch (x) {
      e = x;
    }
    expect((e as PatchError).code).toBe(400);
    expect((e as PatchError).message).toBe(
      'associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
    );
  });
});

describe("updateManagedFields", () => {
  test("create: the creator owns everything it set; new maps and items own themselves", () => {
    const out: any = updateManagedFields({ updated: applied({ replicas: 1, labels: { a: "b" } }), manager: "kubectl-create", gvk: DEPLOY, now: T0 });
    expect(entries(out)).toEqual([
      {
        manager: "kubectl-create",
        operation: "Update",
        apiVersion: "apps/v1",
        time: "2024-05-01T10:00:00Z",
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:metadata": { "f:labels": { ".": {}, "f:a": {} } },
          "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
              "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
              "f:spec": {
                "f:containers": {
                  'k:{"name":"nginx"}': {
                    ".": {},
                    "f:image": {},
                    "f:name": {},
                    "f:ports": { ".": {}, 'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:containerPort": {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  test("an edit takes the changed fields from their previous owner", () => {
    const v1: any = updateManagedFields({ updated: applied({ replicas: 1 }), manager: "kubectl-client-side-apply", gvk: DEPLOY, now: T0 });
    const edited = structuredClone(v1);
    edited.spec.template.spec.containers[0].image = "nginx:1.27";
    const v2: any = updateManagedFields({ old: v1, updated: edited, manager: "kubectl-edit", gvk: DEPLOY, now: T1 });
    const editEntry = entry(v2, "kubectl-edit", "Update");
    expect(editEntry.fieldsV1).toEqual({ "f:spec": { "f:template": { "f:spec": { "f:containers": { 'k:{"name":"nginx"}': { "f:image": {} } } } } } });
    expect(editEntry.time).toBe("2024-05-01T11:00:00Z");
    const csa = entry(v2, "kubectl-client-side-apply", "Update");
    expect(csa.fieldsV1["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}']["f:image"]).toBeUndefined();
    expect(csa.time).toBe("2024-05-01T10:00:00Z");
    // And a later apply of another image conflicts with kubectl-edit.
    const err = conflictOf(() =>
      serverSideApply({ live: v2, applied: applied({ replicas: 1, containers: [{ name: "nginx", image: "nginx:1.28", ports: [{ containerPort: 80 }] }] }), manager: "kubectl", gvk: DEPLOY }),
    );
    expect(err.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.template.spec.containers[name="nginx"].image',
    );
  });

  test("a write that changes nothing leaves the entries alone; removed fields leave every owner", () => {
    const v1: any = updateManagedFields({ updated: applied({ replicas: 1, labels: { a: "1", b: "2" } }), manager: "creator", gvk: DEPLOY, now: T0 });
    const same: any = updateManagedFields({ old: v1, updated: structuredClone(v1), manager: "other", gvk: DEPLOY, now: T1 });
    expect(entries(same)).toEqual(entries(v1));
    const removed = structuredClone(v1);
    delete removed.metadata.labels.b;
    const v2: any = updateManagedFields({ old: v1, updated: removed, manager: "other", gvk: DEPLOY, now: T1 });
    expect(entries(v2).map((e) => e.manager)).toEqual(["creator"]);
    expect(entry(v2, "creator", "Update").fieldsV1["f:metadata"]["f:labels"]).toEqual({ ".": {}, "f:a": {} });
  });

  test("status writes are tracked per subresource and do not own spec; main-resource writes do not own status", () => {
    const pod: any = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" }, spec: { containers: [{ name: "c", image: "i" }] } };
    const v1: any = updateManagedFields({ updated: pod, manager: "kubectl-run", gvk: POD, now: T0 });
    const withStatus = structuredClone(v1);
    withStatus.status = { phase: "Running", conditions: [{ type: "Ready", status: "True" }] };
    const v2: any = updateManagedFields({ old: v1, updated: withStatus, manager: "kubelet", subresource: "status", gvk: POD, now: T1 });
    const kubelet = entries(v2).find((e) => e.manager === "kubelet");
    expect(kubelet.subresource).toBe("status");
    expect(Object.keys(kubelet.fieldsV1)).toEqual(["f:status"]);
    expect(kubelet.fieldsV1["f:status"]["f:conditions"]).toEqual({ ".": {}, 'k:{"type":"Ready"}': { ".": {}, "f:status": {}, "f:type": {} } });
    // A main-resource update carrying a status change does not own status.
    const v3in = structuredClone(v2);
    v3in.status.phase = "Failed";
    v3in.metadata.labels = { x: "y" };
    const v3: any = updateManagedFields({ old: v2, updated: v3in, manager: "someone", gvk: POD, now: T1 });
    expect(entry(v3, "someone", "Update").fieldsV1).toEqual({ "f:metadata": { "f:labels": { ".": {}, "f:x": {} } } });
  });

  test("managedFields sent by the client replace the stored ones (direct edits of ownership)", () => {
    const v1: any = updateManagedFields({ updated: applied({ replicas: 1 }), manager: "a", gvk: DEPLOY, now: T0 });
    const next = structuredClone(v1);
    next.metadata.managedFields = [{ manager: "z", operation: "Update", apiVersion: "apps/v1", fieldsType: "FieldsV1", fieldsV1: { "f:spec": { "f:replicas": {} } } }];
    const v2: any = updateManagedFields({ old: v1, updated: next, manager: "b", gvk: DEPLOY, now: T1 });
    expect(entries(v2).map((e) => e.manager)).toEqual(["z"]);
  });
});

describe("helpers", () => {
  test("computeFieldSet and stripManagedFields", () => {
    const out: any = serverSideApply({ applied: applied({ replicas: 2 }), manager: "kubectl", gvk: DEPLOY, now: T0 });
    const set = computeFieldSet(out, DEPLOY);
    expect(set.has(["f:spec", "f:replicas"])).toBe(true);
    expect(set.has(["f:metadata", "f:name"])).toBe(false); // never owned
    const stripped: any = stripManagedFields(out);
    expect(stripped.metadata.managedFields).toBeUndefined();
    expect(out.metadata.managedFields).toHaveLength(1);
  });
});

describe("moving from client-side to server-side apply (kubectl)", () => {
  const LAST = "kubectl.kubernetes.io/last-applied-configuration";
  function csaCreated(replicas: number): any {
    const cfg = applied({ replicas });
    const obj = structuredClone(cfg);
    obj.metadata.annotations = { [LAST]: JSON.stringify(cfg) + "\n" };
    return updateManagedFields({ updated: obj, manager: "kubectl-client-side-apply", gvk: DEPLOY, now: T0 });
  }

  test("fields still at their last-applied value do not conflict for manager kubectl; the annotation follows", () => {
    const live = csaCreated(2);
    const out: any = serverSideApply({ live, applied: applied({ replicas: 3 }), manager: "kubectl", gvk: DEPLOY, now: T1 });
    expect(out.spec.replicas).toBe(3);
    expect(entry(out, "kubectl").fieldsV1["f:spec"]["f:replicas"]).toEqual({});
    expect(entry(out, "kubectl-client-side-apply", "Update").fieldsV1["f:spec"]["f:replicas"]).toBeUndefined();
    const ann = JSON.parse(out.metadata.annotations[LAST]);
    expect(ann.spec.replicas).toBe(3);
    expect(Object.keys(ann)).toEqual(["apiVersion", "kind", "metadata", "spec"]);
    // Another manager name gets no such allowance.
    const err = conflictOf(() => serverSideApply({ live, applied: applied({ replicas: 3 }), manager: "ci", gvk: DEPLOY }));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
  });

  test("a field changed since the last client-side apply still conflicts", () => {
    const live = csaCreated(2);
    const scaled = structuredClone(live);
    scaled.spec.replicas = 5;
    const v2: any = updateManagedFields({ old: live, updated: scaled, manager: "kubectl-scale", subresource: "scale", gvk: DEPLOY, now: T1 });
    expect(entry(v2, "kubectl-scale", "Update").subresource).toBe("scale");
    const err = conflictOf(() => serverSideApply({ live: v2, applied: applied({ replicas: 3 }), manager: "kubectl", gvk: DEPLOY }));
    expect(err.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-scale" with subresource "scale" using apps/v1: .spec.replicas',
    );
  });
});

test("more than 10 updaters: the oldest are merged into ancient-changes", () => {
  let obj: any = updateManagedFields({ updated: applied({ replicas: 1 }), manager: "m0", gvk: DEPLOY, now: new Date(Date.UTC(2024, 0, 1)) });
  for (let i = 1; i <= 11; i++) {
    const next = structuredClone(obj);
    next.metadata.labels = { ...(next.metadata.labels ?? {}), [`l${i}`]: "x" };
    obj = updateManagedFields({ old: obj, updated: next, manager: `m${i}`, gvk: DEPLOY, now: new Date(Date.UTC(2024, 0, 1, i)) });
  }
  const managers = entries(obj).map((e) => e.manager);
  expect(managers).toHaveLength(10);
  expect(managers[0]).toBe("ancient-changes");
  const ancient = entries(obj)[0];
  expect(ancient.fieldsV1["f:spec"]["f:replicas"]).toEqual({}); // m0's fields live on
  expect(ancient.fieldsV1["f:metadata"]["f:labels"]["f:l1"]).toEqual({});
  expect(managers).not.toContain("m0");
  expect(managers).toContain("m11");
});

describe("pruning like structured-merge-diff", () => {
  const base = (spec: object): any => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec });

  test("a struct the applier alone owned goes away with its defaulted siblings; one someone else shares stays", () => {
    const v1: any = serverSideApply({
      applied: base({ strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } }, minReadySeconds: 5 }),
      manager: "a",
      gvk: DEPLOY,
      now: T0,
    });
    v1.spec.strategy.rollingUpdate.maxUnavailable = "25%"; // as defaulting would add, owned by nobody
    const v2: any = serverSideApply({ live: v1, applied: base({ minReadySeconds: 5 }), manager: "a", gvk: DEPLOY, now: T1 });
    expect(v2.spec.strategy).toBeUndefined();

    const w1: any = serverSideApply({
      applied: base({ strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } } }),
      manager: "a",
      gvk: DEPLOY,
      now: T0,
    });
    const w2: any = serverSideApply({ live: w1, applied: base({ strategy: { type: "RollingUpdate" } }), manager: "b", gvk: DEPLOY, now: T0 });
    const w3: any = serverSideApply({ live: w2, applied: base({}), manager: "a", gvk: DEPLOY, now: T1 });
    expect(w3.spec.strategy).toEqual({ type: "RollingUpdate" }); // b still owns type; a's rollingUpdate is gone
  });

  test("an applied list item goes even if an updater owns one of its fields (upstream removes the item)", () => {
    const v1: any = serverSideApply({
      applied: applied({ containers: [{ name: "nginx", image: "nginx:1" }, { name: "side", image: "busybox" }] }),
      manager: "a",
      gvk: DEPLOY,
      now: T0,
    });
    const edited = structuredClone(v1);
    edited.spec.template.spec.containers[1].image = "busybox:2";
    const v2: any = updateManagedFields({ old: v1, updated: edited, manager: "kubectl-edit", gvk: DEPLOY, now: T1 });
    const v3: any = serverSideApply({ live: v2, applied: applied({ containers: [{ name: "nginx", image: "nginx:1" }] }), manager: "a", gvk: DEPLOY, now: T1 });
    expect(v3.spec.template.spec.containers.map((c: any) => c.name)).toEqual(["nginx"]);
    expect(entries(v3).map((e) => e.manager)).toEqual(["a"]); // kubectl-edit's only field went with the item
  });
});
