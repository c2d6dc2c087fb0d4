// Cluster DNS against a real control plane: Services and EndpointSlices made here, queries over UDP and TCP to
// 127.0.0.1 only. No upstream is configured, so nothing leaves the box.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import * as dnsPacket from "dns-packet";
import { joinCluster } from "../../internal/auth/join.ts";
import { createClient } from "../../internal/client/client.ts";
import { refs } from "../../internal/client/refs.ts";
import type { ClientConfig } from "../../internal/client/types.ts";
import { startDNS, type ClusterDNS } from "../../internal/dns/index.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { eventually, query } from "./query.ts";

const Z = "cluster.local";
let cluster: TestCluster;
let dns: ClusterDNS;
let port: number;
const ac = new AbortController();
let admin: ReturnType<typeof createClient>;
let webIP = "";

const services = () => admin.resource<Service>(refs.services, "default");
const slices = () => admin.resource<EndpointSlice>(refs.endpointslices, "default");

function slice(name: string, svc: string, endpoints: EndpointSlice["endpoints"], ports: EndpointSlice["ports"]): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name, namespace: "default", labels: { "kubernetes.io/service-name": svc } },
    addressType: "IPv4",
    endpoints,
    ports,
  };
}

const flagSet = (p: { flags?: number }, f: number) => ((p.flags ?? 0) & f) !== 0;
const data = (p: { answers?: any[] }, type?: string) => (p.answers ?? []).filter((a) => !type || a.type === type).map((a) => a.data);

beforeAll(async () => {
  cluster = await startTestCluster();
  admin = createClient(cluster.clientConfig);
  // The DNS server runs as system:kube-proxy, the identity the agent gets when it joins.
  const creds = await joinCluster({ server: cluster.url, token: cluster.joinToken, nodeName: "dns-node" });
  expect(creds.proxyToken).toBeTruthy();
  const cfg: ClientConfig = { server: cluster.url, token: creds.proxyToken!, caPEM: creds.caPEM };

  const web = await services().create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web" },
    spec: {
      ports: [
        { name: "http", port: 80, protocol: "TCP" },
        { name: "dns", port: 53, protocol: "UDP" },
      ],
    },
  });
  webIP = web.spec!.clusterIP!;
  await services().create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "db" },
    spec: { clusterIP: "None", ports: [{ name: "pg", port: 5432 }] },
  });
  await slices().create(
    slice(
      "db-abcde",
      "db",
      [
        { addresses: ["10.42.0.5"], hostname: "db-0", conditions: { ready: true } },
        { addresses: ["10.42.0.6"], hostname: "db-1", conditions: { ready: true } },
        { addresses: ["10.42.0.7"], hostname: "db-2", conditions: { ready: false } },
        { addresses: ["10.42.0.8"] },
      ],
      [{ name: "pg", port: 5432, protocol: "TCP" }],
    ),
  );
  await services().create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "ext" },
    spec: { type: "ExternalName", externalName: "db.example.org" },
  });

  await services().create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "alias" },
    spec: { type: "ExternalName", externalName: `web.default.svc.${Z}` },
  });
  await services().create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "peers" },
    spec: { clusterIP: "None", publishNotReadyAddresses: true, ports: [{ name: "gossip", port: 7946 }] },
  });
  await slices().create(
    slice("peers-1", "peers", [{ addresses: ["10.42.2.1"], hostname: "peer-0", conditions: { ready: false } }], [{ name: "gossip", port: 7946, protocol: "TCP" }]),
  );

  dns = await startDNS(cfg, { listen: [{ host: "127.0.0.1", port: 0 }], upstream: [], signal: ac.signal });
  port = dns.listeners[0]!.udpPort;
  await dns.synced;
}, 60_000);

afterAll(async () => {
  ac.abort();
  await dns?.stopped;
  await cluster?.stop();
});

