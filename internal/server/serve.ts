// Serves the API app: Bun.serve on a private unix socket (plain HTTP; websockets as before) behind the TLS
// listener that also accepts SPDY upgrades (listener.ts), which go to the app through serveSpdyUpgrade.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WebSocketHandler } from "bun";
import { serveSpdyUpgrade } from "../apiserver/subresources/spdyupgrade.ts";
import { listenTLSWithRawUpgrades } from "./listener.ts";

export interface ServeAPIOptions {
  port: number;
  hostname: string;
  tls: { cert: string; key: string };
  /** Where the private socket goes (<data-dir>/server); a temp dir when that path is too long for a socket. */
  socketDir: string;
  maxRequestBodySize: number;
  app: { fetch(req: Request, env: any): Response | Promise<Response> };
  websocket: WebSocketHandler<any>;
}

export function serveAPI(o: ServeAPIOptions): { port: number; stop(): Promise<void> } {
  let dir = o.socketDir;
  let ownDir = false;
  // sun_path holds 108 bytes.
  if (join(dir, "api.sock").length > 100) {
    dir = mkdtempSync(join(tmpdir(), "kubun-api-"));
    ownDir = true;
  }
  mkdirSync(dir, { recursive: true });
  const unix = join(dir, "api.sock");
  rmSync(unix, { force: true });
  // (The types leave idleTimeout out for unix sockets; Bun applies it to them too.)
  const backend = Bun.serve({
    unix,
    // Watches and log streams are long-lived; the API server bounds them itself (timeoutSeconds).
    idleTimeout: 0,
    maxRequestBodySize: o.maxRequestBodySize,
    fetch: (req: Request, srv: unknown) => o.app.fetch(req, srv),
    websocket: o.websocket,
  } as any);
  chmodSync(unix, 0o600);
  let front;
  try {
    front = listenTLSWithRawUpgrades({
      port: o.port,
      hostname: o.hostname,
      tls: o.tls,
      backendUnix: unix,
      onRawUpgrade: (req, conn) => void serveSpdyUpgrade(o.app, req, conn),
    });
  } catch (e) {
    backend.stop(true);
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    port: front.port,
    async stop() {
      front.stop();
      await backend.stop(true);
      rmSync(ownDir ? dir : unix, { recursive: true, force: true });
    },
  };
}
