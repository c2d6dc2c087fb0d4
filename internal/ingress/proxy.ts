// One request through the ingress proxy: route by host and path, redirect to HTTPS when asked, forward to a ready
// endpoint with X-Forwarded-* headers (a refused or dropped connection moves on to the next endpoint), stream the
// answer back unchanged (no decompression, no buffering). WebSocket upgrades are relayed message by message.
import type { Server, ServerWebSocket } from "bun";
import type { Logger } from "../log/log.ts";
import type { RouteTable } from "./routes.ts";
import type { Endpoint, EndpointPicker } from "./backends.ts";
import type { NetnsDialer } from "./netnsdial.ts";

const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"];
/** Time allowed for a backend's response headers (the body may then stream for as long as it likes). */
export const RESPONSE_HEADER_TIMEOUT_MS = 60_000;
/** A backend connection silent for this long is dropped (long enough for event streams with sparse events). */
export const BACKEND_IDLE_TIMEOUT_MS = 3_600_000;
const MAX_ATTEMPTS = 3;

export interface ProxyContext {
  routes: () => RouteTable;
  picker: EndpointPicker;
  dialer?: NetnsDialer;
  httpsPort: number;
  log: Logger;
  accessLog: boolean;
}

export interface WsData {
  upstream?: WebSocket;
  client?: ServerWebSocket<WsData>;
  /** Backend messages that arrived before the client side was open. */
  toClient: (string | ArrayBuffer)[];
  closed?: boolean;
}

