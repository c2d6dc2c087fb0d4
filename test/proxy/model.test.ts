// Pure parts of the proxy: which endpoints a service port uses, and the rules rendered for them.
import { describe, expect, test } from "bun:test";
import type { Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import { servicePorts } from "../../internal/proxy/model.ts";
import { transaction } from "../../internal/proxy/nft.ts";
import { renderRuleset } from "../../internal/proxy/render.ts";

const svc = (spec: Partial<Service["spec"]>, name = "web"): Service => ({
  metadata: { name, namespace: "ns1" },
  spec: { type: "ClusterIP", clusterIP: "10.43.0.10", ports: [{ name: "http", port: 80, protocol: "TCP" }], ...spec },
});
type Ep = NonNullable<EndpointSlice["endpoints"]>[number];
const slice = (endpoints: Ep[], ports: EndpointSlice["ports"] = [{ name: "http", port: 8080, protocol: "TCP" }]): EndpointSlice => ({
  metadata: { name: "web-x", namespace: "ns1", labels: { "kubernetes.io/service-name": "web" } },
  addressType: "IPv4",
  ports,
  endpoints,
});
const ep = (ip: string, conditions?: Ep["conditions"], nodeName?: string): Ep => ({ addresses: [ip], conditions, nodeName });
const opts = { nodeName: "n1", clusterCIDR: "10.42.0.0/16", serviceCIDR: "10.43.0.0/16" };

describe("servicePorts", () => {
  test("headless and ExternalName Services get no rules", () => {
    expect(servicePorts(svc({ clusterIP: "None" }), [slice([ep("10.42.0.2")])])).toEqual([]);
    expect(servicePorts(svc({ type: "ExternalName", externalName: "example.org", clusterIP: undefined }), [])).toEqual([]);
  });

  test("ready endpoints only; unknown readiness counts as ready; duplicates across slices once", () => {
    const [p] = servicePorts(svc({}), [
      slice([ep("10.42.0.3", { ready: false }), ep("10.42.0.2"), ep("10.42.0.4", { ready: true })]),
      slice([ep("10.42.0.2", { ready: true })]),
    ]);
    expect(p!.endpoints.map((e) => `${e.ip}:${e.port}`)).toEqual(["10.42.0.2:8080", "10.42.0.4:8080"]);
  });

  test("no ready endpoint → the serving terminating ones; none of those → no endpoints", () => {
    const [p] = servicePorts(svc({}), [slice([ep("10.42.0.2", { ready: false, serving: true, terminating: true }), ep("10.42.0.3", { ready: false, serving: false, terminating: true }), ep("10.42.0.4", { ready: false })])]);
    expect(p!.endpoints.map((e) => e.ip)).toEqual(["10.42.0.2"]);
    const [q] = servicePorts(svc({}), [slice([ep("10.42.0.3", { ready: false, serving: false, terminating: true })])]);
    expect(q!.endpoints).toEqual([]);
  });

  test("ports match the slice by name and protocol; NodePorts only for NodePort/LoadBalancer", () => {
    const s = svc({ type: "NodePort", ports: [{ name: "http", port: 80, nodePort: 30080 }, { name: "dns", port: 53, protocol: "UDP", nodePort: 30053 }] });
    const ports = servicePorts(s, [slice([ep("10.42.0.2")], [{ name: "http", port: 8080 }, { name: "dns", port: 5353, protocol: "UDP" }])]);
    expect(ports.map((p) => [p.id, p.protocol, p.nodePort, p.endpoints[0]?.port])).toEqual([
      ["ns1/web/tcp/http", "tcp", 30080, 8080],
      ["ns1/web/udp/dns", "udp", 30053, 5353],
    ]);
    expect(servicePorts(svc({ ports: [{ name: "http", port: 80, nodePort: 30080 }] }), [])[0]!.nodePort).toBeUndefined();
  });
});

describe("renderRuleset", () => {
  test("a service port: map entry → numgen over endpoint chains → dnat, with masquerade marks", () => {
    const r = renderRuleset(servicePorts(svc({}), [slice([ep("10.42.0.2"), ep("10.42.0.3")])]), opts);
    expect(r.text).toContain("10.43.0.10 . tcp . 80 : goto svc-ns1/web/tcp/http");
    expect(r.text).toContain("numgen random mod 2 vmap { 0 : goto ep-ns1/web/tcp/http__10.42.0.2/8080, 1 : goto ep-ns1/web/tcp/http__10.42.0.3/8080 }");
    expect(r.text).toContain("ip saddr != 10.42.0.0/16 jump mark-for-masquerade");
    expect(r.text).toContain("ip saddr 10.42.0.2 jump mark-for-masquerade;\n    meta l4proto tcp dnat to 10.42.0.2:8080;");
    expect(r.text).toContain("ip daddr 10.43.0.0/16 drop");
  });

  test("externalIPs go through the external chain (masqueraded), the ClusterIP straight to the service chain", () => {
    const r = renderRuleset(servicePorts(svc({ externalIPs: ["192.0.2.7"] }), [slice([ep("10.42.0.2")])]), opts);
    expect(r.text).toContain("192.0.2.7 . tcp . 80 : goto ext-ns1/web/tcp/http");
    expect(r.text).toContain("10.43.0.10 . tcp . 80 : goto svc-ns1/web/tcp/http");
    expect(r.text).toContain("chain ext-ns1/web/tcp/http {\n    jump mark-for-masquerade;\n    goto svc-ns1/web/tcp/http;");
  });

  test("LoadBalancer ingress IPs are served as externalIPs; the same address/port of a second Service is skipped; other types ignore a stale status", () => {
    const lb = (name: string, ips: string[]): Service => ({ ...svc({ type: "LoadBalancer", clusterIP: name === "web" ? "10.43.0.10" : "10.43.0.11" }, name), status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } });
    const ports = [...servicePorts(lb("web", ["172.31.0.1", "172.31.0.2"]), [slice([ep("10.42.0.2")])]), ...servicePorts(lb("web2", ["172.31.0.2"]), [slice([ep("10.42.0.3")])])];
    const r = renderRuleset(ports, opts);
    expect(r.text).toContain("172.31.0.1 . tcp . 80 : goto ext-ns1/web/tcp/http");
    expect(r.text).toContain("172.31.0.2 . tcp . 80 : goto ext-ns1/web/tcp/http");
    expect(r.text).not.toContain("172.31.0.2 . tcp . 80 : goto ext-ns1/web2");
    const none = renderRuleset(servicePorts(lb("web", []), []), opts);
    expect(none.text).not.toContain("172.31.0.1");
    const noEndpoints = renderRuleset(servicePorts(lb("web", ["172.31.0.1"]), []), opts);
    expect(noEndpoints.text).toContain("172.31.0.1 . tcp . 80 : goto reject-chain");
    expect(servicePorts({ ...lb("web", ["172.31.0.1"]), spec: { ...lb("web", []).spec!, type: "ClusterIP" } }, [])[0]!.loadBalancerIPs).toEqual([]);
    const proxied: Service = { ...lb("web", []), status: { loadBalancer: { ingress: [{ ip: "172.31.0.9", ipMode: "Proxy" } as any, { ip: "172.31.0.8" }] } } };
    expect(servicePorts(proxied, [])[0]!.loadBalancerIPs).toEqual(["172.31.0.8"]);
  });

  test("no endpoints → reject entries, no service chain", () => {
    const r = renderRuleset(servicePorts(svc({ type: "NodePort", ports: [{ name: "http", port: 80, nodePort: 30080 }] }), []), opts);
    expect(r.text).toContain("10.43.0.10 . tcp . 80 : goto reject-chain");
    expect(r.text).toContain("tcp . 30080 : goto reject-chain");
    expect([...r.chains].some((c) => c.startsWith("svc-"))).toBe(false);
  });

  test("externalTrafficPolicy Local: outside traffic only to this node's endpoints, dropped when there are none", () => {
    const s = svc({ type: "NodePort", externalTrafficPolicy: "Local", ports: [{ name: "http", port: 80, nodePort: 30080 }] });
    const r = renderRuleset(servicePorts(s, [slice([ep("10.42.0.2", {}, "n1"), ep("10.42.1.2", {}, "n2")])]), opts);
    expect(r.text).toContain("chain svl-ns1/web/tcp/http {\n    numgen random mod 1 vmap { 0 : goto ep-ns1/web/tcp/http__10.42.0.2/8080 };");
    expect(r.text).toContain("goto svl-ns1/web/tcp/http;");
    const none = renderRuleset(servicePorts(s, [slice([ep("10.42.1.2", {}, "n2")])]), opts);
    expect(none.text).toContain("goto drop-chain;");
  });

  test("the update transaction deletes gone chains and affinity sets whose timeout changed, keeps the rest", () => {
    const a = renderRuleset(servicePorts(svc({ sessionAffinity: "ClientIP" }), [slice([ep("10.42.0.2"), ep("10.42.0.3")])]), opts);
    const b = renderRuleset(servicePorts(svc({ sessionAffinity: "ClientIP" }), [slice([ep("10.42.0.2")])]), opts);
    const tx = transaction(b, a);
    expect(tx).toContain("delete chain ip kubun ep-ns1/web/tcp/http__10.42.0.3/8080");
    expect(tx).toContain("delete set ip kubun aff-ns1/web/tcp/http__10.42.0.3/8080");
    expect(tx).not.toContain("delete set ip kubun aff-ns1/web/tcp/http__10.42.0.2/8080");
    expect(tx).not.toContain("delete table");
    const c = renderRuleset(servicePorts(svc({ sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }), [slice([ep("10.42.0.2")])]), opts);
    expect(transaction(c, b)).toContain("delete set ip kubun aff-ns1/web/tcp/http__10.42.0.2/8080");
    expect(transaction(c).startsWith("add table ip kubun\ndelete table ip kubun\ntable ip kubun {")).toBe(true);
  });
});
