// The ingress proxy's forwarding, against Bun backends: responses stream through unbuffered, request bodies stream
// to the backend, WebSockets are relayed (with the backend's subprotocol), a refused endpoint moves on to the next,
// 502/503 when nothing answers. Run twice: backends on this namespace's loopback, and backends inside a test-made
// network namespace reached through the netns relay (as the agent does for a node in its own namespace).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "bun";
import { buildRoutes } from "../../internal/ingress/routes.ts";
import { EndpointPicker, type Endpoint } from "../../internal/ingress/backends.ts";
import { NetnsDialer } from "../../internal/ingress/netnsdial.ts";
import { makeHandler, websocketHandlers, type ProxyContext, type WsData } from "../../internal/ingress/proxy.ts";
import { logger } from "../../internal/log/log.ts";
import { inNetns } from "../../internal/runtime/netns.ts";
import { run } from "../../internal/runtime/run.ts";

const NETNS = `kting${Math.random().toString(36).slice(2, 6)}`;
let tmp: string;

beforeAll(async () => {
  mkdirSync(join(import.meta.dir, "../../.tmp"), { recursive: true });
  tmp = mkdtempSync(join(import.meta.dir, "../../.tmp/ingress-pt-"));
  await run(["ip", "netns", "add", NETNS]);
  await run(["ip", "-n", NETNS, "link", "set", "lo", "up"]);
});
afterAll(async () => {
  await run(["ip", "netns", "del", NETNS], { allowFail: true });
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const BIG = new Uint8Array(8 * 1024 * 1024).map((_, i) => (i * 7) % 251);

/** A backend: /stream sends a chunk, waits for release(), sends another; /echo returns the body; /ws echoes. */
function startBackend(netns?: string) {
  let release: () => void = () => {};
  const released = new Promise<void>((r) => (release = r));
  const server = inNetns(netns, () =>
    Bun.serve<{ proto: string }>({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req, srv) {
        const url = new URL(req.url);
        if (url.pathname === "/ws") {
          const proto = (req.headers.get("sec-websocket-protocol") ?? "").split(",")[0]!.trim();
          return srv.upgrade(req, { data: { proto }, headers: proto ? { "sec-websocket-protocol": proto } : undefined }) ? undefined : new Response("no", { status: 400 });
        }
        if (url.pathname === "/echo") return new Response(await req.text(), { headers: { "x-host-seen": req.headers.get("host") ?? "" } });
        // As busybox httpd does: the whole answer, then the connection closed.
        if (url.pathname === "/big") return new Response(BIG, { headers: { connection: "close" } });
        if (url.pathname === "/stream") {
          return new Response(
            new ReadableStream({
              async start(c) {
                c.enqueue(new TextEncoder().encode("first;"));
                await released;
                c.enqueue(new TextEncoder().encode("second"));
                c.close();
              },
            }),
          );
        }
        return new Response("hello");
      },
      websocket: {
        message(ws, m) {
          ws.send(`echo:${m}`);
        },
      },
    }),
  );
  return { server, release };
}

/**
 * A raw HTTP/1.1 backend that counts its connections and answers every request with `<name> <connection number>`
 * (keep-alive). With closeSecond, it answers only the first request of each connection and closes the connection
 * when the second arrives, as a backend whose keep-alive timeout fires while the proxy is reusing the connection.
 */
function countingBackend(name: string, netns: string | undefined, closeSecond = false) {
  const stats = { connections: 0, requests: 0 };
  const listener = inNetns(netns, () =>
    Bun.listen<{ id: number; served: number; buf: string }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(s) {
          s.data = { id: ++stats.connections, served: 0, buf: "" };
        },
        data(s, chunk) {
          s.data.buf += new TextDecoder().decode(chunk);
          // GETs without bodies: each header block is one request.
          for (let end = s.data.buf.indexOf("\r\n\r\n"); end >= 0; end = s.data.buf.indexOf("\r\n\r\n")) {
            s.data.buf = s.data.buf.slice(end + 4);
            stats.requests++;
            if (closeSecond && s.data.served >= 1) return void s.end();
            s.data.served++;
            const body = `${name} ${s.data.id}`;
            s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n${body}`);
          }
        },
      },
    }),
  );
  return { listener, stats, endpoint: (): Endpoint => ({ ip: "127.0.0.1", port: listener.port }) };
}

/** The proxy in this namespace, routing host t.test to the given endpoints. */
function startProxy(endpoints: () => Endpoint[], dialer?: NetnsDialer): Server<WsData> {
  const routes = buildRoutes(
    [{ metadata: { name: "i", namespace: "default" }, spec: { ingressClassName: "kubun", rules: [{ host: "t.test", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "s", port: { number: 80 } } } }] } }] } }],
    [{ metadata: { name: "kubun" }, spec: { controller: "kubun.dev/ingress" } }],
  );
  const picker = new EndpointPicker({ service: () => undefined, slices: () => [] });
  picker.endpoints = () => endpoints();
  const ctx: ProxyContext = { routes: () => routes, picker, dialer, httpsPort: 443, log: logger("test.ingress"), accessLog: false };
  const handler = makeHandler(ctx, "http", 0);
  return Bun.serve<WsData>({ hostname: "127.0.0.1", port: 0, fetch: (req, srv) => handler(req, srv), websocket: websocketHandlers });
}

const withTimeout = <T,>(p: Promise<T>, ms = 5000) => Promise.race([p, Bun.sleep(ms).then(() => Promise.reject(new Error(`timed out after ${ms} ms`)))]);

for (const mode of ["loopback", "netns"] as const) {
  describe(`forwarding (${mode})`, () => {
    let backend: ReturnType<typeof startBackend>;
    let proxy: Server<WsData>;
    let dialer: NetnsDialer | undefined;
    let eps: Endpoint[] = [];
    const base = () => `http://127.0.0.1:${proxy.port}`;
    const opts = (init: RequestInit = {}) => ({ ...init, headers: { host: "t.test" }, signal: AbortSignal.timeout(5000) });

    beforeAll(() => {
      backend = startBackend(mode === "netns" ? `/var/run/netns/${NETNS}` : undefined);
      dialer = mode === "netns" ? new NetnsDialer(`/var/run/netns/${NETNS}`, join(tmp, "relay")) : undefined;
      eps = [{ ip: "127.0.0.1", port: backend.server.port! }];
      proxy = startProxy(() => eps, dialer);
    });
    afterAll(() => {
      proxy?.stop(true);
      backend?.server.stop(true);
      dialer?.close();
    });

    test("responses stream through before the backend has finished", async () => {
      const res = await fetch(`${base()}/stream`, opts());
      const reader = res.body!.getReader();
      const first = await withTimeout(reader.read());
      expect(new TextDecoder().decode(first.value)).toBe("first;");
      backend.release();
      let rest = "";
      for (let r = await withTimeout(reader.read()); !r.done; r = await withTimeout(reader.read())) rest += new TextDecoder().decode(r.value);
      expect(rest).toBe("second");
    });

    test("request bodies reach the backend; the Host header is kept", async () => {
      const body = "x".repeat(200_000);
      const res = await fetch(`${base()}/echo`, opts({ method: "POST", body }));
      expect(res.headers.get("x-host-seen")).toBe("t.test");
      expect(await res.text()).toBe(body);
    });

    test("a large answer from a backend that closes its connection right after it arrives whole", async () => {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${base()}/big`, opts({ signal: AbortSignal.timeout(20_000) }));
        expect(res.status).toBe(200);
        const got = new Uint8Array(await res.arrayBuffer());
        expect(got.length).toBe(BIG.length);
        expect(Buffer.compare(got, BIG)).toBe(0);
      }
    });

    test("WebSockets are relayed with the backend's subprotocol", async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws`, { headers: { host: "t.test" }, protocols: ["chat", "other"] } as any);
      const got = await withTimeout(
        new Promise<string>((resolve, reject) => {
          ws.onopen = () => ws.send("ping");
          ws.onmessage = (e) => resolve(String(e.data));
          ws.onerror = () => reject(new Error("websocket failed"));
        }),
      );
      expect(got).toBe("echo:ping");
      expect(ws.protocol).toBe("chat");
      ws.close();
    });

    test("kept-alive backend connections are reused, per backend, never across backends", async () => {
      const ns = mode === "netns" ? `/var/run/netns/${NETNS}` : undefined;
      const a = countingBackend("a", ns);
      const b = countingBackend("b", ns);
      try {
        const seen: string[] = [];
        for (let i = 0; i < 10; i++) {
          const target = i % 2 ? b : a;
          eps = [target.endpoint()];
          const res = await fetch(`${base()}/`, opts());
          expect(res.status).toBe(200);
          seen.push(await res.text());
        }
        // Each answer came from the backend it was routed to, over that backend's one kept-alive connection.
        expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 ? "b 1" : "a 1")));
        expect(a.stats).toEqual({ connections: 1, requests: 5 });
        expect(b.stats).toEqual({ connections: 1, requests: 5 });
      } finally {
        a.listener.stop(true);
        b.listener.stop(true);
        eps = [{ ip: "127.0.0.1", port: backend.server.port! }];
      }
    });

    test("a backend that closes a kept-alive connection is retried on a new connection, not answered with 502", async () => {
      const c = countingBackend("c", mode === "netns" ? `/var/run/netns/${NETNS}` : undefined, true);
      try {
        eps = [c.endpoint()];
        const got: string[] = [];
        for (let i = 1; i <= 4; i++) {
          const res = await fetch(`${base()}/`, opts());
          expect(res.status).toBe(200);
          got.push(await res.text());
        }
        // Every request after the first found its pooled connection closed under it and went out on a fresh one.
        expect(got).toEqual(["c 1", "c 2", "c 3", "c 4"]);
        expect(c.stats.connections).toBe(4);
      } finally {
        c.listener.stop(true);
        eps = [{ ip: "127.0.0.1", port: backend.server.port! }];
      }
    });

    test("a refused endpoint is skipped; 502 when none answers; 503 without endpoints; 404 for an unknown host", async () => {
      const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
      const deadPort = dead.port!;
      dead.stop(true);
      eps = [{ ip: "127.0.0.1", port: deadPort }, { ip: "127.0.0.1", port: backend.server.port! }];
      expect(await (await fetch(`${base()}/`, opts())).text()).toBe("hello");
      eps = [{ ip: "127.0.0.1", port: deadPort }];
      expect((await fetch(`${base()}/`, opts())).status).toBe(502);
      eps = [];
      expect((await fetch(`${base()}/`, opts())).status).toBe(503);
      expect((await fetch(`${base()}/`, { headers: { host: "other.test" }, signal: AbortSignal.timeout(5000) })).status).toBe(404);
      eps = [{ ip: "127.0.0.1", port: backend.server.port! }];
    });
  });
}