function text(status: number, body: string): Response {
  return new Response(body + "\n", { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

function forwardedHeaders(req: Request, clientIP: string, proto: string, port: number): Headers {
  const h = new Headers(req.headers);
  const conn = (h.get("connection") ?? "").split(",").map((s) => s.trim().toLowerCase());
  for (const name of [...HOP_BY_HOP, ...conn]) if (name) h.delete(name);
  const prior = req.headers.get("x-forwarded-for");
  h.set("x-forwarded-for", prior ? `${prior}, ${clientIP}` : clientIP);
  h.set("x-forwarded-proto", proto);
  h.set("x-forwarded-host", req.headers.get("host") ?? "");
  h.set("x-forwarded-port", String(port));
  h.set("x-real-ip", clientIP);
  return h;
}

const retryable = (err: unknown) => {
  const code = (err as { code?: string })?.code ?? "";
  return /ConnectionRefused|ECONNREFUSED|ECONNRESET|ConnectionClosed|EHOSTUNREACH|FailedToOpenSocket|ConnectionReset/i.test(code + " " + String((err as Error)?.message ?? ""));
};

function urlFor(ctx: ProxyContext, ep: Endpoint, pathAndQuery: string, scheme = "http"): { url: string; unix?: string } {
  const host = ep.ip.includes(":") ? `[${ep.ip}]` : ep.ip;
  const unix = ctx.dialer?.socketFor(ep.ip, ep.port);
  // Bun's WebSocket client reaches a unix socket through a ws+unix://<socket>:<path> URL (fetch has a `unix` option).
  if (unix && scheme === "ws") return { url: `ws+unix://${unix}:${pathAndQuery}` };
  return { url: `${scheme}://${host}:${ep.port}${pathAndQuery}`, unix };
}

export function makeHandler(ctx: ProxyContext, proto: "http" | "https", listenPort: number) {
  return async function handle(req: Request, server: Server<WsData>): Promise<Response | undefined> {
    const started = performance.now();
    const url = new URL(req.url);
    const host = req.headers.get("host") ?? url.host;
    const clientIP = server.requestIP(req)?.address ?? "";
    const done = (res: Response, backend = "-") => {
      if (ctx.accessLog) ctx.log.info("access", { client: clientIP, method: req.method, host, path: url.pathname, status: res.status, ms: Math.round(performance.now() - started), backend });
      else ctx.log.debug("access", { client: clientIP, method: req.method, host, path: url.pathname, status: res.status, backend });
      return res;
    };
    const route = ctx.routes().match(host, url.pathname);
    if (!route) return done(text(404, "404 page not found"));
    if (proto === "http" && route.sslRedirect) {
      const h = host.replace(/:\d+$/, "");
      const port = ctx.httpsPort === 443 ? "" : `:${ctx.httpsPort}`;
      return done(new Response(null, { status: 308, headers: { location: `https://${h}${port}${url.pathname}${url.search}` } }));
    }
    const svc = route.backend.service;
    if (!svc) return done(text(503, "503 resource backends are not supported by kubun's ingress"));
    const endpoints = ctx.picker.endpoints(route.namespace, svc);
    if (!endpoints.length) return done(text(503, "503 no ready endpoints"));
    const headers = forwardedHeaders(req, clientIP, proto, listenPort);

    if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
      const ep = endpoints[0]!;
      const { url: target } = urlFor(ctx, ep, url.pathname + url.search, "ws");
      const protocols = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
      const wsHeaders: Record<string, string> = { host };
      for (const name of ["cookie", "authorization", "origin", "user-agent", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "x-real-ip"]) {
        const v = headers.get(name);
        if (v) wsHeaders[name] = v;
      }
      // The backend's handshake first, so the client gets the subprotocol the backend chose (or the backend's refusal).
      const data: WsData = { toClient: [] };
      const up = await openUpstream(target, wsHeaders, protocols, data).catch(() => undefined);
      if (!up) return done(text(502, "502 bad gateway"), `${ep.ip}:${ep.port}`);
      const extra = up.protocol ? { "sec-websocket-protocol": up.protocol } : undefined;
      if (server.upgrade(req, { data, headers: extra })) {
        done(new Response(null, { status: 101 }), `${ep.ip}:${ep.port}`);
        return undefined;
      }
      up.close();
      return done(text(400, "400 bad websocket upgrade"));
    }

    // Bodies are streamed, so only requests without one (or refused before anything was sent) are retried.
    const hasBody = req.body !== null && !["GET", "HEAD", "OPTIONS"].includes(req.method);
    let lastErr: unknown;
    for (let i = 0; i < Math.min(MAX_ATTEMPTS, endpoints.length); i++) {
      const ep = endpoints[i]!;
      const { url: target, unix } = urlFor(ctx, ep, url.pathname + url.search);
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(new Error("backend response timeout")), RESPONSE_HEADER_TIMEOUT_MS);
      req.signal.addEventListener("abort", () => ac.abort(), { once: true });
      try {
        const res = await fetch(target, {
          method: req.method,
          headers,
          body: hasBody ? req.body : undefined,
          redirect: "manual",
          decompress: false,
          timeout: BACKEND_IDLE_TIMEOUT_MS,
          signal: ac.signal,
          ...(unix ? { unix } : {}),
          duplex: "half",
        } as RequestInit);
        clearTimeout(timer);
        const out = new Headers(res.headers);
        for (const name of HOP_BY_HOP) if (name !== "upgrade") out.delete(name);
        // A streamed answer (no length: event streams, long polls, logs) may pause longer than the listener's idle
        // timeout; the backend connection's own idle timeout bounds it instead.
        if (!res.headers.has("content-length") && req.method !== "HEAD") server.timeout(req, 0);
        return done(new Response(req.method === "HEAD" ? null : res.body, { status: res.status, statusText: res.statusText, headers: out }), `${ep.ip}:${ep.port}`);
      } catch (err) {
        clearTimeout(timer);
        lastErr = err;
        if (ac.signal.aborted && !req.signal.aborted) return done(text(504, "504 gateway timeout"), `${ep.ip}:${ep.port}`);
        if (hasBody || !retryable(err)) break;
        ctx.log.debug("backend failed; trying the next endpoint", { backend: `${ep.ip}:${ep.port}`, error: String(err) });
      }
    }
    ctx.log.debug("no backend answered", { host, path: url.pathname, error: String(lastErr) });
    return done(text(502, "502 bad gateway"));
  };
}

/** WebSocket to the backend, resolved once open; its messages wait in data.toClient until the client side is open. */
function openUpstream(target: string, headers: Record<string, string>, protocols: string[], data: WsData): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const up = new WebSocket(target, { headers, protocols } as any);
    up.binaryType = "arraybuffer";
    data.upstream = up;
    const timer = setTimeout(() => (reject(new Error("backend handshake timeout")), up.close()), 10_000);
    up.onopen = () => (clearTimeout(timer), resolve(up));
    up.onerror = () => (clearTimeout(timer), reject(new Error("backend websocket failed")), data.client?.close(1011, "backend error"));
    up.onmessage = (ev) => {
      if (data.client) data.client.send(ev.data as string | ArrayBuffer);
      else data.toClient.push(ev.data as string | ArrayBuffer);
    };
    up.onclose = (ev) => {
      data.closed = true;
      data.client?.close(ev.code === 1005 || ev.code === 1006 ? 1000 : ev.code, ev.reason);
    };
  });
}

/** WebSocket relay: the client's socket ↔ the backend's, message by message. */
export const websocketHandlers = {
  open(ws: ServerWebSocket<WsData>) {
    const d = ws.data;
    d.client = ws;
    for (const m of d.toClient.splice(0)) ws.send(m);
    if (d.closed) ws.close(1000, "");
  },
  message(ws: ServerWebSocket<WsData>, msg: string | Buffer) {
    const up = ws.data.upstream;
    if (up?.readyState === WebSocket.OPEN) up.send(typeof msg === "string" ? msg : new Uint8Array(msg));
  },
  close(ws: ServerWebSocket<WsData>, code: number, reason: string) {
    const up = ws.data.upstream;
    if (up && up.readyState <= WebSocket.OPEN) up.close(code === 1005 || code === 1006 ? 1000 : code, reason);
  },
};
