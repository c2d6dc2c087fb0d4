// Issue 9 item 3: a subject that may only update ClusterRoles must not be able to grant rights through
// aggregation labels (label cluster-admin into `view`). As upstream, every role update other than
// ownerReferences/finalizers goes through the escalation check.
import { expect, test } from "bun:test";
import { useSharedCluster } from "../helpers/shared-cluster.ts";

const env = useSharedCluster();
const RBAC = "/apis/rbac.authorization.k8s.io/v1";

async function json(method: string, path: string, body: unknown, token?: string, type = "application/json") {
  const res = await env.cluster.api(path, { method, token, body: JSON.stringify(body), headers: { "content-type": type } });
  return { status: res.status, body: (await res.json()) as any };
}

async function roleWriterToken(): Promise<string> {
  const a = (m: string, p: string, b: unknown) => json(m, p, b);
  await a("POST", "/api/v1/namespaces/default/serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "role-writer" } });
  await a("POST", `${RBAC}/clusterroles`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "clusterrole-writer" },
    rules: [{ apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["get", "list", "watch", "update", "patch"] }],
  });
  await a("POST", `${RBAC}/clusterrolebindings`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "role-writer" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "clusterrole-writer" },
    subjects: [{ kind: "ServiceAccount", name: "role-writer", namespace: "default" }],
  });
  const t = await a("POST", "/api/v1/namespaces/default/serviceaccounts/role-writer/token", { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: {} });
  expect(t.status).toBe(201);
  return t.body.status.token;
}

test("labelling cluster-admin into view is an escalation; labelling a role whose rules one holds is not", async () => {
  const token = await roleWriterToken();
  const label = (name: string, labels: Record<string, string | null>) =>
    json("PATCH", `${RBAC}/clusterroles/${name}`, { metadata: { labels } }, token, "application/merge-patch+json");

  const bad = await label("cluster-admin", { "rbac.authorization.k8s.io/aggregate-to-view": "true" });
  expect(bad.status).toBe(403);
  expect(bad.body.reason).toBe("Forbidden");
  expect(bad.body.message).toStartWith(
    'clusterroles.rbac.authorization.k8s.io "cluster-admin" is forbidden: user "system:serviceaccount:default:role-writer" ' +
      '(groups=["system:serviceaccounts" "system:serviceaccounts:default" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
      '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}',
  );
  const admin = await json("GET", `${RBAC}/clusterroles/cluster-admin`, undefined as any);
  expect(admin.body.metadata.labels?.["rbac.authorization.k8s.io/aggregate-to-view"]).toBeUndefined();

  // A plain annotation on a role with rights one lacks is a change of that role too (upstream checks every update).
  const note = await json("PATCH", `${RBAC}/clusterroles/admin`, { metadata: { annotations: { x: "y" } } }, token, "application/merge-patch+json");
  expect(note.status).toBe(403);

  // Rules the writer holds may be aggregated: nobody gains anything the writer could not already grant.
  const own = await json("POST", `${RBAC}/clusterroles`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "read-clusterroles" },
    rules: [{ apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["get", "list"] }],
  });
  expect(own.status).toBe(201);
  const ok = await label("read-clusterroles", { "rbac.authorization.k8s.io/aggregate-to-view": "true" });
  expect(ok.status).toBe(200);

  // view never picked up cluster-admin's rules.
  const view = await json("GET", `${RBAC}/clusterroles/view`, undefined as any);
  expect(view.body.rules.some((r: any) => r.verbs?.includes("*") && r.resources?.includes("*"))).toBe(false);
});
