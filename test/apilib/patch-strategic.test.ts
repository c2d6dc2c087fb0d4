// Strategic merge patch: cases from upstream's strategicpatch tests (translated onto real kinds) and the
// patches kubectl apply/edit/patch send.
import { describe, expect, test } from "bun:test";
import { applyStrategicMergePatch, PatchError } from "../../internal/apiserver/patch/index.ts";

const POD = { group: "", version: "v1", kind: "Pod" };
const DEPLOY = { group: "apps", version: "v1", kind: "Deployment" };
const SVC = { group: "", version: "v1", kind: "Service" };
const NODE = { group: "", version: "v1", kind: "Node" };

function pod(containers: object[], extra: object = {}): any {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" }, spec: { containers, ...extra } };
}
const names = (o: any) => o.spec.containers.map((c: any) => c.name);

function deployment(): any {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", labels: { app: "web", tier: "fe" }, finalizers: ["a", "b"] },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [
            {
              name: "nginx",
              image: "nginx:1.25",
              ports: [{ containerPort: 80, protocol: "TCP" }, { containerPort: 443, protocol: "TCP" }],
              env: [{ name: "A", value: "1" }, { name: "B", value: "2" }],
              volumeMounts: [{ name: "data", mountPath: "/data" }],
            },
            { name: "sidecar", image: "busybox" },
          ],
          volumes: [{ name: "data", emptyDir: {} }],
          tolerations: [{ key: "k1", operator: "Exists" }],
          imagePullSecrets: [{ name: "reg1" }],
        },
      },
    },
  };
}

function expectPatchError(fn: () => unknown, code: number, message: string | RegExp) {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(PatchError);
  expect((err as PatchError).code).toBe(code);
  if (typeof message === "string") expect((err as PatchError).message).toBe(message);
  else expect((err as PatchError).message).toMatch(message);
}

