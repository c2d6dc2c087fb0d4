// Issue 14 (Ingress): networking.k8s.io/v1 Ingress and IngressClass through the API and real kubectl — upstream's
// validation messages, the default class `kubun` and DefaultIngressClass admission, kubectl columns, the status
// controller filling status.loadBalancer.ingress with the nodes' addresses, and the system:kubun-ingress role.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { startEnv, waitFor, type Env } from "../controllers/env.ts";
import { issueNodeCredentials } from "../../internal/auth/nodecreds.ts";

setDefaultTimeout(90_000);
let env: Env;

beforeAll(async () => {
  env = await startEnv({ nodes: 2, scheduler: false, manager: { controllers: ["ingress-status"] } });
});
afterAll(async () => {
  await env?.stop();
});

const k = (args: string[], stdin?: string) => env.cluster.kubectl(args, { stdin });
const ingress = (name: string, spec: unknown, metadata: Record<string, unknown> = {}) =>
  JSON.stringify({ apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name, ...metadata }, spec });
const backend = { service: { name: "web", port: { number: 80 } } };

describe("IngressClass", () => {
  test("the default class kubun exists and kubectl prints its columns", async () => {
    const ic = JSON.parse((await k(["get", "ingressclass", "kubun", "-o", "json"])).stdout);
    expect(ic.spec.controller).toBe("kubun.dev/ingress");
    expect(ic.metadata.annotations["ingressclass.kubernetes.io/is-default-class"]).toBe("true");
    const table = await k(["get", "ingressclasses"]);
    expect(table.stdout.split("\n")[0]!.split(/\s+/)).toEqual(["NAME", "CONTROLLER", "PARAMETERS", "AGE"]);
    expect(table.stdout).toMatch(/kubun\s+kubun\.dev\/ingress\s+<none>\s+/);
  });

  test("validation, defaulting and the immutable controller", async () => {
    const bad = await k(["create", "-f", "-"], JSON.stringify({ apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: { name: "bad" }, spec: { controller: "nodomain" } }));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('spec.controller: Invalid value: "nodomain": must be a domain-prefixed path (such as "acme.io/foo")');
    const ok = await k(["create", "-f", "-", "-o", "json"], JSON.stringify({ apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: { name: "ext" }, spec: { controller: "example.com/ext", parameters: { kind: "Config", name: "c", apiGroup: "example.com" } } }));
    expect(ok.stderr).toBe("");
    expect(JSON.parse(ok.stdout).spec.parameters.scope).toBe("Cluster");
    expect((await k(["get", "ingressclass", "ext"])).stdout).toMatch(/ext\s+example\.com\/ext\s+Config\.example\.com\/c\s+/);
    const patched = await k(["patch", "ingressclass", "ext", "--type=merge", "-p", '{"spec":{"controller":"example.com/other"}}']);
    expect(patched.stderr).toContain("spec.controller: Invalid value: \"example.com/other\": field is immutable");
    await k(["delete", "ingressclass", "ext"]);
  });
});

