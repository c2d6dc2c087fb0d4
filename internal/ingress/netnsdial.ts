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
  /** What this side sent that its peer could not take yet. */
  pending: Uint8Array[];
  /** This side has closed: its peer is ended once pending is through (not before: that would cut the answer). */
  closed: boolean;
}

/** Passes a received chunk on: straight to the peer when nothing waits before it, else (or for what the peer could
 * not take) into a copy queued until the peer drains (the chunk's buffer is not ours after the callback). */
function relay(to: Socket<Pipe> | undefined, d: Pipe, chunk: Uint8Array) {
  if (to && !d.pending.length) {
    const n = Math.max(to.write(chunk), 0);
    if (n === chunk.length) return;
    chunk = chunk.subarray(n);
  }
  d.pending.push(new Uint8Array(chunk));
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
  if (d.closed) to.end();
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
                  relay(client, up.data, chunk);
                },
                drain(up) {
                  flush(up, client.data);
                },
                close() {
                  upData.closed = true;
                  flush(client, upData);
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
          relay(client.data.peer, client.data, chunk);
        },
        drain(client) {
          const up = client.data.peer;
          if (up) flush(client, up.data);
        },
        close(client) {
          client.data.closed = true;
          flush(client.data.peer, client.data);
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
