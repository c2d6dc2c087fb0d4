// Forwarding to a fake upstream on 127.0.0.1 (the only upstream the tests ever use), resolv.conf parsing, and the
// server opened inside a test-made network namespace, queried there with busybox nslookup.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Service } from "kubernetes-types/core/v1";
import * as dnsPacket from "dns-packet";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "../../internal/client/client.ts";
import { SharedInformerFactory } from "../../internal/client/factory.ts";
import { refs } from "../../internal/client/refs.ts";
import { startDNS } from "../../internal/dns/index.ts";
import { Forwarder, parseUpstream, UPSTREAM_RETRY_MS, upstreamsFromResolvConf } from "../../internal/dns/forward.ts";
import { buildQuery } from "./query.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { query } from "./query.ts";

let cluster: TestCluster;
let webIP = "";
const ac = new AbortController();

/** A fake resolver on 127.0.0.1 (UDP and TCP on one port) answering every A query with 192.0.2.1. */
async function fakeUpstream() {
  const seen: string[] = [];
  const answer = (raw: Buffer) => {
    const q = dnsPacket.decode(raw);
    seen.push(q.questions![0]!.name);
    return dnsPacket.encode({
      id: q.id,
      type: "response",
      flags: dnsPacket.RECURSION_AVAILABLE,
      questions: q.questions,
      answers: [{ name: q.questions![0]!.name, type: "A", ttl: 60, data: "192.0.2.1" }],
    });
  };
  const udp = await Bun.udpSocket({
    hostname: "127.0.0.1",
    socket: {
      data(s, buf, port, addr) {
        s.send(answer(Buffer.from(buf)), port, addr);
      },
    },
  });
  const tcp = Bun.listen({
    hostname: "127.0.0.1",
    port: udp.port,
    socket: {
      data(s, chunk) {
        const out = answer(Buffer.from(chunk).subarray(2));
        const framed = Buffer.alloc(out.length + 2);
        framed.writeUInt16BE(out.length, 0);
        out.copy(framed, 2);
        s.write(framed);
      },
    },
  });
  return { port: udp.port, seen, stop: () => (udp.close(), tcp.stop(true)) };
}

beforeAll(async () => {
  cluster = await startTestCluster();
  const svc = await createClient(cluster.clientConfig)
    .resource<Service>(refs.services, "default")
    .create({ apiVersion: "v1", kind: "Service", metadata: { name: "web" }, spec: { ports: [{ name: "http", port: 80 }] } });
  webIP = svc.spec!.clusterIP!;
}, 60_000);

afterAll(async () => {
  ac.abort();
  await cluster?.stop();
});

