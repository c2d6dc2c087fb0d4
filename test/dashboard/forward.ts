// A byte-for-byte TCP ⇄ unix-socket forwarder (TLS passes through untouched). The browser runs in a network
// namespace of its own with only a loopback, so that veths other tests create on the host do not make chromium
// abort requests with ERR_NETWORK_CHANGED; a unix socket (a file) is the one way through:
//   chromium → 127.0.0.1:PORT (its netns) → forward.ts in the netns → unix socket → forwardUnixToTCP → the API server.
//
//   bun forward.ts tcp-to-unix PORT SOCKET [READY-FILE]   (run inside the browser's netns; exits when its parent goes)
import { createConnection, createServer, type Server, type Socket } from "node:net";

function splice(a: Socket, b: Socket) {
  a.pipe(b);
  b.pipe(a);
  const close = () => (a.destroy(), b.destroy());
  a.on("error", close).on("close", close);
  b.on("error", close).on("close", close);
}

/** Host side: connections on the unix socket go to 127.0.0.1:port (whatever server listens there now). */
export function forwardUnixToTCP(socketPath: string, port: number): Promise<Server> {
  const srv = createServer((c) => splice(c, createConnection({ host: "127.0.0.1", port })));
  return new Promise((resolve, reject) => srv.once("error", reject).listen(socketPath, () => resolve(srv)));
}

if (import.meta.main) {
  const [mode, port, sock, ready] = process.argv.slice(2);
  if (mode !== "tcp-to-unix" || !port || !sock) throw new Error("usage: forward.ts tcp-to-unix PORT SOCKET [READY-FILE]");
  createServer((c) => splice(c, createConnection(sock))).listen(Number(port), "127.0.0.1", () => {
    if (ready) require("node:fs").writeFileSync(ready, "");
  });
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0); // chromium (our parent) is gone
  }, 1000);
}