describe("services", () => {
  test("A record of a ClusterIP service, authoritative, TTL 5, over UDP and TCP", async () => {
    expect(webIP).toMatch(/^10\.43\./);
    for (const tcp of [false, true]) {
      const r = await query(port, `web.default.svc.${Z}`, "A", { tcp });
      expect(r.rcode).toBe("NOERROR");
      expect(flagSet(r, dnsPacket.AUTHORITATIVE_ANSWER)).toBe(true);
      expect(r.answers).toEqual([{ name: `web.default.svc.${Z}`, type: "A", class: "IN", ttl: 5, flush: false, data: webIP }]);
    }
    expect(dns.listeners[0]!.tcpPort).toBe(port);
  });

  test("names are case-insensitive and may end with a dot", async () => {
    const r = await query(port, `WEB.Default.SVC.${Z}.`, "A");
    expect(data(r, "A")).toEqual([webIP]);
  });

  test("existing name without records of the asked type: NODATA with the SOA", async () => {
    const r = await query(port, `web.default.svc.${Z}`, "AAAA");
    expect(r.rcode).toBe("NOERROR");
    expect(r.answers).toEqual([]);
    expect(r.authorities?.[0]?.type).toBe("SOA");
    expect((r.authorities?.[0] as any).data.mname).toBe(`ns.dns.${Z}`);
  });

  test("SRV for named ports of a ClusterIP service, with the address as glue", async () => {
    const r = await query(port, `_http._tcp.web.default.svc.${Z}`, "SRV");
    expect(r.rcode).toBe("NOERROR");
    expect(data(r, "SRV")).toEqual([{ priority: 0, weight: 100, port: 80, target: `web.default.svc.${Z}` }]);
    expect(r.additionals?.filter((a) => a.type === "A").map((a: any) => a.data)).toEqual([webIP]);
    const udp = await query(port, `_dns._udp.web.default.svc.${Z}`, "SRV");
    expect(data(udp, "SRV")).toEqual([{ priority: 0, weight: 100, port: 53, target: `web.default.svc.${Z}` }]);
    // wrong protocol for the port, unknown port name
    expect((await query(port, `_http._udp.web.default.svc.${Z}`, "SRV")).rcode).toBe("NXDOMAIN");
    expect((await query(port, `_nope._tcp.web.default.svc.${Z}`, "SRV")).rcode).toBe("NXDOMAIN");
  });

  test("PTR for a ClusterIP", async () => {
    const rev = webIP.split(".").reverse().join(".") + ".in-addr.arpa";
    const r = await query(port, rev, "PTR");
    expect(r.rcode).toBe("NOERROR");
    expect(data(r, "PTR")).toEqual([`web.default.svc.${Z}`]);
  });

  test("headless service: the ready endpoints, and a record per endpoint hostname", async () => {
    const r = await query(port, `db.default.svc.${Z}`, "A");
    expect(data(r, "A").sort()).toEqual(["10.42.0.5", "10.42.0.6", "10.42.0.8"]);
    expect(data(await query(port, `db-0.db.default.svc.${Z}`, "A"), "A")).toEqual(["10.42.0.5"]);
    expect(data(await query(port, `db-1.db.default.svc.${Z}`, "A"), "A")).toEqual(["10.42.0.6"]);
    // an endpoint without hostname is named by its dashed IP; a not-ready one is not published
    expect(data(await query(port, `10-42-0-8.db.default.svc.${Z}`, "A"), "A")).toEqual(["10.42.0.8"]);
    expect((await query(port, `db-2.db.default.svc.${Z}`, "A")).rcode).toBe("NXDOMAIN");
  });

  test("headless SRV: one record per ready endpoint, targets resolvable, glue included", async () => {
    const r = await query(port, `_pg._tcp.db.default.svc.${Z}`, "SRV");
    const srv = data(r, "SRV") as { port: number; target: string }[];
    expect(srv.map((s) => s.target).sort()).toEqual([`10-42-0-8.db.default.svc.${Z}`, `db-0.db.default.svc.${Z}`, `db-1.db.default.svc.${Z}`]);
    expect(srv.every((s) => s.port === 5432)).toBe(true);
    expect(r.additionals?.filter((a) => a.type === "A").length).toBe(3);
  });

  test("PTR for headless endpoint IPs names the endpoint", async () => {
    expect(data(await query(port, "5.0.42.10.in-addr.arpa", "PTR"), "PTR")).toEqual([`db-0.db.default.svc.${Z}`]);
    expect(data(await query(port, "8.0.42.10.in-addr.arpa", "PTR"), "PTR")).toEqual([`10-42-0-8.db.default.svc.${Z}`]);
  });

  test("ExternalName service: a CNAME, whatever type is asked", async () => {
    for (const type of ["A", "CNAME"] as const) {
      const r = await query(port, `ext.default.svc.${Z}`, type);
      expect(r.rcode).toBe("NOERROR");
      expect(r.answers?.map((a: any) => [a.type, a.data])).toEqual([["CNAME", "db.example.org"]]);
    }
  });

  test("ExternalName pointing into the cluster: the CNAME and the target's address in one answer", async () => {
    const r = await query(port, `alias.default.svc.${Z}`, "A");
    expect(r.answers?.map((a: any) => [a.type, a.name, a.data])).toEqual([
      ["CNAME", `alias.default.svc.${Z}`, `web.default.svc.${Z}`],
      ["A", `web.default.svc.${Z}`, webIP],
    ]);
  });

  test("publishNotReadyAddresses publishes not-ready endpoints too", async () => {
    expect(data(await query(port, `peers.default.svc.${Z}`, "A"), "A")).toEqual(["10.42.2.1"]);
    expect(data(await query(port, `peer-0.peers.default.svc.${Z}`, "A"), "A")).toEqual(["10.42.2.1"]);
  });
});