describe("upstreams", () => {
  test("resolv.conf nameservers, without our own addresses; bad upstreams are rejected", () => {
    const dir = mkdtempSync(join(tmpdir(), "kubun-dns-"));
    try {
      const f = join(dir, "resolv.conf");
      writeFileSync(f, "# comment\nsearch lan\nnameserver 192.0.2.53\nnameserver 10.43.0.10\nnameserver fe80::1%eth0\noptions ndots:1\n");
      expect(upstreamsFromResolvConf(f, ["10.43.0.10"])).toEqual([
        { host: "192.0.2.53", port: 53 },
        { host: "fe80::1", port: 53 },
      ]);
      expect(upstreamsFromResolvConf(join(dir, "missing"), [])).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(parseUpstream("127.0.0.1:5353")).toEqual({ host: "127.0.0.1", port: 5353 });
    expect(parseUpstream("[::1]:54")).toEqual({ host: "::1", port: 54 });
    expect(() => parseUpstream("dns.example")).toThrow(/bad upstream/);
  });

  test("names outside the zone go to the upstream over UDP and TCP; cluster names never do", async () => {
    const up = await fakeUpstream();
    const sig = new AbortController();
    try {
      const dns = await startDNS(cluster.clientConfig, { listen: [{ host: "127.0.0.1", port: 0 }], upstream: [`127.0.0.1:${up.port}`], signal: sig.signal });
      await dns.synced;
      const port = dns.listeners[0]!.udpPort;
      for (const tcp of [false, true]) {
        const r = await query(port, "example.com", "A", { tcp });
        expect(r.rcode).toBe("NOERROR");
        expect(r.answers?.map((a: any) => a.data)).toEqual(["192.0.2.1"]);
      }
      expect(up.seen).toEqual(["example.com", "example.com"]);
      const local = await query(port, "web.default.svc.cluster.local", "A");
      expect(local.answers?.map((a: any) => a.data)).toEqual([webIP]);
      expect((await query(port, "nope.default.svc.cluster.local", "A")).rcode).toBe("NXDOMAIN");
      expect(up.seen.length).toBe(2);
      sig.abort();
      await dns.stopped;
    } finally {
      sig.abort();
      up.stop();
    }
  });

  test("an upstream that never answers gives SERVFAIL", async () => {
    // A bound UDP socket that reads and drops everything.
    const silent = await Bun.udpSocket({ hostname: "127.0.0.1", socket: { data() {} } });
    const sig = new AbortController();
    try {
      const dns = await startDNS(cluster.clientConfig, { listen: [{ host: "127.0.0.1", port: 0 }], upstream: [`127.0.0.1:${silent.port}`], signal: sig.signal });
      const r = await query(dns.listeners[0]!.udpPort, "example.com", "A", { timeoutMs: 8000 });
      expect(r.rcode).toBe("SERVFAIL");
    } finally {
      sig.abort();
      silent.close();
    }
  });
});

describe("unreachable upstreams (air-gapped nodes)", () => {
  /** A UDP port on 127.0.0.1 with nothing bound: the kernel answers each datagram with ICMP port unreachable. */
  async function closedPort(): Promise<number> {
    const s = await Bun.udpSocket({ hostname: "127.0.0.1", socket: { data() {} } });
    const port = s.port;
    s.close();
    return port;
  }

  test("an ICMP error from the upstream gives SERVFAIL at once, the next upstream is tried, and the process lives", async () => {
    const dead = await closedPort();
    const up = await fakeUpstream();
    const sig = new AbortController();
    try {
      const only = await startDNS(cluster.clientConfig, { listen: [{ host: "127.0.0.1", port: 0 }], upstream: [`127.0.0.1:${dead}`], signal: sig.signal });
      // Before the fix the ECONNREFUSED raised on the forwarding socket was unhandled and ended the process here.
      for (let i = 0; i < 3; i++) expect((await query(only.listeners[0]!.udpPort, `x${i}.example.com`, "A", { timeoutMs: 1500 })).rcode).toBe("SERVFAIL");
      const both = await startDNS(cluster.clientConfig, {
        listen: [{ host: "127.0.0.1", port: 0 }],
        upstream: [`127.0.0.1:${dead}`, `127.0.0.1:${up.port}`],
        signal: sig.signal,
      });
      const r = await query(both.listeners[0]!.udpPort, "example.com", "A");
      expect(r.rcode).toBe("NOERROR");
      expect(r.answers?.map((a: any) => a.data)).toEqual(["192.0.2.1"]);
      // Cluster names are still answered.
      await only.synced;
      expect((await query(only.listeners[0]!.udpPort, "web.default.svc.cluster.local", "A")).answers?.map((a: any) => a.data)).toEqual([webIP]);
    } finally {
      sig.abort();
      up.stop();
    }
  });

  test("a failed upstream is skipped for a while (no wait per query) and tried again later; failures are logged once a minute", async () => {
    const dead = await closedPort();
    const lines: string[] = [];
    const log = { warn: (msg: string) => lines.push(msg), info() {}, debug() {}, error() {}, child: () => log } as any;
    let now = 1_000_000;
    const f = new Forwarder([{ host: "127.0.0.1", port: dead }], undefined, log, () => now);
    const q = buildQuery("example.com", "A");
    expect(await f.forward(q, false)).toBeUndefined();
    expect(await f.forward(q, true)).toBeUndefined(); // skipped: no socket opened at all
    expect(lines.length).toBe(1);
    now += UPSTREAM_RETRY_MS + 1;
    expect(await f.forward(q, true)).toBeUndefined(); // tried again over TCP: connection refused, handled
    expect(lines.length).toBe(1); // still within the minute
    now += 60_000;
    expect(await f.forward(q, false)).toBeUndefined();
    expect(lines.length).toBe(2);
  });
});

describe("shared informers", () => {
  test("a factory given by the agent is used (one watch per resource per node), not a second one", async () => {
    const sig = new AbortController();
    const factory = new SharedInformerFactory(createClient(cluster.clientConfig));
    const services = factory.informerFor<Service>(refs.services);
    factory.start(sig.signal); // already running, as the proxy would have it
    try {
      const dns = await startDNS(cluster.clientConfig, { listen: [{ host: "127.0.0.1", port: 0 }], upstream: [], informers: factory, signal: sig.signal });
      await dns.synced;
      expect(services.hasSynced()).toBe(true);
      expect(services.byIndex("namespace", "default").map((s) => s.metadata?.name)).toContain("web");
      const r = await query(dns.listeners[0]!.udpPort, "web.default.svc.cluster.local", "A");
      expect(r.answers?.map((a: any) => a.data)).toEqual([webIP]);
    } finally {
      sig.abort();
    }
  });
});

const canNetns = process.getuid?.() === 0 && Bun.which("ip") !== null && Bun.which("busybox") !== null;

describe.skipIf(!canNetns)("network namespace", () => {
  const ns = `kdns-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  const ip = (...args: string[]) => Bun.spawnSync(["ip", ...args], { stdout: "pipe", stderr: "pipe" });

  beforeAll(() => {
    expect(ip("netns", "add", ns).exitCode).toBe(0);
    ip("-n", ns, "link", "set", "lo", "up");
  });
  afterAll(() => {
    ip("netns", "del", ns);
  });

  test("sockets opened in the namespace; busybox nslookup inside it resolves a service", async () => {
    const sig = new AbortController();
    try {
      const dns = await startDNS(cluster.clientConfig, { listen: [{ host: "127.0.0.1", port: 0 }], upstream: [], netns: ns, signal: sig.signal });
      await dns.synced;
      const port = dns.listeners[0]!.udpPort;
      // Async spawn: the server answers from this very process.
      const p = Bun.spawn(["ip", "netns", "exec", ns, "busybox", "nslookup", "web.default.svc.cluster.local", `127.0.0.1:${port}`], { stdout: "pipe", stderr: "pipe" });
      const timer = setTimeout(() => p.kill(), 10_000);
      const out = await new Response(p.stdout).text();
      clearTimeout(timer);
      expect(out).toContain(`Address: ${webIP}`);
      // The listening socket is inside the namespace.
      expect(Bun.spawnSync(["ip", "netns", "exec", ns, "ss", "-lun"]).stdout.toString()).toContain(`127.0.0.1:${port}`);
    } finally {
      sig.abort();
    }
  }, 20_000);

  test("an upstream behind a link with no answer (EHOSTUNREACH) gives SERVFAIL and never ends the process", async () => {
    // A veth into a second namespace where nothing has the upstream's address: ARP fails, the kernel reports
    // EHOSTUNREACH on the forwarding socket. Nothing leaves the two test namespaces.
    const peer = `${ns}-p`;
    const [a, b] = [`kd${process.pid % 100000}a`, `kd${process.pid % 100000}b`];
    expect(ip("netns", "add", peer).exitCode).toBe(0);
    try {
      expect(ip("link", "add", a, "netns", ns, "type", "veth", "peer", "name", b, "netns", peer).exitCode).toBe(0);
      ip("-n", ns, "addr", "add", "10.251.0.1/24", "dev", a);
      ip("-n", ns, "link", "set", a, "up");
      ip("-n", peer, "link", "set", b, "up");
      let now = 1_000_000;
      const f = new Forwarder([{ host: "10.251.0.2", port: 53 }], `/var/run/netns/${ns}`, undefined, () => now);
      const q = buildQuery("example.com", "A");
      expect(await f.forward(q, false)).toBeUndefined(); // times out while ARP runs
      await Bun.sleep(3500); // the neighbour entry is FAILED now
      for (let i = 0; i < 3; i++) {
        now += UPSTREAM_RETRY_MS + 1;
        expect(await f.forward(q, false)).toBeUndefined(); // EHOSTUNREACH, handled
      }
      // The process is still here and serving.
      const sig = new AbortController();
      try {
        const dns = await startDNS(cluster.clientConfig, { listen: [{ host: "127.0.0.1", port: 0 }], upstream: ["10.251.0.2"], netns: ns, signal: sig.signal });
        await dns.synced;
        const p = Bun.spawn(["nsenter", `--net=/var/run/netns/${ns}`, "busybox", "nslookup", "web.default.svc.cluster.local", `127.0.0.1:${dns.listeners[0]!.udpPort}`], { stdout: "pipe", stderr: "pipe" });
        const timer = setTimeout(() => p.kill(), 10_000);
        const out = await new Response(p.stdout).text();
        clearTimeout(timer);
        expect(out).toContain(`Address: ${webIP}`);
      } finally {
        sig.abort();
      }
    } finally {
      ip("netns", "del", peer);
    }
  }, 30_000);

  test("addLocalAddresses makes the cluster DNS IP local in the namespace and binds it (no traffic sent to it)", async () => {
    const sig = new AbortController();
    try {
      const dns = await startDNS(cluster.clientConfig, {
        listen: [{ host: "10.43.0.10", port: 0 }],
        upstream: [],
        netns: ns,
        addLocalAddresses: true,
        signal: sig.signal,
      });
      expect(ip("-n", ns, "-o", "addr", "show", "to", "10.43.0.10/32").stdout.toString()).toContain("10.43.0.10/32");
      const port = dns.listeners[0]!.udpPort;
      const ss = Bun.spawnSync(["ip", "netns", "exec", ns, "ss", "-lntu"]).stdout.toString();
      expect(ss).toContain(`10.43.0.10:${port}`);
    } finally {
      sig.abort();
    }
  });
});
