// Issue #10 item 9 (API server): discovery's storageVersionHash, and upstream's error texts for a body that is
// not an object of the kind and for a strategic merge patch that gives a map a string.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { goJSONSyntaxError, summarizeBody } from "../../internal/apiserver/gojson.ts";
import { goValueString } from "../../internal/apiserver/handlers/patcherrors.ts";
import { hashGVK } from "../../internal/apiserver/storageversion.ts";
import { kubectlOK, startTestCluster, type TestCluster } from "../helpers/cluster.ts";

setDefaultTimeout(60_000);
let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster();
  await ok(["create", "serviceaccount", "default"]);
});
afterAll(async () => {
  await c?.stop();
});

function ok(args: string[], stdin?: string): Promise<string> {
  return kubectlOK(c, args, stdin);
}

const POD = `apiVersion: v1
kind: Pod
metadata: {name: valid-pod, labels: {name: valid-pod}}
spec:
  containers: [{name: kubernetes-serve-hostname, image: registry.k8s.io/serve_hostname}]
`;

describe("discovery storageVersionHash", () => {
  test("is upstream's base64(sha256(group/version/kind)[:8]) on stored resources only", async () => {
    // Values a real kube-apiserver reports.
    expect(hashGVK("", "v1", "Pod")).toBe("xPOwRZ+Yhw8=");
    expect(hashGVK("apps", "v1", "Deployment")).toBe("8aSe+NMegvE=");
    expect(hashGVK("", "v1", "ConfigMap")).toBe("qFsyl6wFWjQ=");

    const core = JSON.parse(await ok(["get", "--raw", "/api/v1"]));
    const byName = (list: any, name: string) => list.resources.find((r: any) => r.name === name);
    expect(byName(core, "pods").storageVersionHash).toBe("xPOwRZ+Yhw8=");
    expect(byName(core, "pods/status").storageVersionHash).toBeUndefined();
    expect(byName(core, "bindings").storageVersionHash).toBeUndefined();
    const apps = JSON.parse(await ok(["get", "--raw", "/apis/apps/v1"]));
    expect(byName(apps, "deployments").storageVersionHash).toBe("8aSe+NMegvE=");
    const events = JSON.parse(await ok(["get", "--raw", "/apis/events.k8s.io/v1"]));
    // events.k8s.io Events live in the core Events' storage.
    expect(byName(events, "events").storageVersionHash).toBe(byName(core, "events").storageVersionHash);
    const authz = JSON.parse(await ok(["get", "--raw", "/apis/authorization.k8s.io/v1"]));
    expect(byName(authz, "subjectaccessreviews").storageVersionHash).toBeUndefined();
  });
});

describe("error texts", () => {
  test("posting a YAML Pod as JSON to namespaces: the object provided is unrecognized (must be of type Namespace)", async () => {
    // upstream test/cmd create.sh: kubectl create --raw /api/v1/namespaces -f valid-pod.yaml
    const r = await c.kubectl(["create", "--raw", "/api/v1/namespaces", "-f", "-"], { stdin: POD });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("the object provided is unrecognized (must be of type Namespace)");
    const res = await c.api("/api/v1/namespaces", { method: "POST", body: POD, headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(400);
    const s = (await res.json()) as any;
    expect(s.reason).toBe("BadRequest");
    expect(s.message).toBe(
      "the object provided is unrecognized (must be of type Namespace): couldn't get version/kind; json parse error: invalid character 'a' looking for beginning of value (61706956657273696f6e3a2076310a6b696e643a20506f640a6d65746164 ...)",
    );
    const arr = await c.api("/api/v1/namespaces", { method: "POST", body: "[1]", headers: { "Content-Type": "application/json" } });
    expect(((await arr.json()) as any).message).toBe(
      `the object provided is unrecognized (must be of type Namespace): couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" } (5b315d)`,
    );
  });

  test("a strategic merge patch giving labels a string: cannot restore map from string", async () => {
    await ok(["create", "-f", "-"], POD);
    // upstream test/cmd core.sh: kubectl patch pod valid-pod -p='{"metadata":{"labels":"invalid"}}'
    const r = await c.kubectl(["patch", "pod", "valid-pod", "-p", '{"metadata":{"labels":"invalid"}}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("cannot restore map from string");
    const res = await c.api("/api/v1/namespaces/default/pods/valid-pod", {
      method: "PATCH",
      body: '{"metadata":{"labels":"invalid"}}',
      headers: { "Content-Type": "application/strategic-merge-patch+json" },
    });
    expect(res.status).toBe(422);
    const s = (await res.json()) as any;
    expect(s.message).toBe('Pod "" is invalid: patch: Invalid value: "map[metadata:map[labels:invalid]]": cannot restore map from string');
    expect(s.details).toEqual({ kind: "Pod", causes: [{ reason: "FieldValueInvalid", message: 'Invalid value: "map[metadata:map[labels:invalid]]": cannot restore map from string', field: "patch" }] });
    // The no-op patch from the same upstream test.
    expect(await ok(["patch", "pod", "valid-pod", "-p", '{"metadata":{"labels":{"name":"valid-pod"}}}'])).toBe("pod/valid-pod patched (no change)\n");
  });

  test("Go's JSON syntax errors and body summaries", () => {
    expect(goJSONSyntaxError('{"a":1}')).toBeUndefined();
    expect(goJSONSyntaxError("")).toBe("unexpected end of JSON input");
    expect(goJSONSyntaxError('{"a":1')).toBe("unexpected end of JSON input");
    expect(goJSONSyntaxError("{a:1}")).toBe("invalid character 'a' looking for beginning of object key string");
    expect(goJSONSyntaxError('{"a" 1}')).toBe("invalid character '1' after object key");
    expect(goJSONSyntaxError('{"a":1 "b":2}')).toBe(`invalid character '"' after object key:value pair`);
    expect(goJSONSyntaxError("[1 2]")).toBe("invalid character '2' after array element");
    expect(goJSONSyntaxError("tru")).toBe("unexpected end of JSON input");
    expect(goJSONSyntaxError("trux")).toBe("invalid character 'x' in literal true (expecting 'e')");
    expect(goJSONSyntaxError("{} x")).toBe("invalid character 'x' after top-level value");
    expect(summarizeBody(new TextEncoder().encode('{"kind":"Pod"}'))).toBe('{"kind":"Pod"}');
    expect(goValueString({ b: [1, "x"], a: { c: null, d: true } })).toBe("map[a:map[c:<nil> d:true] b:[1 x]]");
  });
});