describe("zone", () => {
  test("pod A records from the dashed IP", async () => {
    const r = await query(port, `10-42-1-7.default.pod.${Z}`, "A");
    expect(data(r, "A")).toEqual(["10.42.1.7"]);
    expect((await query(port, `not-an-ip.default.pod.${Z}`, "A")).rcode).toBe("NXDOMAIN");
  });

  test("unknown names in the zone: NXDOMAIN with the SOA (TTL 5)", async () => {
    for (const name of [`nope.default.svc.${Z}`, `web.nosuchns.svc.${Z}`, `x.y.${Z}`]) {
      const r = await query(port, name, "A");
      expect(r.rcode).toBe("NXDOMAIN");
      expect(flagSet(r, dnsPacket.AUTHORITATIVE_ANSWER)).toBe(true);
      expect(r.authorities?.map((a: any) => [a.type, a.name, a.ttl])).toEqual([["SOA", Z, 5]]);
    }
  });

  test("search path with ndots:5: the expanded tries are NXDOMAIN, the name itself resolves", async () => {
    // What a pod in namespace default does for web.default.svc.cluster.local (4 dots < ndots 5).
    const search = [`default.svc.${Z}`, `svc.${Z}`, Z];
    for (const s of search) expect((await query(port, `web.default.svc.${Z}.${s}`, "A")).rcode).toBe("NXDOMAIN");
    // and for a short name the first search suffix answers
    expect(data(await query(port, `web.${search[0]}`, "A"), "A")).toEqual([webIP]);
  });

  test("the zone apex has an SOA; namespaces and svc are empty non-terminals; schema version TXT", async () => {
    const soa = await query(port, Z, "SOA");
    expect(soa.answers?.[0]?.type).toBe("SOA");
    expect((await query(port, `svc.${Z}`, "A")).rcode).toBe("NOERROR");
    expect((await query(port, `default.svc.${Z}`, "A")).rcode).toBe("NOERROR");
    const txt = await query(port, `dns-version.${Z}`, "TXT");
    expect(txt.answers?.map((a: any) => Buffer.concat(a.data).toString())).toEqual(["1.1.0"]);
  });

  test("names outside the zone are refused, not forwarded, when no upstream is configured", async () => {
    for (const tcp of [false, true]) {
      const r = await query(port, "example.com", "A", { tcp });
      expect(r.rcode).toBe("REFUSED");
      expect(flagSet(r, dnsPacket.RECURSION_AVAILABLE)).toBe(false);
    }
    expect((await query(port, "1.2.0.192.in-addr.arpa", "PTR")).rcode).toBe("REFUSED");
  });

  test("garbage gets FORMERR, not a crash", async () => {
    const { rawUDP } = await import("./query.ts");
    const bad = new Uint8Array([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63]);
    const out = await rawUDP(port, bad);
    expect(out[0]).toBe(0x12);
    expect(out[1]).toBe(0x34);
    expect(out[3]! & 0xf).toBe(1);
    expect(data(await query(port, `web.default.svc.${Z}`, "A"), "A")).toEqual([webIP]);
  });
});