describe("lists merged by their patch merge key", () => {
  test("containers merge by name: change one, keep the other, add a new one after the patched ones", () => {
    const d = deployment();
    const out = applyStrategicMergePatch(
      d,
      { spec: { template: { spec: { containers: [{ name: "nginx", image: "nginx:1.26" }, { name: "log", image: "fluent" }] } } } },
      DEPLOY,
    );
    const cs = out.spec.template.spec.containers;
    expect(cs.map((c: any) => c.name)).toEqual(["nginx", "log", "sidecar"]);
    expect(cs[0].image).toBe("nginx:1.26");
    expect(cs[0].ports).toHaveLength(2); // untouched fields of the merged item stay
    expect(cs[2]).toEqual({ name: "sidecar", image: "busybox" });
    expect(d.spec.template.spec.containers[0].image).toBe("nginx:1.25"); // input not mutated
  });

  test("env merges by name, ports by containerPort, volumeMounts by mountPath", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: "nginx",
                  env: [{ name: "B", value: "two" }, { name: "C", value: "3" }],
                  ports: [{ containerPort: 8080 }],
                  volumeMounts: [{ name: "cache", mountPath: "/cache" }],
                },
              ],
            },
          },
        },
      },
      DEPLOY,
    );
    const c = out.spec.template.spec.containers[0];
    expect(c.env).toEqual([{ name: "A", value: "1" }, { name: "B", value: "two" }, { name: "C", value: "3" }]);
    // Upstream orders a patch without $setElementOrder by the patch; an item new to the live list that leads
    // the patch goes before the server-only items (strategicpatch mergeSortedSlice).
    expect(c.ports.map((p: any) => p.containerPort)).toEqual([8080, 80, 443]);
    expect(c.volumeMounts.map((m: any) => m.mountPath)).toEqual(["/cache", "/data"]);
  });

  test("volumes and imagePullSecrets merge by name; tolerations (no strategy) are replaced", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      {
        spec: {
          template: {
            spec: {
              volumes: [{ name: "cfg", configMap: { name: "c" } }],
              imagePullSecrets: [{ name: "reg2" }],
              tolerations: [{ key: "k2", operator: "Exists" }],
            },
          },
        },
      },
      DEPLOY,
    );
    const s = out.spec.template.spec;
    expect(s.volumes.map((v: any) => v.name)).toEqual(["cfg", "data"]);
    expect(s.imagePullSecrets).toEqual([{ name: "reg2" }, { name: "reg1" }]);
    expect(s.tolerations).toEqual([{ key: "k2", operator: "Exists" }]);
  });

  test("service ports merge by port", () => {
    const svc: any = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "s" },
      spec: { selector: { app: "a" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] },
    };
    const out = applyStrategicMergePatch(svc, { spec: { ports: [{ port: 80, targetPort: 9090 }, { name: "https", port: 443 }] } }, SVC);
    expect(out.spec.ports).toEqual([
      { name: "http", port: 80, targetPort: 9090 },
      { name: "https", port: 443 },
    ]);
  });

  test("ownerReferences merge by uid, hostAliases by ip, conditions by type", () => {
    const p = pod([{ name: "a", image: "x" }], { hostAliases: [{ ip: "10.0.0.1", hostnames: ["a"] }] });
    p.metadata.ownerReferences = [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u1" }];
    p.status = { conditions: [{ type: "Ready", status: "False" }, { type: "PodScheduled", status: "True" }] };
    const out = applyStrategicMergePatch(
      p,
      {
        metadata: { ownerReferences: [{ apiVersion: "v1", kind: "Node", name: "n", uid: "u2" }] },
        spec: { hostAliases: [{ ip: "10.0.0.1", hostnames: ["b"] }, { ip: "10.0.0.2", hostnames: ["c"] }] },
        status: { conditions: [{ type: "Ready", status: "True" }] },
      },
      POD,
    );
    expect(out.metadata.ownerReferences.map((o: any) => o.uid)).toEqual(["u2", "u1"]);
    expect(out.spec.hostAliases).toEqual([
      { ip: "10.0.0.1", hostnames: ["b"] }, // hostnames has no strategy: replaced
      { ip: "10.0.0.2", hostnames: ["c"] },
    ]);
    expect(out.status.conditions).toEqual([{ type: "Ready", status: "True" }, { type: "PodScheduled", status: "True" }]);
  });

  test("node taints are atomic (replaced), node addresses merge by type", () => {
    const node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "n" },
      spec: { taints: [{ key: "a", effect: "NoSchedule" }] },
      status: { addresses: [{ type: "InternalIP", address: "10.0.0.1" }, { type: "Hostname", address: "n" }] },
    };
    const out = applyStrategicMergePatch(
      node,
      { spec: { taints: [{ key: "b", effect: "NoExecute" }] }, status: { addresses: [{ type: "InternalIP", address: "10.0.0.9" }] } },
      NODE,
    );
    expect(out.spec.taints).toEqual([{ key: "b", effect: "NoExecute" }]);
    expect(out.status.addresses).toEqual([{ type: "InternalIP", address: "10.0.0.9" }, { type: "Hostname", address: "n" }]);
  });

  test("finalizers are a merged set of primitives (no duplicates)", () => {
    const out = applyStrategicMergePatch(deployment(), { metadata: { finalizers: ["b", "c"] } }, DEPLOY);
    expect(out.metadata.finalizers).toEqual(["a", "b", "c"]);
  });

  test("a field absent from the original is taken from the patch without its directives", () => {
    const p = pod([{ name: "a", image: "x" }]);
    const out = applyStrategicMergePatch(p, { spec: { initContainers: [{ name: "init", image: "i" }] } }, POD);
    expect(out.spec.initContainers).toEqual([{ name: "init", image: "i" }]);
  });
});

