// Issue #9 item 8, the small ones reachable over the API: fieldManager validation, apply bodies without a type,
// force's query decoding, forged continue tokens and mirror pods created by their node — each with upstream's
// status, reason and message.
import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { joinCluster } from "../../internal/auth/index.ts";

let c: TestCluster;
const JSON_CT = { "content-type": "application/json" };
const APPLY = { "content-type": "application/apply-patch+yaml" };

beforeAll(async () => {
  c = await startTestCluster();
  for (const name of ["a", "b", "c"]) {
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { k: name } };
    expect((await c.api("/api/v1/namespaces/default/configmaps", { method: "POST", headers: JSON_CT, body: JSON.stringify(cm) })).status).toBe(201);
  }
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

async function call(path: string, init: RequestInit & { token?: string } = {}) {
  const res = await c.api(path, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe("fieldManager", () => {
  test("a control character is upstream's 422 on the options kind of the verb", async () => {
    const fm = encodeURIComponent("evil\u0001\nname");
    const cm = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "fm" } });
    const create = await call(`/api/v1/namespaces/default/configmaps?fieldManager=${fm}`, { method: "POST", headers: JSON_CT, body: cm });
    expect(create.status).toBe(422);
    expect(create.body.reason).toBe("Invalid");
    expect(create.body.message).toBe(
      'CreateOptions.meta.k8s.io "" is invalid: [fieldManager: Invalid value: "evil\\x01\\nname": invalid character U+0001 (at position 4), ' +
        'fieldManager: Invalid value: "evil\\x01\\nname": invalid character U+000A (at position 5)]',
    );
    expect(create.body.details).toMatchObject({ group: "meta.k8s.io", kind: "CreateOptions" });
    expect(create.body.details.causes).toHaveLength(2);
    expect(create.body.details.causes[0]).toEqual({
      reason: "FieldValueInvalid",
      message: 'Invalid value: "evil\\x01\\nname": invalid character U+0001 (at position 4)',
      field: "fieldManager",
    });
    const apply = await call(`/api/v1/namespaces/default/configmaps/a?fieldManager=${encodeURIComponent("bad\u007f")}`, {
      method: "PATCH",
      headers: APPLY,
      body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    });
    expect(apply.status).toBe(422);
    expect(apply.body.message).toBe('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "bad\\x7f": invalid character U+007F (at position 3)');
    const put = await call(`/api/v1/namespaces/default/configmaps/a?fieldManager=${"m".repeat(129)}`, {
      method: "PUT",
      headers: JSON_CT,
      body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } }),
    });
    expect(put.status).toBe(422);
    expect(put.body.message).toBe('UpdateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes');
    // printable non-ASCII is fine
    const ok = await call(`/api/v1/namespaces/default/configmaps/a?fieldManager=${encodeURIComponent("gérant ✓")}`, {
      method: "PATCH",
      headers: APPLY,
      body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: a\n",
    });
    expect(ok.status).toBe(200);
    expect(ok.body.metadata.managedFields.some((m: any) => m.manager === "gérant ✓")).toBe(true);
  });
});

