import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PolicyRule } from "kubernetes-types/rbac/v1";
import { ruleAllows } from "../../internal/auth/rbac/rules.ts";
import { RBACCache } from "../../internal/auth/rbac/cache.ts";
import { RBACAuthorizer } from "../../internal/auth/rbac/authorizer.ts";
import {
  bootstrapPolicy,
  createAuthorizer,
  forbiddenStatus,
  reconcileBootstrapPolicy,
  runClusterRoleAggregation,
} from "../../internal/auth/index.ts";
import type { RequestAttributes, UserInfo } from "../../internal/auth/types.ts";
import { openStore, type Store } from "../../internal/store/index.ts";

const alice: UserInfo = { username: "alice", groups: ["system:authenticated"] };
const res = (verb: string, resource: string, extra: Partial<RequestAttributes> = {}): RequestAttributes => ({
  user: alice,
  verb,
  resourceRequest: true,
  apiGroup: "",
  resource,
  ...extra,
});
const url = (verb: string, path: string): RequestAttributes => ({ user: alice, verb, resourceRequest: false, path });

describe("rule matching (upstream RuleAllows)", () => {
  const cases: [string, PolicyRule, RequestAttributes, boolean][] = [
    ["exact verb/group/resource", { verbs: ["get"], apiGroups: [""], resources: ["pods"] }, res("get", "pods"), true],
    ["verb mismatch", { verbs: ["get"], apiGroups: [""], resources: ["pods"] }, res("list", "pods"), false],
    ["verb *", { verbs: ["*"], apiGroups: [""], resources: ["pods"] }, res("deletecollection", "pods"), true],
    ["group mismatch", { verbs: ["get"], apiGroups: ["apps"], resources: ["pods"] }, res("get", "pods"), false],
    ["group *", { verbs: ["get"], apiGroups: ["*"], resources: ["deployments"] }, res("get", "deployments", { apiGroup: "apps" }), true],
    ["resource *", { verbs: ["get"], apiGroups: [""], resources: ["*"] }, res("get", "pods", { subresource: "log" }), true],
    ["subresource needs its own entry", { verbs: ["get"], apiGroups: [""], resources: ["pods"] }, res("get", "pods", { subresource: "log" }), false],
    ["pods/log", { verbs: ["get"], apiGroups: [""], resources: ["pods/log"] }, res("get", "pods", { subresource: "log" }), true],
    ["pods/log does not grant pods", { verbs: ["get"], apiGroups: [""], resources: ["pods/log"] }, res("get", "pods"), false],
    ["*/scale", { verbs: ["get"], apiGroups: ["*"], resources: ["*/scale"] }, res("get", "deployments", { apiGroup: "apps", subresource: "scale" }), true],
    ["*/scale not status", { verbs: ["get"], apiGroups: ["*"], resources: ["*/scale"] }, res("get", "deployments", { apiGroup: "apps", subresource: "status" }), false],
    ["resourceNames match", { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] }, res("get", "configmaps", { name: "a" }), true],
    ["resourceNames other", { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] }, res("get", "configmaps", { name: "b" }), false],
    ["resourceNames never match a list", { verbs: ["list"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] }, res("list", "configmaps"), false],
    ["nonResourceURL exact", { verbs: ["get"], nonResourceURLs: ["/healthz"] }, url("get", "/healthz"), true],
    ["nonResourceURL prefix*", { verbs: ["get"], nonResourceURLs: ["/apis/*"] }, url("get", "/apis/apps/v1"), true],
    ["nonResourceURL prefix* other", { verbs: ["get"], nonResourceURLs: ["/apis/*"] }, url("get", "/api/v1"), false],
    ["nonResourceURL *", { verbs: ["*"], nonResourceURLs: ["*"] }, url("post", "/anything"), true],
    ["resource rule never matches a URL", { verbs: ["*"], apiGroups: ["*"], resources: ["*"] }, url("get", "/healthz"), false],
    ["URL rule never matches a resource", { verbs: ["*"], nonResourceURLs: ["*"] }, res("get", "pods"), false],
  ];
  for (const [name, rule, attrs, want] of cases) {
    test(name, () => expect(ruleAllows(attrs, rule)).toBe(want));
  }
});

