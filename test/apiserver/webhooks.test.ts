// Admission webhooks (admissionregistration.k8s.io/v1) with real kubectl: configurations are validated and
// printed as upstream; mutating webhooks patch, validating ones deny with upstream's message; failurePolicy,
// timeouts, selectors, caBundle, dry run with sideEffects, reinvocation, matchPolicy, service references (a
// webhook server in a test-made network namespace) and the exemption of the configurations themselves.
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { pollUntil } from "../helpers/wait.ts";
import { createVethNetns } from "../helpers/veth-netns.ts";
import { inNetns } from "../../internal/runtime/netns.ts";
import { makeCerts, serveWebhooks, handler, type Certs } from "./webhooks/fixture.ts";
import { readFileSync, rmSync } from "node:fs";

setDefaultTimeout(60_000);
let c: TestCluster;
let certs: Certs;
let server: ReturnType<typeof serveWebhooks>;
const seen: any[] = [];
const created: string[] = [];

const ROOT = join(import.meta.dir, "../..");
const b64 = (s: string) => Buffer.from(s).toString("base64");

beforeAll(async () => {
  certs = makeCerts(join(ROOT, ".tmp", `webhook-certs-${process.pid}`), ["IP:127.0.0.1", "DNS:whsvc.default.svc"]);
  server = serveWebhooks(certs, seen);
  c = await startTestCluster();
  for (const ns of ["wh-a", "wh-b"]) await c.kubectl(["create", "namespace", ns]);
});

afterAll(async () => {
  server?.stop(true);
  await c?.stop();
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
});

let afterEachRestore: (() => void) | undefined;
afterEach(async () => {
  afterEachRestore?.();
  afterEachRestore = undefined;
  // Each test removes its configurations, so the next one starts without webhooks.
  while (created.length) await c.kubectl(["delete", created.pop()!, "--ignore-not-found"]);
  seen.length = 0;
});

const url = (path: string) => `https://127.0.0.1:${server.port}${path}`;

interface HookOpts {
  name: string;
  url?: string;
  service?: Record<string, unknown>;
  ca?: string;
  rules?: any[];
  extra?: Record<string, unknown>;
}

function hook(o: HookOpts): any {
  return {
    name: o.name,
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    clientConfig: { ...(o.url ? { url: o.url } : { service: o.service }), caBundle: b64(o.ca ?? certs.caPEM) },
    rules: o.rules ?? [{ apiGroups: [""], apiVersions: ["v1"], resources: ["configmaps"], operations: ["CREATE", "UPDATE"] }],
    ...o.extra,
  };
}

async function install(kind: "Mutating" | "Validating", name: string, hooks: any[]): Promise<void> {
  const obj = { apiVersion: "admissionregistration.k8s.io/v1", kind: `${kind}WebhookConfiguration`, metadata: { name }, webhooks: hooks };
  const r = await c.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify(obj) });
  expect(r.stderr).toBe("");
  created.push(`${kind.toLowerCase()}webhookconfiguration/${name}`);
}

async function cm(ns: string, name: string, extra: string[] = []) {
  return c.kubectl(["create", "configmap", name, "-n", ns, "--from-literal=a=b", ...extra]);
}

async function labelsOf(ns: string, name: string): Promise<Record<string, string>> {
  const r = await c.kubectl(["get", "configmap", name, "-n", ns, "-o", "json"]);
  return JSON.parse(r.stdout).metadata.labels ?? {};
}