describe("directives", () => {
  test("$patch: delete removes a list item by merge key", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      { spec: { template: { spec: { containers: [{ name: "sidecar", $patch: "delete" }] } } } },
      DEPLOY,
    );
    expect(names(out.spec.template)).toEqual(["nginx"]);
  });

  test("$patch: delete of a missing item is a no-op; add and delete in one patch", () => {
    const out = applyStrategicMergePatch(
      pod([{ name: "a", image: "x" }, { name: "b", image: "y" }]),
      { spec: { containers: [{ name: "zzz", $patch: "delete" }, { name: "a", $patch: "delete" }, { name: "c", image: "z" }] } },
      POD,
    );
    expect(names(out)).toEqual(["c", "b"]);
  });

  test("$patch: replace on a list replaces it", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      { spec: { template: { spec: { containers: [{ name: "only", image: "x" }, { $patch: "replace" }] } } } },
      DEPLOY,
    );
    expect(out.spec.template.spec.containers).toEqual([{ name: "only", image: "x" }]);
  });

  test("$patch: replace on a map replaces it; $patch: delete on a map empties it", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      { metadata: { labels: { only: "me", $patch: "replace" } }, spec: { selector: { $patch: "delete" } } },
      DEPLOY,
    );
    expect(out.metadata.labels).toEqual({ only: "me" });
    expect(out.spec.selector).toEqual({});
  });

  test("$retainKeys clears the fields not listed (kubectl apply switching strategy to Recreate)", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      { spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } },
      DEPLOY,
    );
    expect(out.spec.strategy).toEqual({ type: "Recreate" });
  });

  test("$retainKeys in a volume item (merge,retainKeys) switches the volume source", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      {
        spec: {
          template: {
            spec: {
              volumes: [{ $retainKeys: ["configMap", "name"], name: "data", configMap: { name: "cm" } }],
            },
          },
        },
      },
      DEPLOY,
    );
    expect(out.spec.template.spec.volumes).toEqual([{ name: "data", configMap: { name: "cm" } }]);
  });

  test("upstream's 'retainKeys list of maps clears a field', on volumes", () => {
    const p = pod([{ name: "c" }], {
      volumes: [{ name: "bar", emptyDir: {} }, { name: "foo", configMap: { name: "a" }, secret: { secretName: "x" } }],
    });
    const out = applyStrategicMergePatch(
      p,
      {
        spec: {
          "$setElementOrder/volumes": [{ name: "bar" }, { name: "foo" }],
          volumes: [{ $retainKeys: ["configMap", "name"], name: "foo" }],
        },
      },
      POD,
    );
    expect(out.spec.volumes).toEqual([{ name: "bar", emptyDir: {} }, { name: "foo", configMap: { name: "a" } }]);
  });

  test("$retainKeys not listing a patched field is 400", () => {
    expectPatchError(
      () => applyStrategicMergePatch(deployment(), { spec: { strategy: { $retainKeys: ["type"], rollingUpdate: {} } } }, DEPLOY),
      400,
      "invalid patch format of retainKeys",
    );
    expectPatchError(
      () => applyStrategicMergePatch(deployment(), { spec: { strategy: { $retainKeys: "type" } } }, DEPLOY),
      400,
      "invalid patch format of retainKeys",
    );
  });

  test("$deleteFromPrimitiveList removes values from a primitive list", () => {
    const out = applyStrategicMergePatch(deployment(), { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] } }, DEPLOY);
    expect(out.metadata.finalizers).toEqual(["b"]);
    // A value not present is not added, and a missing list is not created.
    const out2 = applyStrategicMergePatch(pod([]), { metadata: { "$deleteFromPrimitiveList/finalizers": ["x"] } }, POD);
    expect(out2.metadata.finalizers).toBeUndefined();
  });

  test("$deleteFromPrimitiveList with a non-list value is ignored, as upstream does", () => {
    const out = applyStrategicMergePatch(deployment(), { metadata: { "$deleteFromPrimitiveList/finalizers": "a" } }, DEPLOY);
    expect(out.metadata.finalizers).toEqual(["a", "b"]);
  });

  test("$patch: merge on a map is refused as upstream does", () => {
    expectPatchError(
      () => applyStrategicMergePatch(deployment(), { spec: { strategy: { $patch: "merge", type: "Recreate" } } }, DEPLOY),
      500,
      "unknown patch type: merge in map: map[$patch:merge type:Recreate]",
    );
  });

  test("null deletes fields and map keys", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      { metadata: { labels: { tier: null } }, spec: { replicas: null, template: { spec: { tolerations: null } } } },
      DEPLOY,
    );
    expect(out.metadata.labels).toEqual({ app: "web" });
    expect("replicas" in out.spec).toBe(false);
    expect("tolerations" in out.spec.template.spec).toBe(false);
  });

  test("nulls for fields that do not exist are ignored; emptied maps and lists disappear as after Go's decode", () => {
    const out = applyStrategicMergePatch(pod([{ name: "a", image: "x" }]), { metadata: { annotations: { x: null } } }, POD);
    expect(out.metadata.annotations).toBeUndefined();
    const d = applyStrategicMergePatch(
      deployment(),
      {
        metadata: { labels: { app: null, tier: null } },
        spec: { template: { spec: { securityContext: {}, containers: [{ name: "nginx", env: [{ name: "A", $patch: "delete" }, { name: "B", $patch: "delete" }] }] } } },
      },
      DEPLOY,
    );
    expect(d.metadata.labels).toBeUndefined();
    expect("env" in d.spec.template.spec.containers[0]).toBe(false);
    expect(d.spec.template.spec.securityContext).toEqual({}); // structs stay, as Go encodes them
  });
});

