// Creates of one shape reuse the fieldsV1 of the first: each must still get exactly what a fresh computation gives.
import { beforeEach, describe, expect, test } from "bun:test";
import { updateManagedFields } from "../../internal/apiserver/patch/index.ts";
import { clearCreateShapes, shapeOf } from "../../internal/apiserver/patch/createshape.ts";

const POD = { group: "", version: "v1", kind: "Pod" };
const DEPLOY = { group: "apps", version: "v1", kind: "Deployment" };
const T0 = new Date("2024-05-01T10:00:00Z");
const T1 = new Date("2024-05-01T11:00:00Z");

function pod(name: string, opts: { container?: string; port?: number; label?: string; env?: string; host?: string; image?: string; nullLabels?: boolean; finalizer?: string } = {}): any {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}`, labels: opts.nullLabels ? null : { app: "web", seq: opts.label ?? name }, finalizers: [opts.finalizer ?? "example.com/a"] },
    spec: {
      containers: [
        {
          name: opts.container ?? "app",
          image: opts.image ?? "busybox",
          ports: [{ containerPort: opts.port ?? 8080, protocol: "TCP" }],
          env: [{ name: opts.env ?? "MODE", value: name }],
          resources: { requests: { cpu: "10m" } },
        },
      ],
      hostAliases: opts.host ? [{ ip: opts.host, hostnames: ["a", "b"] }] : undefined,
      nodeSelector: { disk: name },
    },
    status: { phase: "Pending" },
  };
}

/** managedFields of a create computed with nothing remembered. */
function fresh(obj: any, gvk = POD, now = T1): any {
  clearCreateShapes();
  return updateManagedFields({ updated: structuredClone(obj), manager: "m", gvk, now }) as any;
}

beforeEach(clearCreateShapes);

describe("creates of one shape", () => {
  test("names, uids and plain values differ: the second create is served from the first and is identical to a fresh one", () => {
    const first = updateManagedFields({ updated: pod("a"), manager: "m", gvk: POD, now: T0 }) as any;
    const second = updateManagedFields({ updated: pod("b", { image: "nginx" }), manager: "m", gvk: POD, now: T1 }) as any;
    expect(shapeOf(pod("a"))).toBe(shapeOf(pod("b", { image: "nginx" })));
    expect(second).toEqual(fresh(pod("b", { image: "nginx" })));
    expect(second.metadata.managedFields[0].time).toBe("2024-05-01T11:00:00Z");
    expect(first.metadata.managedFields[0].time).toBe("2024-05-01T10:00:00Z");
    // Each create gets its own copy: changing one does not change the next.
    second.metadata.managedFields[0].fieldsV1["f:spec"] = {};
    const third = updateManagedFields({ updated: pod("c"), manager: "m", gvk: POD, now: T1 }) as any;
    expect(third).toEqual(fresh(pod("c")));
  });

  test("key values of associative lists and set items are part of the shape", () => {
    const variants = [
      pod("x", { container: "sidecar" }),
      pod("x", { port: 9090 }),
      pod("x", { env: "OTHER" }),
      pod("x", { host: "10.0.0.1" }),
      pod("x", { host: "10.0.0.2" }),
      pod("x", { nullLabels: true }),
      pod("x", { finalizer: "example.com/b" }),
    ];
    const shapes = new Set([pod("x"), ...variants].map((p) => shapeOf(p)));
    expect(shapes.size).toBe(variants.length + 1);
    // Whatever order they come in, each gets what a fresh computation gives it.
    for (const order of [variants, [...variants].reverse()]) {
      clearCreateShapes();
      updateManagedFields({ updated: pod("x"), manager: "m", gvk: POD, now: T1 });
      for (const v of order) expect(updateManagedFields({ updated: structuredClone(v), manager: "m", gvk: POD, now: T1 })).toEqual(fresh(v));
    }
  });

  test("another kind with the same body is not the same shape; a body carrying managedFields is computed as before", () => {
    const d: any = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" }, spec: { replicas: 2, selector: { matchLabels: { app: "w" } } } };
    const asDeploy = updateManagedFields({ updated: structuredClone(d), manager: "m", gvk: DEPLOY, now: T1 });
    expect(updateManagedFields({ updated: { ...structuredClone(d), kind: "Deployment" }, manager: "m", gvk: DEPLOY, now: T1 })).toEqual(asDeploy);
    expect(asDeploy).toEqual(fresh(d, DEPLOY));
    const withOwners = pod("o");
    withOwners.metadata.managedFields = [{ manager: "other", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:metadata": { "f:annotations": { "f:note": {} } } } }];
    updateManagedFields({ updated: pod("o"), manager: "m", gvk: POD, now: T1 });
    const out: any = updateManagedFields({ updated: structuredClone(withOwners), manager: "m", gvk: POD, now: T1 });
    expect(out.metadata.managedFields.map((e: any) => e.manager)).toEqual(["other", "m"]);
    expect(out).toEqual(fresh(withOwners));
  });

  test("an object that owns nothing records no managedFields", () => {
    const bare = { apiVersion: "v1", kind: "Pod", metadata: { name: "n" } };
    const a: any = updateManagedFields({ updated: structuredClone(bare), manager: "m", gvk: POD, now: T1 });
    const b: any = updateManagedFields({ updated: { ...structuredClone(bare), metadata: { name: "other" } }, manager: "m", gvk: POD, now: T1 });
    expect(a.metadata.managedFields).toBeUndefined();
    expect(b.metadata.managedFields).toBeUndefined();
    expect(b).toEqual(fresh({ ...bare, metadata: { name: "other" } }));
  });
});
