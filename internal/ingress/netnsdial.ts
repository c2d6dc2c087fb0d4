// Reaching pod IPs when the node's network lives in another namespace than this process (tests, `nodeNetns`):
// fetch() connects on its own thread, so it cannot be wrapped in setns. Instead each endpoint gets a unix socket in
// this process whose connections are relayed to ip:port by a TCP socket opened inside the node's namespace
// (Bun.connect creates its socket synchronously, see runtime/netns.ts); fetch uses it through its `unix` option.
// A refused backend closes the relayed connection at once, which the proxy treats like a refused connection.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Socket, UnixSocketListener } from "bun";
import { inNetns } from "../runtime/netns.ts";

interface Pipe {
  peer?: Socket<Pipe>;
  pending: Uint8Array[];
  closed: boolean;
}

function flush(to: Socket<Pipe> | undefined, d: Pipe) {
  if (!to) return;
  while (d.pending.length) {
    const chunk = d.pending[0]!;
    const n = to.write(chunk);
    if (n < chunk.length) {
      d.pending[0] = chunk.subarray(Math.max(n, 0));
      return;
    }
    d.pending.shift();
  }
}

export class NetnsDialer {
  private listeners = new Map<string, UnixSocketListener<Pipe>>();

  constructor(
    private netnsPath: string,
    private dir: string,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** The unix socket path that leads to ip:port inside the namespace. */
  socketFor(ip: string, port: number): string {
    const path = join(this.dir, `${ip.replace(/[^0-9a-f.]/gi, "_")}-${port}.sock`);
    if (this.listeners.has(path)) return path;
    rmSync(path, { force: true });
    const netns = this.netnsPath;
    const listener = Bun.listen<Pipe>({
      unix: path,
      socket: {
        open(client) {
          client.data = { pending: [], closed: false };
          const upData: Pipe = { peer: client, pending: [], closed: false };
          inNetns(netns, () =>
            Bun.connect<Pipe>({
              hostname: ip,
              port,
              data: upData,
              socket: {
                open(up) {
                  client.data.peer = up;
                  flush(up, client.data);
                },
                data(up, chunk) {
                  up.data.pending.push(new Uint8Array(chunk));
                  flush(client, up.data);
                },
                drain(up) {
                  flush(up, client.data);
                },
                close() {
                  upData.closed = true;
                  client.end();
                },
                error() {
                  client.end();
                },
                connectError() {
                  client.end();
                },
              },
            }),
          ).catch(() => client.end());
        },
        data(client, chunk) {
          client.data.pending.push(new Uint8Array(chunk));
          flush(client.data.peer, client.data);
        },
        drain(client) {
          const up = client.data.peer;
          if (up) flush(client, up.data);
        },
        close(client) {
          client.data.closed = true;
          client.data.peer?.end();
        },
        error(client) {
          client.data.peer?.end();
        },
      },
    });
    this.listeners.set(path, listener);
    return path;
  }

  close() {
    for (const [path, l] of this.listeners) {
      l.stop(true);
      rmSync(path, { force: true });
    }
    this.listeners.clear();
  }
}
