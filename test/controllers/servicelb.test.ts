// ServiceLB's decisions without a cluster: which nodes serve, which Service loses a port, `--disable servicelb`.
import { describe, expect, test } from "bun:test";
import type { Node, Service } from "kubernetes-types/core/v1";
import { CONTROLLERS, enabledControllers } from "../../internal/controllers/registry.ts";
import { isOurs, poolNodes, portConflicts, reservedPorts, servingNodes } from "../../internal/controllers/servicelb/controller.ts";

const node = (name: string, ip: string, labels: Record<string, string> = {}, ready = true, external?: string): Node => ({
  metadata: { name, labels },
  status: {
    addresses: [{ type: "InternalIP", address: ip }, ...(external ? [{ type: "ExternalIP", address: external }] : [])],
    conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
  },
});
const svc = (name: string, created: string, ports: [number, string][], spec: Partial<Service["spec"]> = {}): Service => ({
  metadata: { name, namespace: "default", creationTimestamp: created },
  spec: { type: "LoadBalancer", ports: ports.map(([port, protocol]) => ({ port, protocol })), ...spec },
});

describe("servicelb", () => {
  test("pool: Ready nodes (ExternalIP first); only enablelb=true ones once any node has the label", () => {
    const nodes = [node("a", "10.0.0.1"), node("b", "10.0.0.2", {}, false), node("c", "10.0.0.3", {}, true, "203.0.113.3")];
    expect([...poolNodes(nodes)]).toEqual([["a", "10.0.0.1"], ["c", "203.0.113.3"]]);
    nodes[2]!.metadata!.labels = { "svccontroller.k3s.cattle.io/enablelb": "true" };
    expect([...poolNodes(nodes)]).toEqual([["c", "203.0.113.3"]]);
  });

  test("conflicts: the older Service keeps a port/protocol; a Service left without status holds none; UDP is separate", () => {
    const s = [svc("late", "2026-01-02T00:00:00Z", [[80, "TCP"], [8443, "TCP"]]), svc("early", "2026-01-01T00:00:00Z", [[80, "TCP"]]), svc("udp", "2026-01-03T00:00:00Z", [[80, "UDP"]]), svc("later", "2026-01-04T00:00:00Z", [[8443, "TCP"]])];
    const c = portConflicts(s);
    expect(c.get("default/late")).toEqual({ port: "80/TCP", holder: "default/early" });
    expect(c.has("default/udp")).toBe(false);
    expect(c.has("default/later")).toBe(false); // "late" got nothing, so 8443 is free
    // Another class's Services take no part.
    expect(portConflicts([svc("x", "2026-01-01T00:00:00Z", [[80, "TCP"]], { loadBalancerClass: "example.com/lb" }), svc("y", "2026-01-02T00:00:00Z", [[80, "TCP"]])]).size).toBe(0);
  });

  test("the API server's and the kubelet's ports are never taken", () => {
    const reserved = reservedPorts([6443]);
    const c = portConflicts([svc("api", "2026-01-01T00:00:00Z", [[6443, "TCP"]]), svc("kubelet", "2026-01-01T00:00:00Z", [[10250, "TCP"]]), svc("fine", "2026-01-01T00:00:00Z", [[6443, "UDP"]])], reserved);
    expect(c.get("default/api")).toEqual({ port: "6443/TCP", holder: "the API server" });
    expect(c.get("default/kubelet")).toEqual({ port: "10250/TCP", holder: "the kubelet" });
    expect(c.has("default/fine")).toBe(false);
  });

  test("ours: LoadBalancers without a class or with kubun's", () => {
    expect(isOurs(svc("a", "", [[80, "TCP"]]))).toBe(true);
    expect(isOurs(svc("a", "", [[80, "TCP"]], { loadBalancerClass: "kubun.dev/servicelb" }))).toBe(true);
    expect(isOurs(svc("a", "", [[80, "TCP"]], { loadBalancerClass: "example.com/lb" }))).toBe(false);
    expect(isOurs(svc("a", "", [[80, "TCP"]], { type: "NodePort" }))).toBe(false);
  });

  test("ingress-proxy nodes keep 80/443 TCP", () => {
    const nodes = [node("a", "10.0.0.1", { "kubun.dev/ingress": "true" }), node("b", "10.0.0.2", { "kubun.dev/ingress": "false" })];
    expect([...servingNodes(svc("web", "", [[80, "TCP"]]), nodes).keys()]).toEqual(["b"]);
    expect([...servingNodes(svc("web", "", [[8080, "TCP"]]), nodes).keys()]).toEqual(["a", "b"]);
    expect([...servingNodes(svc("dns", "", [[443, "UDP"]]), nodes).keys()]).toEqual(["a", "b"]);
  });

  test("--disable servicelb leaves every other controller running", () => {
    const names = enabledControllers({ disabled: ["servicelb"] }).map((c) => c.name);
    expect(names).not.toContain("servicelb");
    expect(names.length).toBe(CONTROLLERS.length - 1);
    expect(enabledControllers({}).map((c) => c.name)).toContain("servicelb");
  });
});