/** An in-memory cache filled with the bootstrap policy plus extra objects. */
function cacheWith(extra: { kind: "roles" | "rolebindings" | "clusterroles" | "clusterrolebindings"; obj: any }[] = []) {
  const cache = new RBACCache();
  const p = bootstrapPolicy();
  for (const o of p.clusterRoles) cache.apply("clusterroles", o);
  for (const o of p.clusterRoleBindings) cache.apply("clusterrolebindings", o);
  for (const o of p.roles) cache.apply("roles", o);
  for (const o of p.roleBindings) cache.apply("rolebindings", o);
  for (const e of extra) cache.apply(e.kind, e.obj);
  return cache;
}

const rb = (ns: string, name: string, roleKind: string, role: string, subjects: any[]) => ({
  kind: "rolebindings" as const,
  obj: { metadata: { namespace: ns, name }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: roleKind, name: role }, subjects },
});

describe("RBAC authorizer over the bootstrap policy", () => {
  const sa = { username: "system:serviceaccount:team:app", groups: ["system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated"] };
  const cache = cacheWith([
    rb("team", "app-edit", "ClusterRole", "edit", [{ kind: "ServiceAccount", name: "app" }]),
    rb("team", "bob-view", "ClusterRole", "view", [{ kind: "User", name: "bob" }]),
    rb("team", "ghost", "Role", "does-not-exist", [{ kind: "User", name: "carol" }]),
    {
      kind: "roles",
      obj: { metadata: { namespace: "team", name: "cm-a" }, rules: [{ verbs: ["get", "update"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] }] },
    },
    rb("team", "dave-cm", "Role", "cm-a", [{ kind: "User", name: "dave" }]),
  ]);
  const authz = new RBACAuthorizer(cache);
  const as = (user: UserInfo, a: Omit<RequestAttributes, "user">) => authz.authorizeSync({ ...a, user }).decision;
  const bob = { username: "bob", groups: ["system:authenticated"] };

  const table: [string, UserInfo, Omit<RequestAttributes, "user">, string][] = [
    ["SA with edit (aggregated) creates deployments", sa, { verb: "create", resourceRequest: true, apiGroup: "apps", resource: "deployments", namespace: "team" }, "allow"],
    ["SA with edit reads pod logs (aggregated from view)", sa, { verb: "get", resourceRequest: true, apiGroup: "", resource: "pods", subresource: "log", namespace: "team" }, "allow"],
    ["SA with edit cannot create roles (admin only)", sa, { verb: "create", resourceRequest: true, apiGroup: "rbac.authorization.k8s.io", resource: "roles", namespace: "team" }, "no-opinion"],
    ["SA edit is namespaced", sa, { verb: "create", resourceRequest: true, apiGroup: "apps", resource: "deployments", namespace: "other" }, "no-opinion"],
    ["RoleBinding never grants cluster-scoped", sa, { verb: "list", resourceRequest: true, apiGroup: "", resource: "pods" }, "no-opinion"],
    ["view can list pods", bob, { verb: "list", resourceRequest: true, apiGroup: "", resource: "pods", namespace: "team" }, "allow"],
    ["view cannot read secrets", bob, { verb: "get", resourceRequest: true, apiGroup: "", resource: "secrets", namespace: "team", name: "s" }, "no-opinion"],
    ["view cannot delete", bob, { verb: "delete", resourceRequest: true, apiGroup: "", resource: "pods", namespace: "team", name: "p" }, "no-opinion"],
    ["discovery for everyone authenticated", bob, { verb: "get", resourceRequest: false, path: "/apis/apps/v1" }, "allow"],
    ["selfsubjectaccessreviews for everyone", bob, { verb: "create", resourceRequest: true, apiGroup: "authorization.k8s.io", resource: "selfsubjectaccessreviews" }, "allow"],
    ["metrics not for everyone", bob, { verb: "get", resourceRequest: false, path: "/metrics" }, "no-opinion"],
    ["resourceNames: named cm", { username: "dave", groups: [] }, { verb: "update", resourceRequest: true, apiGroup: "", resource: "configmaps", namespace: "team", name: "a" }, "allow"],
    ["resourceNames: other cm", { username: "dave", groups: [] }, { verb: "update", resourceRequest: true, apiGroup: "", resource: "configmaps", namespace: "team", name: "b" }, "no-opinion"],
    ["scheduler binds pods", { username: "system:kube-scheduler", groups: ["system:authenticated"] }, { verb: "create", resourceRequest: true, apiGroup: "", resource: "pods", subresource: "binding", namespace: "x", name: "p" }, "allow"],
    ["scheduler cannot create deployments", { username: "system:kube-scheduler", groups: ["system:authenticated"] }, { verb: "create", resourceRequest: true, apiGroup: "apps", resource: "deployments", namespace: "x" }, "no-opinion"],
    ["scheduler lease by name", { username: "system:kube-scheduler", groups: ["system:authenticated"] }, { verb: "update", resourceRequest: true, apiGroup: "coordination.k8s.io", resource: "leases", namespace: "kube-system", name: "kube-scheduler" }, "allow"],
    ["controller manager creates pods", { username: "system:kube-controller-manager", groups: ["system:authenticated"] }, { verb: "create", resourceRequest: true, apiGroup: "", resource: "pods", namespace: "x" }, "allow"],
    ["controller manager cannot read secrets' content by exec", { username: "system:kube-controller-manager", groups: ["system:authenticated"] }, { verb: "create", resourceRequest: true, apiGroup: "", resource: "pods", subresource: "exec", namespace: "x", name: "p" }, "no-opinion"],
  ];
  for (const [name, user, a, want] of table) test(name, () => expect(as(user, a) as string).toBe(want));

  test("missing role gives upstream's reason", () => {
    const r = authz.authorizeSync({ user: { username: "carol", groups: [] }, verb: "get", resourceRequest: true, apiGroup: "", resource: "pods", namespace: "team" });
    expect(r).toEqual({ decision: "no-opinion", reason: 'RBAC: role.rbac.authorization.k8s.io "does-not-exist" not found' });
  });

  test("allow reason names the binding", () => {
    const r = authz.authorizeSync({ user: bob, verb: "list", resourceRequest: true, apiGroup: "", resource: "pods", namespace: "team" });
    expect(r.reason).toBe('RBAC: allowed by RoleBinding "bob-view/team" of ClusterRole "view" to User "bob"');
  });

  test("aggregation follows labels of roles added later", () => {
    cache.apply("clusterroles", {
      metadata: { name: "widgets-view", labels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" } },
      rules: [{ verbs: ["get"], apiGroups: ["example.com"], resources: ["widgets"] }],
    });
    // view → edit → admin: all three see it
    for (const role of ["view", "edit", "admin"]) {
      expect(cache.clusterRoleRules(role)!.some((r) => r.resources?.includes("widgets"))).toBe(true);
    }
    expect(as(bob, { verb: "get", resourceRequest: true, apiGroup: "example.com", resource: "widgets", namespace: "team", name: "w" })).toBe("allow");
  });
});

describe("forbiddenStatus (upstream 403 wording)", () => {
  test("namespaced resource with name", () => {
    const s = forbiddenStatus(
      { user: { username: "system:serviceaccount:default:x", groups: [] }, verb: "get", resourceRequest: true, apiGroup: "", resource: "secrets", namespace: "default", name: "foo" },
      "",
    );
    expect(s.message).toBe(
      'secrets "foo" is forbidden: User "system:serviceaccount:default:x" cannot get resource "secrets" in API group "" in the namespace "default"',
    );
    expect(s).toMatchObject({ code: 403, reason: "Forbidden", details: { name: "foo", kind: "secrets" } });
  });
  test("cluster scope list with group", () => {
    const s = forbiddenStatus({ user: { username: "bob", groups: [] }, verb: "list", resourceRequest: true, apiGroup: "apps", resource: "deployments" });
    expect(s.message).toBe('deployments.apps is forbidden: User "bob" cannot list resource "deployments" in API group "apps" at the cluster scope');
    expect(s.details).toEqual({ group: "apps", kind: "deployments" });
  });
  test("subresource and reason", () => {
    const s = forbiddenStatus(
      { user: { username: "system:node:n1", groups: [] }, verb: "get", resourceRequest: true, apiGroup: "", resource: "pods", subresource: "log", namespace: "d", name: "p" },
      "no relationship found between node 'n1' and this object",
    );
    expect(s.message).toBe(
      `pods "p" is forbidden: User "system:node:n1" cannot get resource "pods/log" in API group "" in the namespace "d": no relationship found between node 'n1' and this object`,
    );
  });
  test("non-resource path", () => {
    const s = forbiddenStatus({ user: { username: "bob", groups: [] }, verb: "get", resourceRequest: false, path: "/metrics" });
    expect(s.message).toBe('forbidden: User "bob" cannot get path "/metrics"');
  });
});

describe("authorizer over a real store", () => {
  let dir: string;
  let store: Store;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kubun-rbac-"));
    store = await openStore({ dataDir: dir });
    await reconcileBootstrapPolicy(store);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("bootstrap objects carry upstream's label and annotation; reconcile is idempotent and additive", async () => {
    const { kv } = await store.get("/registry/rbac.authorization.k8s.io/clusterroles/cluster-admin");
    const cr = JSON.parse(kv!.value);
    expect(cr.metadata.labels["kubernetes.io/bootstrapping"]).toBe("rbac-defaults");
    expect(cr.metadata.annotations["rbac.authorization.kubernetes.io/autoupdate"]).toBe("true");
    expect(cr.metadata.uid).toBeString();
    const rev = await store.currentRevision();
    await reconcileBootstrapPolicy(store);
    expect(await store.currentRevision()).toBe(rev);
    // an admin's extra rule survives; a removed default rule comes back
    const key = "/registry/rbac.authorization.k8s.io/clusterroles/system:basic-user";
    const cur = await store.get(key);
    const o = JSON.parse(cur.kv!.value);
    o.rules = [{ verbs: ["get"], apiGroups: [""], resources: ["extra"] }];
    await store.update(key, JSON.stringify(o), cur.kv!.modRevision);
    await reconcileBootstrapPolicy(store);
    const after = JSON.parse((await store.get(key)).kv!.value);
    expect(after.rules.map((r: any) => r.resources[0])).toEqual(["extra", "selfsubjectaccessreviews", "selfsubjectreviews"]);
  });

  test("watch keeps the cache fresh: a new RoleBinding takes effect, its deletion revokes", async () => {
    const authz = createAuthorizer({ store });
    try {
      await authz.ready;
      const attrs: RequestAttributes = { user: { username: "erin", groups: ["system:authenticated"] }, verb: "list", resourceRequest: true, apiGroup: "", resource: "pods", namespace: "ns1" };
      expect((await authz.authorize(attrs)).decision).toBe("no-opinion");
      const key = "/registry/rbac.authorization.k8s.io/rolebindings/ns1/erin";
      await store.create(
        key,
        JSON.stringify({ metadata: { namespace: "ns1", name: "erin" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" }, subjects: [{ kind: "User", name: "erin" }] }),
      );
      await waitFor(async () => (await authz.authorize(attrs)).decision === "allow");
      await store.delete(key);
      await waitFor(async () => (await authz.authorize(attrs)).decision === "no-opinion");
      // system:masters is always allowed
      expect((await authz.authorize({ ...attrs, user: { username: "x", groups: ["system:masters"] } })).decision).toBe("allow");
    } finally {
      authz.close();
    }
  });

  test("aggregated ClusterRoles get their rules written to the store", async () => {
    const authz = createAuthorizer({ store });
    const ac = new AbortController();
    try {
      runClusterRoleAggregation(store, authz.rbacCache, ac.signal, 50);
      await waitFor(async () => {
        const v = JSON.parse((await store.get("/registry/rbac.authorization.k8s.io/clusterroles/admin")).kv!.value);
        return (v.rules ?? []).some((r: any) => r.resources?.includes("rolebindings")) && v.rules.some((r: any) => r.resources?.includes("pods/log"));
      });
    } finally {
      ac.abort();
      authz.close();
    }
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

describe("rulesFor (SelfSubjectRulesReview)", () => {
  test("lists RBAC rules of the namespace, wildcards for system:masters, incomplete for nodes", async () => {
    const cache = new RBACCache();
    const p = bootstrapPolicy();
    for (const o of p.clusterRoles) cache.apply("clusterroles", o);
    for (const o of p.clusterRoleBindings) cache.apply("clusterrolebindings", o);
    cache.apply("rolebindings", {
      metadata: { namespace: "team", name: "b" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
      subjects: [{ kind: "User", name: "bob" }],
    });
    const authz = createAuthorizer({ rbacCache: cache });
    const bob = await authz.rulesFor({ username: "bob", groups: ["system:authenticated"] }, "team");
    expect(bob.incomplete).toBe(false);
    expect(bob.resourceRules).toContainEqual({ verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"] });
    expect(bob.resourceRules.some((r) => r.resources?.includes("pods/log"))).toBe(true);
    expect(bob.nonResourceRules.some((r) => r.nonResourceURLs?.includes("/api/*"))).toBe(true);
    const elsewhere = await authz.rulesFor({ username: "bob", groups: ["system:authenticated"] }, "other");
    expect(elsewhere.resourceRules.some((r) => r.resources?.includes("pods/log"))).toBe(false);
    const admin = await authz.rulesFor({ username: "system:admin", groups: ["system:masters"] }, "x");
    expect(admin.resourceRules[0]).toEqual({ verbs: ["*"], apiGroups: ["*"], resources: ["*"] });
    const node = await authz.rulesFor({ username: "system:node:n1", groups: ["system:nodes"] }, "x");
    expect(node.incomplete).toBe(true);
    expect(node.evaluationError).toBe("node authorizer does not support user rule resolution");
    authz.close();
  });
});

describe("escalation prevention (upstream Covers / ConfirmNoEscalation)", () => {
  const { covers, escalationError, compactString } = require("../../internal/auth/rbac/escalation.ts");
  test("covers: wildcards, */subresource, resourceNames, URL prefixes", () => {
    const owner = [
      { verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "*/status"] },
      { verbs: ["*"], apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["web"] },
      { verbs: ["get"], nonResourceURLs: ["/apis/*"] },
    ];
    expect(covers(owner, [{ verbs: ["get"], apiGroups: [""], resources: ["pods", "services/status"] }]).covered).toBe(true);
    expect(covers(owner, [{ verbs: ["delete"], apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["web"] }]).covered).toBe(true);
    expect(covers(owner, [{ verbs: ["delete"], apiGroups: ["apps"], resources: ["deployments"] }]).covered).toBe(false);
    expect(covers(owner, [{ verbs: ["get"], nonResourceURLs: ["/apis/apps"] }]).covered).toBe(true);
    const { missing } = covers(owner, [{ verbs: ["get", "watch"], apiGroups: [""], resources: ["pods", "secrets"] }]);
    expect(missing.map(compactString)).toEqual([
      '{APIGroups:[""], Resources:["pods"], Verbs:["watch"]}',
      '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
      '{APIGroups:[""], Resources:["secrets"], Verbs:["watch"]}',
    ]);
  });
  test("message as upstream, verbs compacted", () => {
    const msg = escalationError({ username: "bob", groups: ["system:authenticated"] }, [], [{ verbs: ["get", "list"], apiGroups: [""], resources: ["secrets"] }]);
    expect(msg).toBe(
      'user "bob" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}',
    );
  });
});