// Upstream's "set elements order" cases, with mergingList → containers, value → image, other → imagePullPolicy.
describe("$setElementOrder", () => {
  const c = (name: string, image?: string, pull?: string) => ({
    name,
    ...(image ? { image } : {}),
    ...(pull ? { imagePullPolicy: pull } : {}),
  });
  const order = (...n: string[]) => n.map((name) => ({ name }));

  test("set elements order in a list", () => {
    const current = pod([c("1", undefined, "a"), c("3", "3"), c("4", "4"), c("2", "2")]);
    const out = applyStrategicMergePatch(current, { spec: { "$setElementOrder/containers": order("4", "2", "3", "1") } }, POD);
    expect(out.spec.containers).toEqual([c("4", "4"), c("2", "2"), c("3", "3"), c("1", undefined, "a")]);
  });

  test("server-only items go last when they were last", () => {
    const current = pod([c("1", undefined, "a"), c("3", "3"), c("4", "4"), c("2", "2"), c("9")]);
    const out = applyStrategicMergePatch(current, { spec: { "$setElementOrder/containers": order("4", "2", "3", "1") } }, POD);
    expect(names(out)).toEqual(["4", "2", "3", "1", "9"]);
  });

  test("server-only items keep their place relative to the live list", () => {
    const current = pod([c("1", undefined, "a"), c("2", "2"), c("9"), c("3", "3"), c("4", "4")]);
    const out = applyStrategicMergePatch(current, { spec: { "$setElementOrder/containers": order("2", "1", "4", "3") } }, POD);
    expect(names(out)).toEqual(["2", "1", "9", "4", "3"]);
    const current3 = pod([c("1", undefined, "a"), c("2", "2"), c("7"), c("9"), c("8"), c("3", "3"), c("4", "4")]);
    const out3 = applyStrategicMergePatch(current3, { spec: { "$setElementOrder/containers": order("2", "1", "4", "3") } }, POD);
    expect(names(out3)).toEqual(["2", "1", "7", "9", "8", "4", "3"]);
  });

  test("kubectl apply's patch: order + changed items + deleted item", () => {
    const current = pod([c("a", "1"), c("b", "1"), c("c", "1")]);
    const out = applyStrategicMergePatch(
      current,
      {
        spec: {
          "$setElementOrder/containers": order("c", "a", "d"),
          containers: [{ name: "a", image: "2" }, { name: "b", $patch: "delete" }, { name: "d", image: "1" }],
        },
      },
      POD,
    );
    expect(out.spec.containers).toEqual([c("c", "1"), c("a", "2"), c("d", "1")]);
  });

  test("primitive list order with $setElementOrder and $deleteFromPrimitiveList", () => {
    const d = deployment();
    d.metadata.finalizers = ["a", "b", "c"];
    const out = applyStrategicMergePatch(
      d,
      { metadata: { "$setElementOrder/finalizers": ["c", "a", "d"], finalizers: ["d"], "$deleteFromPrimitiveList/finalizers": ["b"] } },
      DEPLOY,
    );
    expect(out.metadata.finalizers).toEqual(["c", "a", "d"]);
  });

  test("malformed $setElementOrder lists fail with upstream's messages", () => {
    expectPatchError(
      () => applyStrategicMergePatch(pod([c("a")]), { spec: { "$setElementOrder/containers": "a" } }, POD),
      500,
      "expected a []interface {}, but received a string",
    );
    expectPatchError(
      () => applyStrategicMergePatch(pod([c("a")]), { spec: { "$setElementOrder/containers": [{ image: "x" }] } }, POD),
      500,
      "map: map[image:x] does not contain declared merge key: name",
    );
    // The patch list must follow the order list.
    expectPatchError(
      () =>
        applyStrategicMergePatch(
          pod([c("a"), c("b")]),
          { spec: { "$setElementOrder/containers": order("a", "b"), containers: [{ name: "b", image: "2" }, { name: "a", image: "1" }] } },
          POD,
        ),
      500,
      /^The order in patch list:\n\[map\[image:2 name:b\] map\[image:1 name:a\]\]\n doesn't match \$setElementOrder\/ list:/,
    );
  });
});

