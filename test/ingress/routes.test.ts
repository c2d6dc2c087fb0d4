// The ingress proxy's routing table: host and path matching as upstream defines it.
import { describe, expect, test } from "bun:test";
import type { Ingress, IngressClass } from "kubernetes-types/networking/v1";
import { buildRoutes, isOurs, normalizeHost } from "../../internal/ingress/routes.ts";
import { EndpointPicker } from "../../internal/ingress/backends.ts";
import { ingressAddresses } from "../../internal/controllers/ingress/controller.ts";
import { collectCerts } from "../../internal/ingress/tls.ts";
import { run } from "../../internal/runtime/run.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const kubun: IngressClass = { metadata: { name: "kubun", annotations: { "ingressclass.kubernetes.io/is-default-class": "true" } }, spec: { controller: "kubun.dev/ingress" } };
const other: IngressClass = { metadata: { name: "nginx" }, spec: { controller: "k8s.io/ingress-nginx" } };
const be = (name: string) => ({ service: { name, port: { number: 80 } } });
const ing = (name: string, spec: Ingress["spec"], extra: Partial<Ingress["metadata"]> = {}): Ingress => ({
  metadata: { name, namespace: "default", creationTimestamp: `2026-01-01T00:00:0${name.length % 10}Z`, ...extra },
  spec: { ingressClassName: "kubun", ...spec },
});
const svcOf = (r: ReturnType<ReturnType<typeof buildRoutes>["match"]>) => r?.backend.service?.name;

describe("routes", () => {
  const t = buildRoutes(
    [
      ing("a", {
        rules: [
          {
            host: "foo.example.com",
            http: {
              paths: [
                { path: "/", pathType: "Prefix", backend: be("root") },
                { path: "/foo", pathType: "Prefix", backend: be("foo") },
                { path: "/foo/bar", pathType: "Exact", backend: be("foobar-exact") },
                { path: "/foo/bar", pathType: "Prefix", backend: be("foobar-prefix") },
                { path: "/app/", pathType: "ImplementationSpecific", backend: be("app") },
              ],
            },
          },
          { host: "*.wild.test", http: { paths: [{ path: "/", pathType: "Prefix", backend: be("wild") }] } },
          { http: { paths: [{ path: "/any", pathType: "Exact", backend: be("any") }] } },
        ],
      }),
      ing("b", { defaultBackend: be("default") }),
      ing("c", { ingressClassName: "nginx", rules: [{ host: "nginx.test", http: { paths: [{ path: "/", pathType: "Prefix", backend: be("nginx") }] } }] }),
    ],
    [kubun, other],
  );

  test("Prefix is element-wise, longest wins, Exact beats Prefix of the same path", () => {
    expect(svcOf(t.match("foo.example.com", "/"))).toBe("root");
    expect(svcOf(t.match("foo.example.com", "/foo"))).toBe("foo");
    expect(svcOf(t.match("foo.example.com", "/foo/"))).toBe("foo");
    expect(svcOf(t.match("foo.example.com", "/foobar"))).toBe("root");
    expect(svcOf(t.match("foo.example.com", "/foo/bar"))).toBe("foobar-exact");
    expect(svcOf(t.match("foo.example.com", "/foo/bar/"))).toBe("foobar-prefix");
    expect(svcOf(t.match("foo.example.com", "/foo/bar/baz"))).toBe("foobar-prefix");
    expect(svcOf(t.match("foo.example.com", "/app"))).toBe("app");
    expect(svcOf(t.match("FOO.example.com:8080", "/foo"))).toBe("foo");
  });

  test("wildcards cover one label; host-less rules and the default backend catch the rest; other classes are ignored", () => {
    expect(svcOf(t.match("a.wild.test", "/x"))).toBe("wild");
    expect(svcOf(t.match("a.b.wild.test", "/x"))).toBe("default");
    expect(svcOf(t.match("wild.test", "/x"))).toBe("default");
    expect(svcOf(t.match("unknown.test", "/any"))).toBe("any");
    expect(svcOf(t.match("unknown.test", "/any/more"))).toBe("default");
    expect(svcOf(t.match("nginx.test", "/"))).toBe("default");
  });

  test("no default backend: unknown hosts match nothing (404)", () => {
    const t2 = buildRoutes([ing("a", { rules: [{ host: "x.test", http: { paths: [{ path: "/", pathType: "Prefix", backend: be("x") }] } }] })], [kubun]);
    expect(t2.match("y.test", "/")).toBeUndefined();
    expect(svcOf(t2.match("x.test", "/z"))).toBe("x");
  });

  test("class selection: field, legacy annotation, none while kubun is default", () => {
    expect(isOurs(ing("a", { ingressClassName: undefined }), [kubun])).toBe(true);
    expect(isOurs(ing("a", { ingressClassName: undefined }), [{ ...kubun, metadata: { name: "kubun" } }])).toBe(false);
    expect(isOurs(ing("a", { ingressClassName: undefined }, { annotations: { "kubernetes.io/ingress.class": "nginx" } }), [kubun, other])).toBe(false);
    expect(isOurs(ing("a", { ingressClassName: "nginx" }), [kubun, other])).toBe(false);
    expect(normalizeHost("[::1]:80")).toBe("[::1]");
  });

  test("ssl-redirect only for hosts with TLS", () => {
    const t3 = buildRoutes(
      [ing("a", { tls: [{ hosts: ["s.test"], secretName: "c" }], rules: ["s.test", "p.test"].map((host) => ({ host, http: { paths: [{ path: "/", pathType: "Prefix" as const, backend: be(host) }] } })) }, { annotations: { "kubun.dev/ssl-redirect": "true" } })],
      [kubun],
    );
    expect(t3.match("s.test", "/")?.sslRedirect).toBe(true);
    expect(t3.match("p.test", "/")?.sslRedirect).toBe(false);
  });
});

