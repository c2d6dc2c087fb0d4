// NetworkPolicy → per-pod rules → nft text, without a cluster (internal/netpol/model.ts, render.ts).
import { describe, expect, test } from "bun:test";
import type { Namespace, Pod } from "kubernetes-types/core/v1";
import type { NetworkPolicy } from "kubernetes-types/networking/v1";
import { podInfo, podPolicies, type PodInfo } from "../../internal/netpol/model.ts";
import { renderNetpol } from "../../internal/netpol/render.ts";

const pod = (ns: string, name: string, ip: string, labels: Record<string, string>, node = "n1", ports: PodInfo["namedPorts"] = []): PodInfo => ({ namespace: ns, name, ip, labels, nodeName: node, namedPorts: ports });
const nsObj = (name: string, labels: Record<string, string> = {}): Namespace => ({ metadata: { name, labels } });
const np = (ns: string, name: string, spec: NetworkPolicy["spec"]): NetworkPolicy => ({ metadata: { namespace: ns, name }, spec });

const web = pod("a", "web", "10.42.1.2", { app: "web" }, "n1", [{ name: "http", port: 8080, protocol: "tcp" }]);
const cli = pod("a", "cli", "10.42.1.3", { role: "client" });
const far = pod("b", "far", "10.42.2.3", { role: "client" }, "n2", [{ name: "http", port: 9000, protocol: "tcp" }]);
const plain = pod("b", "plain", "10.42.2.4", {}, "n2");
const pods = [web, cli, far, plain];
const namespaces = [nsObj("a"), nsObj("b", { team: "x" })];

describe("netpol model", () => {
  test("unselected pods get nothing; a policy with no rules isolates (default deny)", () => {
    expect(podPolicies({ policies: [], pods, namespaces }, "n1")).toEqual([]);
    const r = podPolicies({ policies: [np("a", "deny", { podSelector: {}, policyTypes: ["Ingress"] })], pods, namespaces }, "n1");
    expect(r.map((p) => p.id)).toEqual(["a/cli", "a/web"]); // only this node's pods of namespace a
    expect(r[0]!.ingress).toEqual([]);
    expect(r[0]!.egress).toBeUndefined();
  });

  test("peers: podSelector in the policy's namespace, namespaceSelector, both in one peer (AND), several peers (OR)", () => {
    const rules = (from: any[]) => podPolicies({ policies: [np("a", "p", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ from }] })], pods, namespaces }, "n1")[0]!.ingress;
    expect(rules([{ podSelector: { matchLabels: { role: "client" } } }])).toEqual([{ peers: [{ ips: ["10.42.1.3"] }] }]);
    expect(rules([{ namespaceSelector: { matchLabels: { team: "x" } } }])).toEqual([{ peers: [{ ips: ["10.42.2.3", "10.42.2.4"] }] }]);
    expect(rules([{ namespaceSelector: { matchLabels: { team: "x" } }, podSelector: { matchLabels: { role: "client" } } }])).toEqual([{ peers: [{ ips: ["10.42.2.3"] }] }]);
    expect(rules([{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "b" } }, podSelector: { matchLabels: { role: "client" } } }, { podSelector: { matchLabels: { role: "client" } } }])).toEqual([{ peers: [{ ips: ["10.42.1.3", "10.42.2.3"] }] }]);
    // A selector on an inherited Object property name matches no pod.
    expect(rules([{ podSelector: { matchExpressions: [{ key: "constructor", operator: "Exists" }] } }])).toEqual([]);
  });

  test("ports: named ports resolve on the target pod for ingress and on each destination for egress; endPort kept", () => {
    const ing = podPolicies({ policies: [np("a", "p", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ ports: [{ port: "http", protocol: "TCP" }, { port: 9000, endPort: 9100, protocol: "TCP" }] }] })], pods, namespaces }, "n1");
    expect(ing[0]!.ingress).toEqual([{ ports: [{ protocol: "tcp", port: 8080 }, { protocol: "tcp", port: 9000, endPort: 9100 }] }]);
    const egr = podPolicies({ policies: [np("a", "e", { podSelector: { matchLabels: { role: "client" } }, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: "http", protocol: "TCP" }] }] })], pods, namespaces }, "n1");
    expect(egr[0]!.egress).toEqual([
      { peers: [{ ips: ["10.42.1.2"] }], ports: [{ protocol: "tcp", port: 8080 }] },
      { peers: [{ ips: ["10.42.2.3"] }], ports: [{ protocol: "tcp", port: 9000 }] },
    ]);
  });

  test("render: ipBlock except, port ranges, per-pod chains in vmaps, established traffic first", () => {
    const st = { policies: [np("a", "p", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.42.1.0/24"] } }], ports: [{ protocol: "TCP", port: 80, endPort: 90 }] }] })], pods, namespaces };
    const t = renderNetpol(podPolicies(st, "n1")).text;
    expect(t).toContain("map ingress-pods { type ipv4_addr : verdict; elements = { 10.42.1.2 : jump ing-a/web }; }");
    expect(t).toContain("ip saddr 10.0.0.0/8 ip saddr != 10.42.1.0/24 meta l4proto tcp th dport 80-90 return;");
    expect(t.indexOf("ct state established,related accept")).toBeLessThan(t.indexOf("vmap @egress-pods"));
    expect(t).not.toContain("hook output"); // the node's own traffic (probes) is never filtered
  });

  test("podInfo: host-network and finished pods take no part; named ports from containers", () => {
    const p: Pod = { metadata: { namespace: "a", name: "x", labels: { k: "v" } }, spec: { nodeName: "n1", containers: [{ name: "c", ports: [{ name: "dns", containerPort: 53, protocol: "UDP" }] }] }, status: { podIP: "10.42.1.9", phase: "Running" } };
    expect(podInfo(p)!.namedPorts).toEqual([{ name: "dns", port: 53, protocol: "udp" }]);
    expect(podInfo({ ...p, spec: { ...p.spec!, hostNetwork: true } })).toBeUndefined();
    expect(podInfo({ ...p, status: { podIP: "10.42.1.9", phase: "Succeeded" } })).toBeUndefined();
  });
});