describe("errors as upstream reports them", () => {
  test("a list item without its merge key", () => {
    expectPatchError(
      () => applyStrategicMergePatch(pod([{ name: "a", image: "x" }]), { spec: { containers: [{ image: "y" }] } }, POD),
      500,
      "map: map[image:y] does not contain declared merge key: name",
    );
  });

  test("an unknown $patch value", () => {
    expectPatchError(
      () => applyStrategicMergePatch(pod([{ name: "a" }]), { spec: { $patch: "frobnicate" } }, POD),
      500,
      /^unknown patch type: frobnicate in map/,
    );
  });

  test("a patch that is not an object is 400", () => {
    expectPatchError(() => applyStrategicMergePatch(pod([]), [1, 2], POD), 400, "invalid JSON document");
  });
});

test("kinds without a schema merge maps and replace lists", () => {
  const obj: any = { apiVersion: "x/v1", kind: "Thing", spec: { items: [{ name: "a" }], m: { a: 1 } } };
  const out = applyStrategicMergePatch(obj, { spec: { items: [{ name: "b" }], m: { b: 2 } } }, { group: "x", version: "v1", kind: "Thing" });
  expect(out).toEqual({ apiVersion: "x/v1", kind: "Thing", spec: { items: [{ name: "b" }], m: { a: 1, b: 2 } } });
});

// Upstream's "preserve the order from the patch" cases.
describe("order without $setElementOrder", () => {
  test("patch order wins, server-only items keep their live position", () => {
    const p = pod([{ name: "1" }, { name: "2", image: "2" }, { name: "3" }]);
    const out = applyStrategicMergePatch(p, { spec: { containers: [{ name: "3", image: "3" }, { name: "1", image: "1" }] } }, POD);
    expect(names(out)).toEqual(["2", "3", "1"]);
    const out2 = applyStrategicMergePatch(
      p,
      { spec: { containers: [{ name: "3", image: "3" }, { name: "1", image: "1" }, { name: "2", image: "x" }] } },
      POD,
    );
    expect(names(out2)).toEqual(["3", "1", "2"]);
  });

  test("unique scalars when merging lists", () => {
    const d = deployment();
    d.metadata.finalizers = ["1", "2"];
    expect(applyStrategicMergePatch(d, { metadata: { finalizers: ["2", "3"] } }, DEPLOY).metadata.finalizers).toEqual(["1", "2", "3"]);
  });

  test("delete all items from a merging list with $patch: replace", () => {
    const out = applyStrategicMergePatch(pod([{ name: "1" }, { name: "2" }]), { spec: { containers: [{ $patch: "replace" }] } }, POD);
    expect(out.spec.containers).toEqual([]);
  });
});
