// Node authorizer: graph-limited reads, own Lease, ServiceAccount tokens of own pods, static node rules.
import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAuthorizer, reconcileBootstrapPolicy, type KubunAuthorizer } from "../../internal/auth/index.ts";
import { NodeGraph, podRefs } from "../../internal/auth/node/graph.ts";
import type { RequestAttributes } from "../../internal/auth/types.ts";
import { openStore, type Store } from "../../internal/store/index.ts";

let dir: string;
let store: Store;
let authz: KubunAuthorizer;
const n1 = { username: "system:node:n1", groups: ["system:nodes", "system:authenticated"] };

const pod = (name: string, node: string | undefined, extra: any = {}) => ({
  metadata: { namespace: "default", name, uid: `${name}-uid` },
  spec: {
    nodeName: node,
    serviceAccountName: "runner",
    containers: [
      {
        name: "c",
        image: "busybox",
        env: [{ name: "A", valueFrom: { secretKeyRef: { name: "env-secret", key: "k" } } }],
        envFrom: [{ configMapRef: { name: "env-cm" } }],
      },
    ],
    volumes: [
      { name: "s", secret: { secretName: "vol-secret" } },
      { name: "p", persistentVolumeClaim: { claimName: "data" } },
      { name: "proj", projected: { sources: [{ configMap: { name: "kube-root-ca.crt" } }] } },
    ],
    ...extra,
  },
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubun-nodeauthz-"));
  store = await openStore({ dataDir: dir });
  await reconcileBootstrapPolicy(store);
  await store.create("/registry/core/pods/default/on-n1", JSON.stringify(pod("on-n1", "n1")));
  await store.create("/registry/core/pods/default/on-n2", JSON.stringify(pod("on-n2", "n2", { imagePullSecrets: [{ name: "n2-pull" }] })));
  await store.create("/registry/core/persistentvolumeclaims/default/data", JSON.stringify({ metadata: { namespace: "default", name: "data" }, spec: { volumeName: "pv-1" } }));
  authz = createAuthorizer({ store });
  await authz.ready;
});
afterAll(async () => {
  authz.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const r = (a: Omit<RequestAttributes, "user" | "resourceRequest">, user = n1) => authz.authorize({ resourceRequest: true, apiGroup: "", ...a, user });

describe("podRefs", () => {
  test("collects secrets, configmaps, PVCs and the ServiceAccount", () => {
    expect(podRefs(pod("x", "n1") as any).sort()).toEqual(
      [
        "serviceaccount/default/runner",
        "secret/default/env-secret",
        "configmap/default/env-cm",
        "secret/default/vol-secret",
        "pvc/default/data",
        "configmap/default/kube-root-ca.crt",
      ].sort(),
    );
  });
});

describe("Node authorizer", () => {
  const cases: [string, Omit<RequestAttributes, "user" | "resourceRequest">, "allow" | "no-opinion", string?][] = [
    ["secret referenced by its pod (env)", { verb: "get", resource: "secrets", namespace: "default", name: "env-secret" }, "allow"],
    ["secret referenced by its pod (volume)", { verb: "get", resource: "secrets", namespace: "default", name: "vol-secret" }, "allow"],
    ["configmap referenced (envFrom)", { verb: "get", resource: "configmaps", namespace: "default", name: "env-cm" }, "allow"],
    ["configmap referenced (projected)", { verb: "watch", resource: "configmaps", namespace: "default", name: "kube-root-ca.crt" }, "allow"],
    ["secret of another node's pod", { verb: "get", resource: "secrets", namespace: "default", name: "n2-pull" }, "no-opinion", "no relationship found between node 'n1' and this object"],
    ["list all secrets", { verb: "list", resource: "secrets", namespace: "default" }, "no-opinion", "No Object name found"],
    ["write a secret", { verb: "update", resource: "secrets", namespace: "default", name: "env-secret" }, "no-opinion", "can only read resources of this type"],
    ["pvc of its pod", { verb: "get", resource: "persistentvolumeclaims", namespace: "default", name: "data" }, "allow"],
    ["pv behind its pod's pvc", { verb: "get", resource: "persistentvolumes", name: "pv-1" }, "allow"],
    ["other pv", { verb: "get", resource: "persistentvolumes", name: "pv-2" }, "no-opinion", "no relationship found between node 'n1' and this object"],
    ["token for its pod's SA", { verb: "create", resource: "serviceaccounts", subresource: "token", namespace: "default", name: "runner" }, "allow"],
    ["token for another SA", { verb: "create", resource: "serviceaccounts", subresource: "token", namespace: "default", name: "admin" }, "no-opinion", "no relationship found between node 'n1' and this object"],
    ["get a serviceaccount", { verb: "get", resource: "serviceaccounts", namespace: "default", name: "runner" }, "no-opinion", "can only create tokens for individual service accounts"],
    ["own lease", { verb: "update", apiGroup: "coordination.k8s.io", resource: "leases", namespace: "kube-node-lease", name: "n1" }, "allow"],
    ["create lease", { verb: "create", apiGroup: "coordination.k8s.io", resource: "leases", namespace: "kube-node-lease" }, "allow"],
    ["other node's lease", { verb: "update", apiGroup: "coordination.k8s.io", resource: "leases", namespace: "kube-node-lease", name: "n2" }, "no-opinion", "can only access node lease with the same name as the requesting node"],
    ["lease elsewhere", { verb: "get", apiGroup: "coordination.k8s.io", resource: "leases", namespace: "kube-system", name: "n1" }, "no-opinion", 'can only access leases in the "kube-node-lease" system namespace'],
    ["list leases", { verb: "list", apiGroup: "coordination.k8s.io", resource: "leases", namespace: "kube-node-lease" }, "no-opinion", "can only get, create, update, patch, or delete a node lease"],
    ["watch pods (static rule)", { verb: "watch", resource: "pods" }, "allow"],
    ["update pod status (static rule; NodeRestriction narrows)", { verb: "patch", resource: "pods", subresource: "status", namespace: "default", name: "on-n1" }, "allow"],
    ["update own node status", { verb: "patch", resource: "nodes", subresource: "status", name: "n1" }, "allow"],
    ["create events", { verb: "create", resource: "events", namespace: "default" }, "allow"],
    ["services list", { verb: "list", resource: "services" }, "allow"],
    ["cannot create deployments", { verb: "create", apiGroup: "apps", resource: "deployments", namespace: "default" }, "no-opinion"],
    ["cannot exec", { verb: "create", resource: "pods", subresource: "exec", namespace: "default", name: "on-n1" }, "no-opinion"],
  ];
  for (const [name, a, want, reason] of cases) {
    test(name, async () => {
      const res = await r(a);
      expect(res.decision).toBe(want);
      if (reason) expect(res.reason).toBe(reason);
    });
  }

  test("non-node users get no help from the node authorizer", async () => {
    const res = await r({ verb: "get", resource: "secrets", namespace: "default", name: "env-secret" }, { username: "system:node:n1", groups: ["system:authenticated"] });
    expect(res.decision).toBe("no-opinion");
    expect(res.reason).toBe("");
  });

  test("graph follows pod binding and deletion", async () => {
    const attrs = { verb: "get", resource: "secrets", namespace: "default", name: "late-secret" };
    expect((await r(attrs)).decision).toBe("no-opinion");
    const p = pod("late", undefined, { volumes: [{ name: "s", secret: { secretName: "late-secret" } }] });
    await store.create("/registry/core/pods/default/late", JSON.stringify(p));
    await Bun.sleep(50);
    expect((await r(attrs)).decision).toBe("no-opinion"); // not yet bound
    p.spec.nodeName = "n1";
    const { kv } = await store.get("/registry/core/pods/default/late");
    await store.update("/registry/core/pods/default/late", JSON.stringify(p), kv!.modRevision);
    await waitFor(async () => (await r(attrs)).decision === "allow");
    await store.delete("/registry/core/pods/default/late");
    await waitFor(async () => (await r(attrs)).decision === "no-opinion");
  });

  test("refcounting: two pods sharing a secret", () => {
    const g = new NodeGraph();
    const a = pod("a", "n9");
    g.setPod("a", a as any);
    g.setPod("b", pod("b", "n9") as any);
    g.setPod("a", undefined);
    expect(g.hasRef("n9", "secret", "default", "vol-secret")).toBe(true);
    g.setPod("b", undefined);
    expect(g.hasRef("n9", "secret", "default", "vol-secret")).toBe(false);
  });
});

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await Bun.sleep(20);
  }
  throw new Error("condition not met in time");
}
