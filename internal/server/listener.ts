// The API server's TLS listener. Bun.serve cannot hand over a connection for a non-websocket upgrade, and SPDY
// clients (kubectl's fallback, older client-go, CI tools, IDE plugins) upgrade with "Upgrade: SPDY/3.1" for
// exec, attach and port-forward. So TLS ends here: the first request head of each connection is read; a SPDY
// upgrade is given to `onRawUpgrade` with the raw connection, every other connection is spliced byte for byte
// to the Bun.serve app listening on a private unix socket (keep-alive, websockets and streaming unchanged).
// client-go dials a fresh connection for each upgrade, so only a connection's first request needs a look.
import type { Socket } from "bun";
import type { RawConnection } from "../apiserver/subresources/spdyupgrade.ts";

export interface FrontListenerOptions {
  port: number;
  hostname: string;
  tls: { cert: string; key: string };
  /** Unix socket of the Bun.serve app that serves everything else (plain HTTP). */
  backendUnix: string;
  onRawUpgrade(req: Request, conn: RawConnection): void;
}

const MAX_HEAD = 64 * 1024;
/** A connection that has not sent a whole request head by then is dropped (Bun.serve does the same). */
const HEAD_TIMEOUT_MS = 30_000;
/** Queued bytes towards one side above which the other side stops being read (backpressure). */
const HIGH_WATER = 1024 * 1024;

interface Side {
  sock?: Socket<any>;
  queue: Uint8Array[];
  queued: number;
  /** Nothing more may be written (the socket closed). */
  ended: boolean;
  /** End the socket once the queue is written. */
  endAfterFlush?: boolean;
}

interface ConnState {
  mode: "head" | "pipe" | "raw";
  head: Buffer[];
  headLen: number;
  headTimer?: ReturnType<typeof setTimeout>;
  closed: boolean;
  /** Towards the client and towards the backend. */
  client: Side;
  backend: Side;
  raw?: RawConnection;
  /** In raw mode: where the client's bytes go. */
  toRaw?: (b: Uint8Array) => void;
}

function write(to: Side, b: Uint8Array, from?: Socket<any>): void {
  if (to.ended) return;
  if (!to.sock || to.queue.length) {
    to.queue.push(Buffer.from(b));
    to.queued += b.length;
  } else {
    const n = to.sock.write(b);
    if (n < b.length) {
      to.queue.push(Buffer.from(b.subarray(Math.max(n, 0))));
      to.queued += b.length - Math.max(n, 0);
    }
  }
  if (to.queued > HIGH_WATER) from?.pause();
}

function flush(to: Side, resume?: Socket<any>): void {
  if (!to.sock) return;
  while (to.queue.length) {
    const b = to.queue[0]!;
    const n = to.sock.write(b);
    if (n < b.length) {
      to.queue[0] = b.subarray(Math.max(n, 0));
      to.queued -= Math.max(n, 0);
      return;
    }
    to.queue.shift();
    to.queued -= b.length;
  }
  resume?.resume();
}

/** Lets what is queued reach the peer first. */
function endAfterFlush(side: Side): void {
  if (!side.queue.length) side.sock?.end();
  else side.endAfterFlush = true;
}

function parseHead(text: string): { method: string; path: string; headers: Headers } | undefined {
  const lines = text.split("\r\n");
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(lines[0] ?? "");
  if (!m) return undefined;
  const headers = new Headers();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(":");
    if (i > 0) {
      try {
        headers.append(l.slice(0, i).trim(), l.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return { method: m[1]!, path: m[2]!, headers };
}

export function isSpdyUpgrade(h: Headers): boolean {
  return /(^|,)\s*spdy\/3\.1\s*(,|$)/i.test(h.get("upgrade") ?? "") && /upgrade/i.test(h.get("connection") ?? "");
}

export function listenTLSWithRawUpgrades(o: FrontListenerOptions): { port: number; stop(): void } {
  const conns = new Set<Socket<ConnState>>();

  function toBackend(s: Socket<ConnState>, first: Buffer): void {
    const st = s.data;
    st.mode = "pipe";
    write(st.backend, first, s);
    Bun.connect<{ front: Socket<ConnState> }>({
      unix: o.backendUnix,
      data: { front: s },
      socket: {
        open(b) {
          st.backend.sock = b;
          flush(st.backend, s);
          if (st.client.ended) b.end();
        },
        data(b, chunk) {
          write(st.client, chunk, b);
        },
        drain() {
          flush(st.backend, s);
        },
        close() {
          st.backend.ended = true;
          endAfterFlush(st.client);
        },
        error() {},
      },
    }).catch(() => {
      s.write("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      s.end();
    });
  }

  function upgrade(s: Socket<ConnState>, p: { method: string; path: string; headers: Headers }, rest: Buffer): void {
    const st = s.data;
    st.mode = "raw";
    // Bytes that arrive before the handler listens (a client that does not wait for the 101) are kept for it.
    const early: Uint8Array[] = rest.length ? [Buffer.from(rest)] : [];
    let listener: ((b: Uint8Array) => void) | undefined;
    st.toRaw = (b) => (listener ? listener(b) : early.push(Buffer.from(b)));
    const raw: RawConnection = {
      write: (b) => write(st.client, typeof b === "string" ? Buffer.from(b) : b),
      end: () => endAfterFlush(st.client),
      get closed() {
        return st.closed;
      },
      get ondata() {
        return listener;
      },
      set ondata(fn) {
        listener = fn;
        if (fn) for (const b of early.splice(0)) fn(b);
      },
    };
    st.raw = raw;
    const host = p.headers.get("host") ?? "localhost";
    const req = new Request(`https://${host}${p.path}`, { method: p.method, headers: p.headers });
    o.onRawUpgrade(req, raw);
  }

  const server = Bun.listen<ConnState>({
    hostname: o.hostname,
    port: o.port,
    tls: { cert: o.tls.cert, key: o.tls.key },
    socket: {
      open(s) {
        s.data = { mode: "head", head: [], headLen: 0, closed: false, client: { sock: s, queue: [], queued: 0, ended: false }, backend: { queue: [], queued: 0, ended: false } };
        s.data.headTimer = setTimeout(() => s.data.mode === "head" && s.end(), HEAD_TIMEOUT_MS);
        conns.add(s);
      },
      data(s, chunk) {
        const st = s.data;
        if (st.mode === "pipe") return write(st.backend, chunk, s);
        if (st.mode === "raw") return st.toRaw?.(chunk);
        st.head.push(Buffer.from(chunk));
        st.headLen += chunk.length;
        const all = Buffer.concat(st.head);
        const end = all.indexOf("\r\n\r\n");
        if (end < 0 && st.headLen < MAX_HEAD) return;
        st.head = [];
        clearTimeout(st.headTimer);
        const p = end >= 0 ? parseHead(all.toString("latin1", 0, end)) : undefined;
        if (p && isSpdyUpgrade(p.headers)) return upgrade(s, p, all.subarray(end + 4));
        // Anything else (including what we cannot parse) is the app's to answer.
        toBackend(s, all);
      },
      drain(s) {
        flush(s.data.client, s.data.backend.sock);
        if (s.data.client.endAfterFlush && !s.data.client.queue.length) s.end();
      },
      close(s) {
        conns.delete(s);
        const st = s.data;
        clearTimeout(st.headTimer);
        st.closed = true;
        st.client.ended = true;
        st.backend.sock?.end();
        st.raw?.onclose?.();
      },
      error() {},
    },
  });
  return {
    port: server.port,
    stop() {
      server.stop(true);
      for (const s of conns) s.end();
    },
  };
}
