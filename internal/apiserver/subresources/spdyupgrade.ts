// A client's SPDY upgrade (exec, attach, port-forward) handed over by the TLS listener with its raw connection.
// The request goes through the app as usual (authentication, RBAC with verb create, the pods/* handlers); we
// present it as a websocket upgrade that offers the SPDY tunnel subprotocols ("SPDY/3.1+v4.channel.k8s.io",
// "SPDY/3.1+portforward.k8s.io", …), which the kubelet speaks over a websocket. When the handler bridges to the
// kubelet, the client gets "101 Switching Protocols" with the X-Stream-Protocol-Version the kubelet chose, and
// the SPDY bytes are relayed unchanged between the raw connection and the kubelet websocket; otherwise the
// handler's answer (403, 404, 400 …) is written as a plain HTTP/1.1 response.
import type { BridgeData } from "./wsproxy.ts";

/** The raw client connection the TLS listener (internal/server/listener.ts) hands over with a SPDY upgrade. */
export interface RawConnection {
  write(b: Uint8Array | string): void;
  end(): void;
  /** The client is gone (onclose has been, or would have been, called). */
  readonly closed: boolean;
  /** Bytes from the client after the request head. */
  ondata?: (b: Uint8Array) => void;
  onclose?: () => void;
}

const TUNNEL = "SPDY/3.1+";

type App = { fetch(req: Request, env: unknown): Response | Promise<Response> };

async function writeResponse(conn: RawConnection, res: Response): Promise<void> {
  const body = new Uint8Array(await res.arrayBuffer());
  let head = `HTTP/1.1 ${res.status} ${res.statusText || "Error"}\r\n`;
  for (const [k, v] of res.headers) if (!["content-length", "connection", "transfer-encoding"].includes(k)) head += `${k}: ${v}\r\n`;
  head += `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  conn.write(head);
  conn.write(body);
  conn.end();
}

export async function serveSpdyUpgrade(app: App, req: Request, conn: RawConnection): Promise<void> {
  const offered = (req.headers.get("x-stream-protocol-version") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const headers = new Headers(req.headers);
  headers.set("upgrade", "websocket");
  headers.set("connection", "Upgrade");
  headers.set("sec-websocket-protocol", offered.map((p) => TUNNEL + p).join(", "));
  let bridged: BridgeData | undefined;
  let extra: Record<string, string> = {};
  const server = {
    upgrade(_r: Request, o: { data: BridgeData; headers?: Record<string, string> }) {
      bridged = o.data;
      extra = o.headers ?? {};
      return true;
    },
  };
  let res: Response;
  try {
    res = await app.fetch(new Request(req.url, { method: req.method, headers }), server);
  } catch (e) {
    res = Response.json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: (e as Error).message, reason: "InternalError", code: 500 }, { status: 500 });
  }
  if (!bridged) {
    // No SPDY subprotocol offered at all: upstream answers 400 (the kubelet named what it supports).
    if (!offered.length && res.status < 300) res = new Response("unable to upgrade: no X-Stream-Protocol-Version offered", { status: 400 });
    return writeResponse(conn, res);
  }
  const up = bridged.upstream;
  if (conn.closed) return void up.close(1000);
  const chosen = (extra["Sec-WebSocket-Protocol"] ?? up.protocol ?? "").trim();
  if (!chosen.startsWith(TUNNEL)) {
    up.close();
    return writeResponse(conn, new Response(`unable to upgrade: the kubelet chose no SPDY protocol (offered ${offered.join(", ")})`, { status: 400 }));
  }
  conn.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${chosen.slice(TUNNEL.length)}\r\n\r\n`);
  up.onmessage = (ev) => conn.write(typeof ev.data === "string" ? Buffer.from(ev.data) : new Uint8Array(ev.data as ArrayBuffer));
  up.onclose = () => conn.end();
  up.onerror = () => conn.end();
  conn.ondata = (b) => {
    if (up.readyState === WebSocket.OPEN) up.send(b as Uint8Array<ArrayBuffer>);
  };
  conn.onclose = () => {
    if (up.readyState === WebSocket.OPEN || up.readyState === WebSocket.CONNECTING) up.close(1000);
  };
}