describe("updates", () => {
  test("a big headless answer is truncated over UDP and whole over TCP", async () => {
    await services().create({ apiVersion: "v1", kind: "Service", metadata: { name: "big" }, spec: { clusterIP: "None", ports: [{ name: "p", port: 1 }] } });
    const ips = Array.from({ length: 60 }, (_, i) => `10.42.3.${i + 1}`);
    await slices().create(slice("big-1", "big", ips.map((ip) => ({ addresses: [ip] })), [{ name: "p", port: 1, protocol: "TCP" }]));
    const name = `big.default.svc.${Z}`;
    const tcp = await eventually(() => query(port, name, "A", { tcp: true }), (r) => (r.answers?.length ?? 0) === 60);
    expect(data(tcp, "A").sort()).toEqual([...ips].sort());
    const udp = await query(port, name, "A");
    expect(flagSet(udp, dnsPacket.TRUNCATED_RESPONSE)).toBe(true);
    expect(udp.size).toBeLessThanOrEqual(512);
    expect(udp.answers!.length).toBeLessThan(60);
    // a client announcing a 4096-byte EDNS buffer gets all of it over UDP
    const edns = await query(port, name, "A", { edns: 4096 });
    expect(flagSet(edns, dnsPacket.TRUNCATED_RESPONSE)).toBe(false);
    expect(edns.answers!.length).toBe(60);
  });

  test("endpoint changes, ExternalName changes and deletions show up", async () => {
    // a new ready endpoint
    const s = await slices().get("db-abcde");
    s.endpoints = [...(s.endpoints ?? []), { addresses: ["10.42.0.9"], hostname: "db-3" }];
    await slices().update(s);
    const db3 = await eventually(() => query(port, `db-3.db.default.svc.${Z}`, "A"), (r) => r.rcode === "NOERROR");
    expect(data(db3, "A")).toEqual(["10.42.0.9"]);

    // ExternalName retargeted
    const ext = await services().get("ext");
    ext.spec!.externalName = "other.example.org";
    await services().update(ext);
    const cname = await eventually(() => query(port, `ext.default.svc.${Z}`, "A"), (r) => r.answers?.[0]?.data === "other.example.org");
    expect(cname.answers?.[0]?.data).toBe("other.example.org");

    // web deleted: NXDOMAIN, and its PTR is gone
    await services().delete("web");
    const gone = await eventually(() => query(port, `web.default.svc.${Z}`, "A"), (r) => r.rcode === "NXDOMAIN");
    expect(gone.rcode).toBe("NXDOMAIN");
    const rev = webIP.split(".").reverse().join(".") + ".in-addr.arpa";
    expect((await query(port, rev, "PTR")).rcode).toBe("REFUSED");

    // the slice deleted: the headless service has no addresses left (the name still exists)
    await slices().delete("db-abcde");
    const empty = await eventually(() => query(port, `db.default.svc.${Z}`, "A"), (r) => (r.answers?.length ?? 0) === 0);
    expect(empty.rcode).toBe("NOERROR");
    expect(empty.answers).toEqual([]);
  });
});