describe("Ingress", () => {
  test("upstream's validation messages", async () => {
    const cases: [unknown, string][] = [
      [{}, "spec: Invalid value: null: either `defaultBackend` or `rules` must be specified"],
      [{ rules: [{ host: "a.test", http: { paths: [{ path: "/", backend }] } }] }, "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"],
      [{ rules: [{ host: "a.test", http: { paths: [{ path: "/", pathType: "Regex", backend }] } }] }, 'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"'],
      [{ rules: [{ host: "a.test", http: { paths: [{ path: "rel", pathType: "Prefix", backend }] } }] }, 'spec.rules[0].http.paths[0].path: Invalid value: "rel": must be an absolute path'],
      [{ rules: [{ host: "a.test", http: { paths: [{ path: "/a//b", pathType: "Exact", backend }] } }] }, "spec.rules[0].http.paths[0].path: Invalid value: \"/a//b\": must not contain '//'"],
      [{ rules: [{ host: "a.test", http: { paths: [] } }] }, "spec.rules[0].http.paths: Required value"],
      [{ rules: [{ host: "10.0.0.1", http: { paths: [{ path: "/", pathType: "Prefix", backend }] } }] }, 'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address'],
      [{ rules: [{ host: "*.*.test", http: { paths: [{ path: "/", pathType: "Prefix", backend }] } }] }, "a wildcard DNS-1123 subdomain must start with '*.'"],
      [{ defaultBackend: { ...backend, resource: { kind: "Bucket", name: "b" } } }, 'spec.defaultBackend: Invalid value: "": cannot set both resource and service backends'],
      [{ defaultBackend: { service: { name: "web", port: {} } } }, "spec.defaultBackend: Required value: port name or number is required"],
      [{ defaultBackend: { service: { name: "web", port: { name: "http", number: 80 } } } }, 'spec.defaultBackend: Invalid value: "": cannot set both port name & port number'],
      [{ defaultBackend: backend, tls: [{ hosts: ["Bad_Host"], secretName: "s" }] }, 'spec.tls[0].hosts[0]: Invalid value: "Bad_Host": a lowercase RFC 1123 subdomain'],
    ];
    for (const [spec, msg] of cases) {
      const r = await k(["create", "-f", "-"], ingress("bad", spec));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('The Ingress "bad" is invalid');
      expect(r.stderr).toContain(msg);
    }
    const both = await k(["create", "-f", "-"], ingress("bad", { ingressClassName: "kubun", defaultBackend: backend }, { annotations: { "kubernetes.io/ingress.class": "nginx" } }));
    expect(both.stderr).toContain('annotations.kubernetes.io/ingress.class: Invalid value: "nginx": must match `ingressClassName` when both are specified');
  });

  test("no class → the default class; columns; status lists the nodes' addresses", async () => {
    const spec = {
      tls: [{ hosts: ["a.test"], secretName: "a-tls" }],
      rules: ["a.test", "b.test", "c.test", "d.test"].map((host) => ({ host, http: { paths: [{ path: "/", pathType: "Prefix", backend }] } })),
    };
    const created = await k(["create", "-f", "-", "-o", "json"], ingress("web", spec));
    expect(created.stderr).toBe("");
    expect(JSON.parse(created.stdout).spec.ingressClassName).toBe("kubun");
    // The legacy annotation names a class: no default then.
    const legacy = await k(["create", "-f", "-", "-o", "json"], ingress("legacy", { defaultBackend: backend }, { annotations: { "kubernetes.io/ingress.class": "nginx" } }));
    expect(JSON.parse(legacy.stdout).spec.ingressClassName).toBeUndefined();

    const nodes = JSON.parse((await k(["get", "nodes", "-o", "json"])).stdout).items;
    // Hollow nodes may share an address: the list holds each address once.
    const ips = [...new Set<string>(nodes.map((n: any) => n.status.addresses.find((a: any) => a.type === "InternalIP").address))].sort();
    expect(nodes).toHaveLength(2);
    const status = await waitFor("status.loadBalancer.ingress", async () => {
      const r = await k(["get", "ingress", "web", "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}"]);
      return r.stdout.trim() ? r.stdout.trim() : undefined;
    });
    expect(status.split(" ")).toEqual(ips);
    const table = await k(["get", "ingress"]);
    expect(table.stdout.split("\n")[0]!.split(/\s+/)).toEqual(["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]);
    expect(table.stdout).toMatch(new RegExp(`web\\s+kubun\\s+a\\.test,b\\.test,c\\.test \\+ 1 more\\.\\.\\.\\s+${ips.join(",").replaceAll(".", "\\.")}\\s+80, 443\\s+`));
    expect(table.stdout).toMatch(/legacy\s+<none>\s+\*\s+80\s+/);
    // Another controller's Ingress gets no status from kubun.
    expect((await k(["get", "ingress", "legacy", "-o", "jsonpath={.status.loadBalancer}"])).stdout).toBe("{}");
  });
});

describe("kubectl", () => {
  test("apply twice (strategic merge patch of an Ingress), the ing short name, explain from OpenAPI", async () => {
    const first = { rules: [{ host: "p.test", http: { paths: [{ path: "/one", pathType: "Prefix", backend }] } }] };
    expect((await k(["apply", "-f", "-"], ingress("patched", first))).stderr).toBe("");
    const second = { rules: [{ host: "p.test", http: { paths: [{ path: "/two", pathType: "Exact", backend }] } }] };
    const again = await k(["apply", "-f", "-"], ingress("patched", second));
    expect(again.stderr).toBe("");
    expect(again.stdout).toContain("ingress.networking.k8s.io/patched configured");
    const got = JSON.parse((await k(["get", "ing", "patched", "-o", "json"])).stdout);
    expect(got.spec.rules[0].http.paths).toEqual([{ path: "/two", pathType: "Exact", backend }]);
    expect(got.spec.ingressClassName).toBe("kubun");
    const described = await k(["describe", "ingress", "patched"]);
    expect(described.stderr).toBe("");
    expect(described.stdout).toMatch(/Ingress Class:\s+kubun/);
    expect(described.stdout).toMatch(/p\.test\s*\n\s+\/two\s+web:80/);
    const explain = await k(["explain", "ingress.spec.rules.http.paths.pathType"]);
    expect(explain.stdout).toContain("pathType");
    expect(explain.stdout).toContain("ImplementationSpecific");
  });
});

describe("system:kubun-ingress", () => {
  test("reads what the proxy needs and nothing more; each node gets its own credential", async () => {
    const can = async (verb: string, res: string) => (await k(["auth", "can-i", verb, res, "-A", "--as", "system:kubun-ingress"])).stdout.trim();
    for (const r of ["ingresses.networking.k8s.io", "ingressclasses.networking.k8s.io", "services", "endpointslices.discovery.k8s.io", "secrets"]) {
      expect(await can("list", r)).toBe("yes");
      expect(await can("watch", r)).toBe("yes");
    }
    expect(await can("create", "secrets")).toBe("no");
    expect(await can("update", "ingresses.networking.k8s.io")).toBe("no");
    expect(await can("list", "pods")).toBe("no");
    const creds = await issueNodeCredentials(env.cluster.store, "ing-node");
    expect(creds.ingressToken).toMatch(/^kubun-ingress~ing-node~/);
    const who = await env.cluster.api("/apis/authentication.k8s.io/v1/selfsubjectreviews", { method: "POST", token: creds.ingressToken, headers: { "content-type": "application/json" }, body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }) });
    expect((await who.json()).status.userInfo.username).toBe("system:kubun-ingress");
    const secrets = await env.cluster.api("/api/v1/secrets", { token: creds.ingressToken });
    expect(secrets.status).toBe(200);
    // The service proxy's credential (system:kube-proxy) still may not read Secrets.
    expect((await env.cluster.api("/api/v1/secrets", { token: creds.proxyToken })).status).toBe(403);
  });
});