describe("endpoints", () => {
  test("ready endpoints of the named service port, round robin", () => {
    const picker = new EndpointPicker({
      service: () => ({ spec: { ports: [{ name: "web", port: 80 }, { name: "other", port: 81 }] } }),
      slices: () => [
        {
          addressType: "IPv4",
          ports: [{ name: "web", port: 8080 }, { name: "other", port: 9090 }],
          endpoints: [
            { addresses: ["10.42.0.2"], conditions: { ready: true } },
            { addresses: ["10.42.0.3"], conditions: { ready: false } },
            { addresses: ["10.42.0.4"] },
          ],
        } as any,
      ],
    });
    const a = picker.endpoints("default", { name: "s", port: { name: "web" } });
    const b = picker.endpoints("default", { name: "s", port: { number: 80 } });
    expect(a.map((e) => `${e.ip}:${e.port}`)).toEqual(["10.42.0.2:8080", "10.42.0.4:8080"]);
    expect(b.map((e) => `${e.ip}:${e.port}`)).toEqual(["10.42.0.4:8080", "10.42.0.2:8080"]);
    expect(picker.endpoints("default", { name: "s", port: { number: 82 } })).toEqual([]);
  });

  test("lists are kept between Service/EndpointSlice changes and recomputed on the next one", () => {
    let version = 0;
    let computed = 0;
    let ready = ["10.42.0.2", "10.42.0.3", "10.42.0.4"];
    const picker = new EndpointPicker({
      service: () => ({ spec: { ports: [{ name: "web", port: 80 }] } }),
      slices: () => {
        computed++;
        return [{ addressType: "IPv4", ports: [{ name: "web", port: 8080 }], endpoints: ready.map((ip) => ({ addresses: [ip] })) } as any];
      },
      version: () => version,
    });
    const pick = () => picker.endpoints("default", { name: "s", port: { number: 80 } }).map((e) => e.ip);
    // Round robin goes on over the cached list; a caller changing the answer does not change the cache.
    const first = pick();
    first.length = 0;
    expect([pick(), pick(), pick()]).toEqual([
      ["10.42.0.3", "10.42.0.4", "10.42.0.2"],
      ["10.42.0.4", "10.42.0.2", "10.42.0.3"],
      ["10.42.0.2", "10.42.0.3", "10.42.0.4"],
    ]);
    expect(computed).toBe(1);
    // An endpoint that stops being ready is gone from the very next pick after the change.
    ready = ["10.42.0.2", "10.42.0.4"];
    version++;
    const [p1, p2] = [pick(), pick()];
    expect([...p1].sort()).toEqual(["10.42.0.2", "10.42.0.4"]);
    expect(p2).toEqual([p1[1], p1[0]]);
    expect(computed).toBe(2);
    ready = ["10.42.0.9"];
    version++;
    const one = pick();
    one.push("mutated");
    expect(pick()).toEqual(["10.42.0.9"]);
    // Without a version the list is computed on every call (nothing could tell the cache it is stale).
    let plain = 0;
    const uncached = new EndpointPicker({ service: () => ({ spec: { ports: [{ port: 80 }] } }), slices: () => (plain++, []) });
    uncached.endpoints("default", { name: "s", port: { number: 80 } });
    uncached.endpoints("default", { name: "s", port: { number: 80 } });
    expect(plain).toBe(2);
  });
});