describe("configurations", () => {
  test("defaults, validation messages and the table as upstream", async () => {
    await install("Mutating", "defaults", [hook({ name: "d.kubun.test", url: url("/allow") })]);
    const got = JSON.parse((await c.kubectl(["get", "mutatingwebhookconfiguration", "defaults", "-o", "json"])).stdout).webhooks[0];
    expect(got).toMatchObject({ failurePolicy: "Fail", matchPolicy: "Equivalent", timeoutSeconds: 10, reinvocationPolicy: "Never", namespaceSelector: {}, objectSelector: {} });
    expect(got.rules[0].scope).toBe("*");
    const table = await c.kubectl(["get", "mutatingwebhookconfigurations"]);
    expect(table.stdout).toMatch(/^NAME\s+WEBHOOKS\s+AGE\ndefaults\s+1\s+/);

    const bad = {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: "bad" },
      webhooks: [
        { name: "short", admissionReviewVersions: ["v2"], sideEffects: "Some", timeoutSeconds: 31, failurePolicy: "Maybe", clientConfig: { url: "http://x.example/?a=1" }, rules: [{ operations: ["PATCH"], apiGroups: [""], apiVersions: ["v1"], resources: ["*", "pods"] }] },
        { name: "two.kubun.test", admissionReviewVersions: ["v1"], sideEffects: "None", clientConfig: {} },
      ],
    };
    const r = await c.kubectl(["create", "-f", "-"], { stdin: JSON.stringify(bad) });
    expect(r.code).not.toBe(0);
    const msg = r.stderr;
    expect(msg).toContain('The ValidatingWebhookConfiguration "bad" is invalid');
    expect(msg).toContain('webhooks[0].name: Invalid value: "short": should be a domain with at least three segments separated by dots');
    expect(msg).toContain('webhooks[0].rules[0].operations[0]: Unsupported value: "PATCH": supported values: "*", "CONNECT", "CREATE", "DELETE", "UPDATE"');
    expect(msg).toContain("webhooks[0].rules[0].resources: Invalid value: []string{\"*\", \"pods\"}: if '*' is present, must not specify other resources without subresources");
    expect(msg).toContain('webhooks[0].failurePolicy: Unsupported value: "Maybe": supported values: "Fail", "Ignore"');
    expect(msg).toContain('webhooks[0].sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"');
    expect(msg).toContain("webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds");
    expect(msg).toContain('webhooks[0].admissionReviewVersions: Invalid value: []string{"v2"}: must include at least one of v1, v1beta1');
    expect(msg).toContain(`webhooks[0].clientConfig.url: Invalid value: "http": 'https' is the only allowed URL scheme; desired format: https://host[/path]`);
    expect(msg).toContain('webhooks[0].clientConfig.url: Invalid value: "a=1": query parameters are not permitted in the URL');
    expect(msg).toContain("webhooks[1].clientConfig: Required value: exactly one of url or service is required");
  });

  test("OpenAPI and discovery know the kinds (kubectl explain)", async () => {
    const r = await c.kubectl(["explain", "validatingwebhookconfiguration.webhooks.failurePolicy"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("FailurePolicy defines how unrecognized errors");
    const res = await c.kubectl(["api-resources", "--api-group=admissionregistration.k8s.io"]);
    expect(res.stdout).toContain("mutatingwebhookconfigurations");
    expect(res.stdout).toContain("validatingwebhookconfigurations");
  });
});

describe("calls", () => {
  test("a mutating webhook (url) adds a label; the review carries upstream's request fields; warnings reach kubectl", async () => {
    await install("Mutating", "m-label", [hook({ name: "label.kubun.test", url: url("/label/added=yes"), extra: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "wh-a" } } } })]);
    await install("Validating", "v-allow", [hook({ name: "allow.kubun.test", url: url("/allow"), extra: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "wh-a" } } } })]);
    const r = await cm("wh-a", "mut1", ["--field-manager=tester"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Warning: webhook says careful");
    expect(await labelsOf("wh-a", "mut1")).toEqual({ added: "yes" });

    const m = seen.find((s) => s.path.startsWith("/label"))!;
    expect(m.query).toBe("?timeout=10s");
    const rq = m.review.request;
    expect(m.review.apiVersion).toBe("admission.k8s.io/v1");
    expect(rq.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(rq).toMatchObject({
      kind: { group: "", version: "v1", kind: "ConfigMap" },
      resource: { group: "", version: "v1", resource: "configmaps" },
      requestKind: { group: "", version: "v1", kind: "ConfigMap" },
      name: "mut1",
      namespace: "wh-a",
      operation: "CREATE",
      dryRun: false,
      oldObject: null,
      options: { kind: "CreateOptions", apiVersion: "meta.k8s.io/v1", fieldManager: "tester" },
    });
    expect(rq.userInfo.username).toBe("system:admin");
    expect(rq.object.data).toEqual({ a: "b" });
    // The validating webhook saw the mutated object.
    expect(seen.find((s) => s.path === "/allow")!.review.request.object.metadata.labels).toEqual({ added: "yes" });

    // UPDATE: the old object is sent too.
    seen.length = 0;
    expect((await c.kubectl(["label", "configmap", "mut1", "-n", "wh-a", "extra=1"])).code).toBe(0);
    const up = seen.find((s) => s.path.startsWith("/label"))!.review.request;
    expect(up.operation).toBe("UPDATE");
    expect(up.oldObject.metadata.labels).toEqual({ added: "yes" });
    expect(up.options.kind).toBe("UpdateOptions");
    // Other namespaces are not selected.
    expect((await cm("wh-b", "mut1")).code).toBe(0);
    expect(await labelsOf("wh-b", "mut1")).toEqual({});
  });

  test("a validating webhook denies with upstream's message; DELETE can be refused too", async () => {
    await install("Validating", "v-deny", [
      hook({
        name: "deny.kubun.test",
        url: url("/deny/no%20configmaps%20here"),
        rules: [{ apiGroups: [""], apiVersions: ["v1"], resources: ["configmaps"], operations: ["CREATE", "DELETE"] }],
        extra: { objectSelector: { matchLabels: { deny: "yes" } } },
      }),
    ]);
    const ok = await cm("wh-a", "plain");
    expect(ok.code).toBe(0);
    const res = await c.api("/api/v1/namespaces/wh-a/configmaps", { method: "POST", body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "denied", labels: { deny: "yes" } } }) });
    expect(res.status).toBe(403);
    const st = (await res.json()) as any;
    expect(st.reason).toBe("Forbidden");
    expect(st.message).toBe('admission webhook "deny.kubun.test" denied the request: no configmaps here');
    const k = await c.kubectl(["create", "-f", "-"], { stdin: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "denied", namespace: "wh-a", labels: { deny: "yes" } } }) });
    expect(k.code).toBe(1);
    expect(k.stderr).toContain('admission webhook "deny.kubun.test" denied the request: no configmaps here');

    // DELETE of an object the selector matches (through its old object).
    await c.kubectl(["label", "configmap", "plain", "-n", "wh-a", "deny=yes"]);
    const del = await c.kubectl(["delete", "configmap", "plain", "-n", "wh-a"]);
    expect(del.code).toBe(1);
    expect(del.stderr).toContain('admission webhook "deny.kubun.test" denied the request: no configmaps here');
    const review = seen.filter((s) => s.review.request.operation === "DELETE").at(-1)!.review.request;
    expect(review.object).toBeNull();
    expect(review.oldObject.metadata.name).toBe("plain");
    expect(review.options.kind).toBe("DeleteOptions");
  });

  test("failurePolicy Ignore lets requests through a dead webhook; Fail refuses with upstream's message", async () => {
    const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const port = dead.port;
    dead.stop(true);
    const deadURL = `https://127.0.0.1:${port}/x`;
    await install("Validating", "v-ignore", [hook({ name: "ignore.kubun.test", url: deadURL, extra: { failurePolicy: "Ignore" } })]);
    expect((await cm("wh-a", "through-ignore")).code).toBe(0);

    await install("Validating", "v-fail", [hook({ name: "fail.kubun.test", url: deadURL, extra: { failurePolicy: "Fail" } })]);
    const res = await c.api("/api/v1/namespaces/wh-a/configmaps", { method: "POST", body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "blocked" } }) });
    expect(res.status).toBe(500);
    const st = (await res.json()) as any;
    expect(st.reason).toBe("InternalError");
    expect(st.message).toBe(
      `Internal error occurred: failed calling webhook "fail.kubun.test": failed to call webhook: Post "${deadURL}?timeout=10s": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    );
    const k = await cm("wh-a", "blocked");
    expect(k.code).toBe(1);
    expect(k.stderr).toContain('failed calling webhook "fail.kubun.test"');
  });

  test("patches that do not apply follow failurePolicy; a patch may not move the object to another namespace", async () => {
    await install("Mutating", "m-badpatch", [hook({ name: "badpatch.kubun.test", url: url("/badpatch"), extra: { failurePolicy: "Ignore" } })]);
    expect((await cm("wh-a", "patch-ignored")).code).toBe(0);
    await c.kubectl(["patch", "mutatingwebhookconfiguration", "m-badpatch", "--type=json", "-p", '[{"op":"replace","path":"/webhooks/0/failurePolicy","value":"Fail"}]']);
    const failed = await cm("wh-a", "patch-failed");
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('failed calling webhook "badpatch.kubun.test": JSON patch could not be applied: ');
    await c.kubectl(["delete", "mutatingwebhookconfiguration", "m-badpatch"]);

    await install("Mutating", "m-move", [hook({ name: "move.kubun.test", url: url("/move") })]);
    const res = await c.api("/api/v1/namespaces/wh-a/configmaps", { method: "POST", body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "moved" } }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).message).toBe("the namespace of the provided object does not match the namespace sent on the request");
    expect((await c.kubectl(["get", "configmap", "moved", "-n", "wh-b"])).code).toBe(1);
  });

  test("a webhook slower than timeoutSeconds fails the request (Fail) with a deadline error, not a hang", async () => {
    await install("Mutating", "m-slow", [hook({ name: "slow.kubun.test", url: url("/slow"), extra: { timeoutSeconds: 1 } })]);
    const k = await cm("wh-a", "slow");
    expect(k.code).toBe(1);
    expect(k.stderr).toContain(`failed calling webhook "slow.kubun.test": failed to call webhook: Post "${url("/slow")}?timeout=1s": context deadline exceeded`);
    expect((await c.kubectl(["get", "configmap", "slow", "-n", "wh-a"])).code).toBe(1);
  });

  test("a caBundle that did not sign the webhook's certificate is refused", async () => {
    // Even with verification turned off for the process by the environment (other test files do that for client-node).
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    afterEachRestore = () => {
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
    };
    await install("Validating", "v-ca", [hook({ name: "ca.kubun.test", url: url("/allow"), ca: certs.otherCAPEM })]);
    const k = await cm("wh-a", "wrong-ca");
    expect(k.code).toBe(1);
    expect(k.stderr).toContain('failed calling webhook "ca.kubun.test": failed to call webhook: Post');
    expect(k.stderr).toContain("x509: certificate signed by unknown authority");
    expect(seen.length).toBe(0);
  });

  test("dry run: webhooks without side effects see dryRun=true; one with side effects refuses the dry run", async () => {
    await install("Mutating", "m-dry", [hook({ name: "dry.kubun.test", url: url("/label/dry=run"), extra: { sideEffects: "NoneOnDryRun" } })]);
    const k = await c.kubectl(["create", "configmap", "dry", "-n", "wh-a", "--dry-run=server", "-o", "json"]);
    expect(k.code).toBe(0);
    expect(JSON.parse(k.stdout).metadata.labels).toEqual({ dry: "run" });
    expect(seen[0].review.request.dryRun).toBe(true);
    expect((await c.kubectl(["get", "configmap", "dry", "-n", "wh-a"])).code).toBe(1);

    // sideEffects Some cannot be created through v1 (as upstream), only kept from older objects: write one to the store.
    const obj = {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: "v-some", uid: crypto.randomUUID(), creationTimestamp: new Date().toISOString() },
      webhooks: [{ ...hook({ name: "some.kubun.test", url: url("/allow") }), sideEffects: "Some", failurePolicy: "Ignore", timeoutSeconds: 10 }],
    };
    await c.store.create("/registry/admissionregistration.k8s.io/validatingwebhookconfigurations/v-some", JSON.stringify(obj));
    created.push("validatingwebhookconfiguration/v-some");
    const refused = await c.kubectl(["create", "configmap", "dry2", "-n", "wh-a", "--dry-run=server"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('admission webhook "some.kubun.test" does not support dry run');
    // Outside dry run it is called as usual.
    expect((await cm("wh-a", "real")).code).toBe(0);
    // A stored configuration keeps its side-effect class on update (as upstream: only new values are checked).
    const labelled = await c.kubectl(["label", "validatingwebhookconfiguration", "v-some", "touched=yes"]);
    expect(labelled.stderr).toBe("");
  });

  test("reinvocationPolicy IfNeeded: a webhook runs again when a later one changed the object", async () => {
    const rules = [{ apiGroups: [""], apiVersions: ["v1"], resources: ["configmaps"], operations: ["CREATE"] }];
    await install("Mutating", "a-count", [hook({ name: "count.kubun.test", url: url("/count"), rules, extra: { reinvocationPolicy: "IfNeeded" } })]);
    await install("Mutating", "b-label", [hook({ name: "later.kubun.test", url: url("/label/later=yes"), rules })]);
    expect((await cm("wh-a", "reinvoked")).code).toBe(0);
    expect(await labelsOf("wh-a", "reinvoked")).toEqual({ count: "2", later: "yes" });
    expect(seen.map((s) => s.path)).toEqual(["/count", "/label/later=yes", "/count"]);
  });

  test("rules: subresources, scope and matchPolicy (events.k8s.io rules see core Events when Equivalent)", async () => {
    const evRule = [{ apiGroups: ["events.k8s.io"], apiVersions: ["v1"], resources: ["events"], operations: ["CREATE"] }];
    await install("Validating", "v-events", [
      hook({ name: "equivalent.kubun.test", url: url("/allow"), rules: evRule }),
      hook({ name: "exact.kubun.test", url: url("/allow"), rules: evRule, extra: { matchPolicy: "Exact" } }),
      hook({ name: "status.kubun.test", url: url("/allow"), rules: [{ apiGroups: ["*"], apiVersions: ["*"], resources: ["*/status"], operations: ["UPDATE"], scope: "Cluster" }] }),
    ]);
    const ev = { apiVersion: "v1", kind: "Event", metadata: { name: "e1" }, involvedObject: { kind: "Pod", name: "p", namespace: "wh-a" }, reason: "R", message: "m", type: "Normal" };
    const res = await c.api("/api/v1/namespaces/wh-a/events", { method: "POST", body: JSON.stringify(ev) });
    expect(res.status).toBe(201);
    expect(seen.length).toBe(1);
    const rq = seen[0].review.request;
    expect(rq.resource).toEqual({ group: "events.k8s.io", version: "v1", resource: "events" });
    expect(rq.requestResource).toEqual({ group: "", version: "v1", resource: "events" });
    expect(rq.object.apiVersion).toBe("events.k8s.io/v1");
    expect(rq.object.note).toBe("m");

    // */status with scope Cluster: a namespace's status, not a configmap.
    seen.length = 0;
    const patch = await c.api("/api/v1/namespaces/wh-b/status", { method: "PATCH", headers: { "Content-Type": "application/merge-patch+json" }, body: JSON.stringify({ metadata: { annotations: { a: "b" } } }) });
    expect(patch.status).toBe(200);
    expect(seen.map((s) => s.review.request.subResource)).toEqual(["status"]);
  });

  test("webhook configurations are exempt: a Fail webhook on everything cannot block its own removal", async () => {
    const dead = "https://127.0.0.1:1/x";
    const all = [{ apiGroups: ["*"], apiVersions: ["*"], resources: ["*/*"], operations: ["*"] }];
    await install("Validating", "v-all", [hook({ name: "all.kubun.test", url: dead, rules: all })]);
    expect((await cm("wh-a", "locked")).code).toBe(1);
    await install("Mutating", "m-other", [hook({ name: "other.kubun.test", url: url("/allow") })]);
    const del = await c.kubectl(["delete", "validatingwebhookconfiguration", "v-all"]);
    expect(del.code).toBe(0);
    expect((await cm("wh-a", "locked")).code).toBe(0);
  });
});

describe("matchPolicy with a CRD's versions", () => {
  test("a rule for v1 sees (and patches) objects written through v2 in its own version when Equivalent", async () => {
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "gadgets.kubun.test" },
      spec: {
        group: "kubun.test",
        scope: "Namespaced",
        names: { kind: "Gadget", plural: "gadgets", singular: "gadget", listKind: "GadgetList" },
        versions: ["v1", "v2"].map((name) => ({ name, served: true, storage: name === "v1", schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { size: { type: "integer" } } } } } } })),
      },
    };
    expect((await c.kubectl(["create", "-f", "-"], { stdin: JSON.stringify(crd) })).code).toBe(0);
    await c.kubectl(["wait", "--for=condition=Established", "crd/gadgets.kubun.test"]);
    const v1Rule = [{ apiGroups: ["kubun.test"], apiVersions: ["v1"], resources: ["gadgets"], operations: ["CREATE"] }];
    await install("Mutating", "m-gadget", [
      hook({ name: "equivalent.kubun.test", url: url("/label/seen=v1"), rules: v1Rule }),
      hook({ name: "exact.kubun.test", url: url("/label/exact=yes"), rules: v1Rule, extra: { matchPolicy: "Exact" } }),
    ]);
    const obj = { apiVersion: "kubun.test/v2", kind: "Gadget", metadata: { name: "g1", namespace: "wh-a" }, spec: { size: 1 } };
    await pollUntil("the gadgets resource", async () => (await c.api("/apis/kubun.test/v2/namespaces/wh-a/gadgets")).status === 200, 10_000);
    const res = await c.api("/apis/kubun.test/v2/namespaces/wh-a/gadgets", { method: "POST", body: JSON.stringify(obj) });
    expect(res.status).toBe(201);
    const created = (await res.json()) as any;
    expect(created.apiVersion).toBe("kubun.test/v2");
    expect(created.metadata.labels).toEqual({ seen: "v1" });
    expect(seen.length).toBe(1);
    const rq = seen[0].review.request;
    expect(rq.kind).toEqual({ group: "kubun.test", version: "v1", kind: "Gadget" });
    expect(rq.requestKind).toEqual({ group: "kubun.test", version: "v2", kind: "Gadget" });
    expect(rq.object.apiVersion).toBe("kubun.test/v1");
    await c.kubectl(["delete", "crd", "gadgets.kubun.test", "--wait=false"]);
  });
});

describe("AdmissionReview versions", () => {
  test("the first version the webhook lists is sent (v1beta1 too); an answer in another version is a call failure", async () => {
    await install("Validating", "v-beta", [hook({ name: "beta.kubun.test", url: url("/allow"), extra: { admissionReviewVersions: ["v1beta1", "v1"] } })]);
    const ok = await cm("wh-a", "beta");
    expect(ok.code).toBe(0);
    expect(seen[0].review.apiVersion).toBe("admission.k8s.io/v1beta1");
    await install("Validating", "v-mismatch", [hook({ name: "mismatch.kubun.test", url: url("/v1only"), extra: { admissionReviewVersions: ["v1beta1"] } })]);
    const bad = await cm("wh-a", "beta2");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('failed calling webhook "mismatch.kubun.test": received invalid webhook response: expected webhook response of admission.k8s.io/v1beta1, Kind=AdmissionReview, got admission.k8s.io/v1, Kind=AdmissionReview');
  });
});

describe("CONNECT", () => {
  test("exec and proxy are admitted with their options objects; a webhook can refuse them", async () => {
    await install("Validating", "v-connect", [
      hook({ name: "connect.kubun.test", url: url("/deny/no%20exec"), rules: [{ apiGroups: [""], apiVersions: ["v1"], resources: ["pods/exec", "services/proxy"], operations: ["CONNECT"] }] }),
    ]);
    await c.kubectl(["create", "serviceaccount", "default", "-n", "wh-a"]); // no controller manager runs here
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "target" }, spec: { containers: [{ name: "c", image: "busybox" }] } };
    expect((await c.api("/api/v1/namespaces/wh-a/pods", { method: "POST", body: JSON.stringify(pod) })).status).toBe(201);
    const res = await c.api("/api/v1/namespaces/wh-a/pods/target/exec?command=ls&command=-l&stdout=true&container=c", { method: "POST" });
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).message).toBe('admission webhook "connect.kubun.test" denied the request: no exec');
    const rq = seen[0].review.request;
    expect(rq).toMatchObject({ operation: "CONNECT", subResource: "exec", name: "target", namespace: "wh-a", kind: { group: "", version: "v1", kind: "PodExecOptions" } });
    expect(rq.object).toEqual({ kind: "PodExecOptions", apiVersion: "v1", stdout: true, container: "c", command: ["ls", "-l"] });
    const k = await c.kubectl(["exec", "-n", "wh-a", "target", "--", "ls"]);
    expect(k.code).not.toBe(0);
    expect(k.stderr).toContain('admission webhook "connect.kubun.test" denied the request: no exec');

    const svc = await c.api("/api/v1/namespaces/wh-a/services/anything:80/proxy/some/path");
    expect(svc.status).toBe(403);
    expect(seen.at(-1).review.request.object).toEqual({ kind: "ServiceProxyOptions", apiVersion: "v1", path: "/some/path" });
  });
});

describe("matchConditions (CEL)", () => {
  test("conditions over object and request select the calls; errors follow failurePolicy; bad expressions are refused", async () => {
    await install("Validating", "v-cel", [
      hook({
        name: "cel.kubun.test",
        url: url("/deny/cel%20says%20no"),
        extra: {
          matchConditions: [
            { name: "prefixed", expression: "object.metadata.name.startsWith('cel-')" },
            { name: "admin", expression: "request.userInfo.username == 'system:admin' && request.operation == 'CREATE'" },
          ],
        },
      }),
    ]);
    expect((await cm("wh-a", "plain-name")).code).toBe(0);
    const denied = await cm("wh-a", "cel-denied");
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('admission webhook "cel.kubun.test" denied the request: cel says no');
    expect(seen.length).toBe(1);

    // An expression that cannot be evaluated (no such key): Fail refuses, Ignore lets the request through.
    const broken = (policy: string) => hook({ name: `broken-${policy.toLowerCase()}.kubun.test`, url: url("/allow"), extra: { failurePolicy: policy, matchConditions: [{ name: "missing", expression: "object.metadata.annotations['x'] == 'y'" }] } });
    await install("Validating", "v-cel-ignore", [broken("Ignore")]);
    expect((await cm("wh-a", "through")).code).toBe(0);
    await install("Validating", "v-cel-fail", [broken("Fail")]);
    const failed = await cm("wh-a", "not-through");
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('failed calling webhook "broken-fail.kubun.test": match condition "missing"');

    const bad = { apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingWebhookConfiguration", metadata: { name: "bad-cel" }, webhooks: [hook({ name: "bad.kubun.test", url: url("/allow"), extra: { matchConditions: [{ name: "x", expression: "object.metadata.name ==" }, { name: "x", expression: "true" }] } })] };
    const r = await c.kubectl(["create", "-f", "-"], { stdin: JSON.stringify(bad) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('webhooks[0].matchConditions[0].expression: Invalid value: "object.metadata.name ==": compilation failed:');
    expect(r.stderr).toContain('webhooks[0].matchConditions[1].name: Duplicate value: "x"');
  });
});

describe("service references", () => {
  test("a webhook behind a Service is reached through its endpoints, its certificate checked for <svc>.<ns>.svc", async () => {
    const ns = await createVethNetns("kwh");
    const nsCerts = makeCerts(join(certs.dir, "svc"), ["DNS:whsvc.default.svc"]);
    const inside: any[] = [];
    const backend = inNetns(ns.path, () =>
      Bun.serve({ port: 0, hostname: ns.nsIP, tls: { cert: readFileSync(nsCerts.certFile, "utf8"), key: readFileSync(nsCerts.keyFile, "utf8") }, fetch: handler(inside) }),
    );
    try {
      await c.kubectl(["create", "-f", "-"], {
        stdin: JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "whsvc", namespace: "default" }, spec: { ports: [{ name: "https", port: 8443, targetPort: backend.port }] } }),
      });
      await c.kubectl(["create", "-f", "-"], {
        stdin: JSON.stringify({ apiVersion: "v1", kind: "Endpoints", metadata: { name: "whsvc", namespace: "default" }, subsets: [{ addresses: [{ ip: ns.nsIP }], ports: [{ name: "https", port: backend.port }] }] }),
      });
      await install("Validating", "v-svc", [
        hook({ name: "svc.kubun.test", service: { namespace: "default", name: "whsvc", port: 8443, path: "/deny/from-service" }, ca: nsCerts.caPEM }),
      ]);
      const k = await cm("wh-a", "via-service");
      expect(k.stderr).toContain('admission webhook "svc.kubun.test" denied the request: from-service');
      expect(inside.length).toBe(1);

      // A service without endpoints fails the call (failurePolicy Fail) with a clear reason.
      await c.kubectl(["delete", "endpoints", "whsvc", "-n", "default"]);
      const none = await cm("wh-a", "via-service");
      expect(none.stderr).toContain('failed calling webhook "svc.kubun.test": could not get REST client: no endpoints available for service "whsvc"');
    } finally {
      backend.stop(true);
      await ns.cleanup();
      await c.kubectl(["delete", "service", "whsvc", "-n", "default", "--ignore-not-found"]);
    }
  });
});
