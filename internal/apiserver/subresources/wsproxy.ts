// Bridges a client's websocket (kubectl exec / port-forward speak v5.channel.k8s.io and friends) to a
// websocket opened to the kubelet: the upstream socket is opened first so that the client receives the
// subprotocol the kubelet chose; frames are then relayed unchanged in both directions.
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import { StatusError } from "../../api/status.ts";

export interface BridgeData {
  kind: "kubelet-bridge";
  upstream: WebSocket;
}

/** Bun.serve's `websocket` option; the control plane passes it to Bun.serve. */
export const websocketHandlers: WebSocketHandler<BridgeData> = {
  open(ws: ServerWebSocket<BridgeData>) {
    const up = ws.data.upstream;
    up.onmessage = (ev) => {
      const d = ev.data;
      ws.send(typeof d === "string" ? d : new Uint8Array(d as ArrayBuffer));
    };
    up.onclose = (ev) => ws.close(ev.code === 1005 || ev.code === 1006 ? 1000 : ev.code, ev.reason);
    up.onerror = () => ws.close(1011, "kubelet connection failed");
  },
  message(ws: ServerWebSocket<BridgeData>, message: string | Buffer) {
    ws.data.upstream.send(message as string | Uint8Array<ArrayBuffer>);
  },
  close(ws: ServerWebSocket<BridgeData>, code: number, reason: string) {
    const up = ws.data.upstream;
    if (up.readyState === WebSocket.OPEN || up.readyState === WebSocket.CONNECTING) {
      try {
        up.close(code === 1005 || code === 1006 ? 1000 : code, reason);
      } catch {
        up.close();
      }
    }
  },
};

export function isWebsocketUpgrade(req: Request): boolean {
  return (req.headers.get("upgrade") ?? "").toLowerCase() === "websocket";
}

/** Opens `url` as a websocket with the client's offered subprotocols, then upgrades the client request. */
export async function bridgeWebsocket(
  req: Request,
  server: Server<BridgeData> | undefined,
  url: string,
  headers: Record<string, string>,
  /** TLS options of the upstream connection (the kubelet's: cluster CA + that node's identity). */
  tls: Record<string, unknown> = { rejectUnauthorized: false },
): Promise<Response> {
  if (!server || typeof server.upgrade !== "function") {
    throw new StatusError(500, "InternalError", "websocket upgrades are not available on this listener");
  }
  const protocols = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  // Offered as a header: Bun's WebSocket client rejects subprotocols such as "SPDY/3.1+portforward.k8s.io"
  // ('/' and '+' are not token characters), which kubectl port-forward offers.
  const offer = protocols.length ? { "Sec-WebSocket-Protocol": protocols.join(", ") } : {};
  const upstream = new WebSocket(url, { headers: { ...headers, ...offer }, tls } as any);
  upstream.binaryType = "arraybuffer";
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("timed out")), 10_000);
    upstream.onopen = () => {
      clearTimeout(t);
      resolve();
    };
    upstream.onerror = () => {
      clearTimeout(t);
      reject(new Error("connection refused or upgrade rejected"));
    };
  }).catch((err) => {
    throw new StatusError(502, "InternalError", `error dialing backend: ${err.message}`);
  });
  const ok = server.upgrade(req, {
    headers: upstream.protocol ? { "Sec-WebSocket-Protocol": upstream.protocol } : {},
    data: { kind: "kubelet-bridge", upstream },
  });
  if (!ok) {
    upstream.close();
    throw new StatusError(400, "BadRequest", "websocket upgrade failed");
  }
  return new Response(null);
}