describe("status addresses", () => {
  test("Ready nodes that serve ingress, ExternalIP before InternalIP, each once, sorted", () => {
    const node = (name: string, addrs: [string, string][], ready = "True", labels: Record<string, string> = {}) => ({
      metadata: { name, labels },
      status: { addresses: addrs.map(([type, address]) => ({ type, address })), conditions: [{ type: "Ready", status: ready }] },
    });
    expect(
      ingressAddresses([
        node("b", [["InternalIP", "10.0.0.2"]]),
        node("a", [["InternalIP", "10.0.0.1"], ["ExternalIP", "192.0.2.1"]], "True", { "kubun.dev/ingress": "true" }),
        node("c", [["InternalIP", "10.0.0.3"]], "False"),
        node("d", [["InternalIP", "10.0.0.4"]], "True", { "kubun.dev/ingress": "false" }),
        node("e", [["InternalIP", "10.0.0.2"]]),
      ] as any),
    ).toEqual([{ ip: "10.0.0.2" }, { ip: "192.0.2.1" }]);
  });
});

describe("TLS certificates", () => {
  test("per host from kubernetes.io/tls Secrets; a broken or mismatched Secret is skipped, the others load", async () => {
    const dir = tempDir("kubun-ingress-certs-");
    const pair = async (name: string, host: string) => {
      await run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, `${name}.key`), "-out", join(dir, `${name}.crt`), "-subj", `/CN=${host}`, "-days", "1"]);
      return { cert: readFileSync(join(dir, `${name}.crt`), "utf8"), key: readFileSync(join(dir, `${name}.key`), "utf8") };
    };
    const a = await pair("a", "a.test");
    const b = await pair("b", "b.test");
    rmSync(dir, { recursive: true, force: true });
    const secret = (p: { cert: string; key: string }) => ({ type: "kubernetes.io/tls", data: { "tls.crt": btoa(p.cert), "tls.key": btoa(p.key) } });
    const secrets: Record<string, any> = {
      "ns/a": secret(a),
      "ns/mixed": secret({ cert: a.cert, key: b.key }),
      "ns/garbage": secret({ cert: "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n", key: b.key }),
    };
    const rejected: string[] = [];
    const certs = collectCerts(
      [
        {
          metadata: { name: "i", namespace: "ns" },
          spec: { tls: [{ hosts: ["A.test", "*.w.test"], secretName: "a" }, { hosts: ["m.test"], secretName: "mixed" }, { hosts: ["g.test"], secretName: "garbage" }, { hosts: ["x.test"], secretName: "missing" }] },
        },
      ],
      (ns, name) => secrets[`${ns}/${name}`],
      (ns, name) => rejected.push(`${ns}/${name}`),
    );
    expect(certs.map((c) => c.serverName)).toEqual(["*.w.test", "a.test"]);
    expect(certs[0]!.cert).toBe(a.cert);
    expect(rejected.sort()).toEqual(["ns/garbage", "ns/mixed"]);
  });
});