describe("server-side apply bodies", () => {
  test("without kind or apiVersion: upstream's 400 invalid object type", async () => {
    const noKind = await call("/api/v1/namespaces/default/configmaps/b?fieldManager=t", { method: "PATCH", headers: APPLY, body: "apiVersion: v1\nmetadata:\n  name: b\n" });
    expect(noKind.status).toBe(400);
    expect(noKind.body.reason).toBe("BadRequest");
    expect(noKind.body.message).toBe("invalid object type: /v1, Kind=");
    const noVersion = await call("/apis/apps/v1/namespaces/default/deployments/d?fieldManager=t", { method: "PATCH", headers: APPLY, body: "kind: Deployment\nmetadata:\n  name: d\n" });
    expect(noVersion.status).toBe(400);
    expect(noVersion.body.message).toBe("invalid object type: /, Kind=Deployment");
    const neither = await call("/api/v1/namespaces/default/configmaps/new?fieldManager=t", { method: "PATCH", headers: APPLY, body: "metadata:\n  name: new\n" });
    expect(neither.status).toBe(400);
    expect(neither.body.message).toBe("invalid object type: /, Kind=");
    expect((await call("/api/v1/namespaces/default/configmaps/new")).status).toBe(404);
  });

  test("force is decoded as upstream's parameter codec does: any value but false/0 is true", async () => {
    const body = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: f\ndata:\n  k: "${v}"\n`;
    expect((await call("/api/v1/namespaces/default/configmaps/f?fieldManager=one", { method: "PATCH", headers: APPLY, body: body("1") })).status).toBe(201);
    const conflict = await call("/api/v1/namespaces/default/configmaps/f?fieldManager=two&force=false", { method: "PATCH", headers: APPLY, body: body("2") });
    expect(conflict.status).toBe(409);
    const forced = await call("/api/v1/namespaces/default/configmaps/f?fieldManager=two&force=maybe", { method: "PATCH", headers: APPLY, body: body("2") });
    expect(forced.status).toBe(200);
    expect(forced.body.data.k).toBe("2");
    const nonApply = await call("/api/v1/namespaces/default/configmaps/c?force=maybe", {
      method: "PATCH",
      headers: { "content-type": "application/merge-patch+json" },
      body: "{}",
    });
    expect(nonApply.status).toBe(400);
  });
});

describe("continue tokens", () => {
  const tok = (o: unknown) => Buffer.from(typeof o === "string" ? o : JSON.stringify(o)).toString("base64url");
  const list = (t: string) => call(`/api/v1/namespaces/default/configmaps?limit=1&continue=${encodeURIComponent(t)}`);

  test("a real token pages; forged ones are 400 with upstream's reason", async () => {
    const first = await call("/api/v1/namespaces/default/configmaps?limit=1");
    expect(first.status).toBe(200);
    const next = await list(first.body.metadata.continue);
    expect(next.status).toBe(200);
    expect(next.body.items).toHaveLength(1);
    const rv = JSON.parse(Buffer.from(first.body.metadata.continue, "base64url").toString()).rv;
    const cases: [string, string][] = [
      ["%%%", "continue key is not valid: illegal base64 data at input byte 0"],
      [tok("xyz"), "continue key is not valid: invalid character 'x' looking for beginning of value"],
      [tok([1]), "continue key is not valid: json: cannot unmarshal array into Go value of type storage.continueToken"],
      [tok({ v: "meta.k8s.io/v1", rv: "1", start: "a" }), "continue key is not valid: json: cannot unmarshal string into Go struct field continueToken.rv of type int64"],
      [tok({ v: "meta.k8s.io/v1", rv: 1.5, start: "a" }), "continue key is not valid: json: cannot unmarshal number 1.5 into Go struct field continueToken.rv of type int64"],
      [tok({ v: "meta.k8s.io/v2", rv, start: "a" }), "continue key is not valid: server does not recognize this encoded version meta.k8s.io/v2"],
      [tok({ v: "meta.k8s.io/v1", rv: 0, start: "a" }), "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"],
      [tok({ v: "meta.k8s.io/v1", rv: -3, start: "a" }), "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"],
      [tok({ v: "meta.k8s.io/v1", rv, start: "" }), "continue key is not valid: encoded start key empty (version meta.k8s.io/v1)"],
      [tok({ v: "meta.k8s.io/v1", rv, start: "../../secrets/kube-system/x" }), "continue key is not valid: ../../secrets/kube-system/x"],
      [tok({ v: "meta.k8s.io/v1", rv, start: "a//b" }), "continue key is not valid: a//b"],
      // a revision this server never reached (the store would otherwise fail with a 500)
      [tok({ v: "meta.k8s.io/v1", rv: 2 ** 50, start: "a" }), "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"],
    ];
    for (const [t, why] of cases) {
      const r = await list(t);
      expect(r.status).toBe(400);
      expect(r.body.reason).toBe("BadRequest");
      expect(r.body.message).toBe(`invalid continue token: ${why}`);
    }
  });
});

describe("mirror pods", () => {
  test("a node creates the mirror pod of its static pod; no ServiceAccount is set on it", async () => {
    // the "default" ServiceAccount (the controller that makes it does not run in this test cluster)
    const sa = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } };
    expect([201, 409]).toContain((await call("/api/v1/namespaces/default/serviceaccounts", { method: "POST", headers: JSON_CT, body: JSON.stringify(sa) })).status);
    const creds = await joinCluster({ server: c.localURL, token: c.joinToken, nodeName: "static-node" });
    const node = { apiVersion: "v1", kind: "Node", metadata: { name: "static-node" } };
    const created = await call("/api/v1/nodes", { method: "POST", token: creds.nodeToken, headers: JSON_CT, body: JSON.stringify(node) });
    expect(created.status).toBe(201);
    // as the kubelet makes it: owned (as controller) by its Node
    const owner = { apiVersion: "v1", kind: "Node", name: "static-node", uid: created.body.metadata.uid, controller: true };
    const mirror = (extra: any = {}) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: `etcd-static-node${extra.suffix ?? ""}`,
        annotations: { "kubernetes.io/config.mirror": "abc123", "kubernetes.io/config.source": "file" },
        ownerReferences: extra.owners ?? [owner],
      },
      spec: { nodeName: "static-node", containers: [{ name: "etcd", image: "busybox" }], ...(extra.spec ?? {}) },
    });
    const r = await call("/api/v1/namespaces/default/pods", { method: "POST", token: creds.nodeToken, headers: JSON_CT, body: JSON.stringify(mirror()) });
    expect(r.status).toBe(201);
    expect(r.body.spec.serviceAccountName).toBeUndefined();
    expect(r.body.spec.serviceAccount).toBeUndefined();
    expect(r.body.spec.volumes ?? []).toEqual([]);
    expect(r.body.spec.containers[0].volumeMounts ?? []).toEqual([]);

    // upstream's ServiceAccount admission refuses credentials on mirror pods, before NodeRestriction
    const withSA = await call("/api/v1/namespaces/default/pods", {
      method: "POST",
      token: creds.nodeToken,
      headers: JSON_CT,
      body: JSON.stringify(mirror({ suffix: "-sa", spec: { serviceAccountName: "default" } })),
    });
    expect(withSA.status).toBe(403);
    expect(withSA.body.message).toBe('pods "etcd-static-node-sa" is forbidden: a mirror pod may not reference service accounts');
    const withSecret = await call("/api/v1/namespaces/default/pods", {
      method: "POST",
      headers: JSON_CT,
      body: JSON.stringify(mirror({ suffix: "-secret", spec: { volumes: [{ name: "s", secret: { secretName: "x" } }] } })),
    });
    expect(withSecret.status).toBe(403);
    expect(withSecret.body.message).toBe('pods "etcd-static-node-secret" is forbidden: a mirror pod may not reference secrets');
    // NodeRestriction, as upstream: owned by the node itself, and no configmaps or PVCs either
    const byNode = (extra: any) => call("/api/v1/namespaces/default/pods", { method: "POST", token: creds.nodeToken, headers: JSON_CT, body: JSON.stringify(mirror(extra)) });
    const refusals: [any, string][] = [
      [{ suffix: "-noowner", owners: [] }, 'node "static-node" can only create pods with an owner reference set to itself'],
      [{ suffix: "-other", owners: [{ ...owner, name: "other" }] }, 'node "static-node" can only create pods with an owner reference set to itself'],
      [{ suffix: "-nctl", owners: [{ ...owner, controller: false }] }, 'node "static-node" can only create pods with a controller owner reference set to itself'],
      [{ suffix: "-uid", owners: [{ ...owner, uid: "not-the-uid" }] }, `node static-node UID mismatch: expected not-the-uid got ${owner.uid}`],
      [{ suffix: "-cm", spec: { volumes: [{ name: "c", configMap: { name: "kube-root-ca.crt" } }] } }, 'node "static-node" can not create pods that reference configmaps'],
      [{ suffix: "-pvc", spec: { volumes: [{ name: "p", persistentVolumeClaim: { claimName: "data" } }] } }, 'node "static-node" can not create pods that reference persistentvolumeclaims'],
      [{ suffix: "-env", spec: { containers: [{ name: "c", image: "busybox", env: [{ name: "A", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] }] } }, "a mirror pod may not reference secrets"],
    ];
    for (const [extra, why] of refusals) {
      const r = await byNode(extra);
      expect(r.status).toBe(403);
      expect(r.body.message).toBe(`pods "etcd-static-node${extra.suffix}" is forbidden: ${why}`);
    }
    // a node still may not create ordinary pods
    const plain = { apiVersion: "v1", kind: "Pod", metadata: { name: "plain" }, spec: { nodeName: "static-node", containers: [{ name: "c", image: "busybox" }] } };
    const denied = await call("/api/v1/namespaces/default/pods", { method: "POST", token: creds.nodeToken, headers: JSON_CT, body: JSON.stringify(plain) });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toBe('pods "plain" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "static-node" can only create mirror pods');
    // ordinary pods still get the default ServiceAccount from admission
    const admin = await call("/api/v1/namespaces/default/pods", { method: "POST", headers: JSON_CT, body: JSON.stringify({ ...plain, metadata: { name: "plain2" } }) });
    expect(admin.status).toBe(201);
    expect(admin.body.spec.serviceAccountName).toBe("default");
    expect(admin.body.spec.serviceAccount).toBe("default");
  });
});
