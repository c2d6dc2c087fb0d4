// NetworkPolicy as an API resource: defaults, upstream's validation errors, `kubectl get netpol` columns.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

let c: TestCluster;
beforeAll(async () => {
  c = await startTestCluster();
}, 60_000);
afterAll(async () => {
  await c?.stop();
});

const post = (body: unknown) =>
  fetch(`${c.localURL}/apis/networking.k8s.io/v1/namespaces/default/networkpolicies`, {
    method: "POST",
    headers: { authorization: `Bearer ${c.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    tls: { ca: c.caPEM },
  } as RequestInit);

const np = (name: string, spec: unknown) => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name }, spec });

describe("NetworkPolicy API", () => {
  test("defaults: policyTypes from the rules, port protocol TCP", async () => {
    const r = await post(np("defaults", { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] }));
    expect(r.status).toBe(201);
    const o: any = await r.json();
    expect(o.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(o.spec.egress[0].ports[0].protocol).toBe("TCP");
    const o2: any = await (await post(np("ingress-only", { podSelector: { matchLabels: { app: "db" } } }))).json();
    expect(o2.spec.policyTypes).toEqual(["Ingress"]);
  });

  test("upstream's validation messages", async () => {
    const r = await post(
      np("bad", {
        podSelector: {},
        policyTypes: ["Ingress", "Sideways"],
        ingress: [
          {
            from: [{}, { ipBlock: { cidr: "10.0.0.0/8", except: ["192.168.0.0/16", "10.0.0.0/8"] }, podSelector: {} }, { ipBlock: { cidr: "nope" } }],
            ports: [{ protocol: "ICMP" }, { port: "http", endPort: 90 }, { port: 100, endPort: 90 }, { endPort: 5 }, { port: 70000 }],
          },
        ],
      }),
    );
    expect(r.status).toBe(422);
    const s: any = await r.json();
    expect(s.reason).toBe("Invalid");
    const causes = s.details.causes.map((x: any) => `${x.field}: ${x.message}`);
    expect(causes).toEqual(
      expect.arrayContaining([
        'spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"',
        "spec.ingress[0].from[0]: Required value: must specify a peer",
        "spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer",
        'spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "192.168.0.0/16": must be a strict subset of `cidr`',
        'spec.ingress[0].from[1].ipBlock.except[1]: Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`',
        'spec.ingress[0].from[2].ipBlock.cidr: Invalid value: "nope": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
        'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
        "spec.ingress[0].ports[1].endPort: Invalid value: 90: may not be specified when `port` is non-numeric",
        "spec.ingress[0].ports[2].endPort: Invalid value: 100: must be greater than or equal to `port`",
        "spec.ingress[0].ports[3].endPort: Invalid value: 5: may not be specified when `port` is not specified",
        "spec.ingress[0].ports[4].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
      ]),
    );
  });

  test("kubectl get netpol shows the pod selector", async () => {
    const r = await c.kubectl(["get", "netpol"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+POD-SELECTOR\s+AGE$/);
    expect(lines.find((l) => l.startsWith("defaults"))).toMatch(/^defaults\s+<none>\s+\S+$/);
    expect(lines.find((l) => l.startsWith("ingress-only"))).toMatch(/^ingress-only\s+app=db\s+\S+$/);
    const exp = await c.kubectl(["explain", "networkpolicy.spec.podSelector"]);
    expect(exp.code).toBe(0); // served in OpenAPI
    expect(exp.stdout).toContain("podSelector selects the pods to which this NetworkPolicy object applies");
    const desc = await c.kubectl(["describe", "netpol", "defaults"]);
    expect(desc.code).toBe(0);
    expect(desc.stdout).toContain("Allowing egress traffic:");
    const bad = await c.kubectl(["create", "-f", "-"], { stdin: JSON.stringify(np("bad-cli", { podSelector: {}, policyTypes: ["Sideways"] })) });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toBe('The NetworkPolicy "bad-cli" is invalid: spec.policyTypes[0]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"');
  }, 30_000);
});
