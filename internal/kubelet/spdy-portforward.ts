// Port-forward over SPDY (kubectl port-forward, client-go's portforward package): per forwarded connection the
// client opens an "error" and a "data" stream (headers streamtype, port, requestid); we connect to the port
// inside the pod and copy bytes both ways. Errors are written to the error stream, as upstream's kubelet does.
import { SpdySession, type SpdyStream } from "./spdy-session.ts";

interface Conn {
  write(b: Uint8Array): void;
  end(): void;
}

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
  port?: number;
  conn?: Conn;
  pending: Uint8Array[];
  finished?: boolean;
}

export interface SpdyPortForwardOptions {
  send(b: Uint8Array): void;
  close(): void;
  /** Opens a TCP connection to the port inside the pod. */
  connect(port: number, h: { data(b: Uint8Array): void; close(): void; error(e: Error): void }): Promise<Conn>;
  /** Ports the request allowed (?ports=); empty = any. */
  ports: number[];
}

export class SpdyPortForward {
  private session: SpdySession;
  private pairs = new Map<string, Pair>();

  constructor(private o: SpdyPortForwardOptions) {
    this.session = new SpdySession({ send: o.send, close: o.close, onStream: (s) => this.onStream(s) });
  }

  feed(bytes: Uint8Array): void {
    this.session.feed(bytes);
  }

  private onStream(s: SpdyStream): void {
    const rid = s.headers.get("requestid") ?? String(s.id);
    const p = this.pairs.get(rid) ?? { pending: [] };
    this.pairs.set(rid, p);
    p.port = Number(s.headers.get("port"));
    const type = s.headers.get("streamtype");
    if (type === "error") p.error = s;
    else if (type === "data") {
      p.data = s;
      s.ondata = (b) => (p.conn ? p.conn.write(b) : p.pending.push(Buffer.from(b)));
      s.onend = () => p.conn?.end();
    }
    if (!p.data || !p.error) return;
    const fail = (msg: string) => {
      if (p.finished) return;
      p.finished = true;
      p.error!.write(Buffer.from(msg));
      p.error!.end();
      p.data!.end();
    };
    if (!p.port || (this.o.ports.length && !this.o.ports.includes(p.port))) return fail(`port ${s.headers.get("port")} is not allowed`);
    this.o
      .connect(p.port, {
        data: (b) => p.data!.write(b),
        close: () => {
          if (p.finished) return;
          p.finished = true;
          p.data!.end();
          p.error!.end();
        },
        error: (e) => fail(`error forwarding port ${p.port} to pod: ${e.message}`),
      })
      .then((c) => {
        p.conn = c;
        for (const b of p.pending) c.write(b);
        p.pending = [];
      })
      .catch((e) => fail(`error forwarding port ${p.port} to pod: ${(e as Error).message}`));
  }

  close(): void {
    for (const p of this.pairs.values()) p.conn?.end();
  }
}
