// kubectl port-forward (1.31+) tunnels SPDY/3.1 inside a websocket ("SPDY/3.1+portforward.k8s.io"): the
// websocket's binary messages carry a raw SPDY byte stream. This is the server half of the port-forward
// protocol over it: per forwarded connection the client opens an "error" and a "data" stream (headers
// streamtype, port, requestid); we reply, connect to the port inside the pod and copy bytes both ways.
// Hand-written: no maintained SPDY/3.1 server exists for Bun, and the subset needed is small (SYN_STREAM,
// SYN_REPLY, DATA, RST_STREAM, PING, GOAWAY). Header blocks use zlib with the SPDY/3 dictionary; ours are
// written as stored (uncompressed) deflate blocks, which any inflater accepts.
import zlib from "node:zlib";
import { logger } from "../log/log.ts";

const log = logger("kubelet.portforward");

// The SPDY/3 header dictionary (draft-mbelshe-httpbis-spdy-00 §2.6.10.1): length-prefixed words, then text.
const WORDS = [
  "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding", "accept-language",
  "accept-ranges", "age", "allow", "authorization", "cache-control", "connection", "content-base", "content-encoding",
  "content-language", "content-length", "content-location", "content-md5", "content-range", "content-type", "date",
  "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since", "if-none-match", "if-range",
  "if-unmodified-since", "last-modified", "location", "max-forwards", "pragma", "proxy-authenticate",
  "proxy-authorization", "range", "referer", "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade",
  "user-agent", "vary", "via", "warning", "www-authenticate", "method", "get", "status", "200 OK", "version",
  "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin",
];
const TEXT =
  "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505" +
  "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized" +
  "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable" +
  "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT" +
  "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain," +
  "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

export const SPDY_DICTIONARY: Buffer = (() => {
  const parts: Buffer[] = [];
  for (const w of WORDS) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    parts.push(len, Buffer.from(w, "latin1"));
  }
  parts.push(Buffer.from(TEXT, "latin1"));
  return Buffer.concat(parts);
})();

function adler32(b: Buffer): number {
  let a = 1;
  let s = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

const SYN_STREAM = 1;
const SYN_REPLY = 2;
const RST_STREAM = 3;
const PING = 6;
const GOAWAY = 7;
const FLAG_FIN = 1;

interface Conn {
  write(b: Uint8Array): void;
  end(): void;
}

interface Pair {
  data?: number;
  error?: number;
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
  private buf = Buffer.alloc(0);
  private inflated = Buffer.alloc(0);
  private compressedIn = Buffer.alloc(0);
  private sentHeader = false;
  private pairs = new Map<string, Pair>();
  private byStream = new Map<number, Pair>();

  constructor(private o: SpdyPortForwardOptions) {}

  feed(bytes: Uint8Array): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, bytes]) : Buffer.from(bytes);
    while (this.buf.length >= 8) {
      const len = this.buf.readUIntBE(5, 3);
      if (this.buf.length < 8 + len) return;
      const frame = this.buf.subarray(0, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      try {
        this.frame(frame);
      } catch (e) {
        log.warn("bad SPDY frame; closing port-forward", { error: e });
        this.o.close();
        return;
      }
    }
  }

  private frame(f: Buffer): void {
    const flags = f[4]!;
    const body = f.subarray(8);
    if (!(f[0]! & 0x80)) {
      const id = f.readUInt32BE(0) & 0x7fffffff;
      const p = this.byStream.get(id);
      if (!p || id !== p.data) return;
      if (body.length) p.conn ? p.conn.write(body) : p.pending.push(Buffer.from(body));
      if (flags & FLAG_FIN) p.conn?.end();
      return;
    }
    const type = f.readUInt16BE(2);
    if (type === SYN_STREAM) {
      const id = body.readUInt32BE(0) & 0x7fffffff;
      const headers = this.headers(body.subarray(10));
      this.control(SYN_REPLY, 0, Buffer.concat([u32(id), this.nv([])]));
      this.onStream(id, headers);
    } else if (type === PING) this.o.send(f);
    else if (type === GOAWAY) this.o.close();
    else if (type === RST_STREAM) {
      const p = this.byStream.get(body.readUInt32BE(0) & 0x7fffffff);
      p?.conn?.end();
    }
  }

  /** Client header blocks share one zlib stream; re-inflating the whole stream keeps this stateless. */
  private headers(block: Buffer): Map<string, string> {
    this.compressedIn = Buffer.concat([this.compressedIn, block]);
    const all = zlib.inflateSync(this.compressedIn, { dictionary: SPDY_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const nv = all.subarray(this.inflated.length);
    this.inflated = all;
    const out = new Map<string, string>();
    let off = 4;
    const n = nv.readUInt32BE(0);
    for (let i = 0; i < n; i++) {
      const kl = nv.readUInt32BE(off);
      const k = nv.toString("latin1", off + 4, off + 4 + kl);
      off += 4 + kl;
      const vl = nv.readUInt32BE(off);
      const v = nv.toString("latin1", off + 4, off + 4 + vl);
      off += 4 + vl;
      out.set(k.toLowerCase(), v);
    }
    return out;
  }

  /** Our header blocks: a zlib stream (with the dictionary) made of stored deflate blocks. */
  private nv(pairs: [string, string][]): Buffer {
    const parts: Buffer[] = [u32(pairs.length)];
    for (const [k, v] of pairs) parts.push(u32(k.length), Buffer.from(k), u32(v.length), Buffer.from(v));
    const plain = Buffer.concat(parts);
    const stored = Buffer.alloc(5);
    stored[0] = 0; // BFINAL=0, BTYPE=00
    stored.writeUInt16LE(plain.length, 1);
    stored.writeUInt16LE(~plain.length & 0xffff, 3);
    // An empty stored block ends each header block, as a zlib sync flush does: inflaters (Go's flate) only
    // hand out a block's bytes once they have seen the next block header.
    const out = [stored, plain, Buffer.from([0, 0, 0, 0xff, 0xff])];
    if (!this.sentHeader) {
      this.sentHeader = true;
      // CMF 0x78, FLG with FDICT set and a valid check; then the dictionary's adler32.
      let flg = 0x20 | 0x80;
      flg += 31 - ((0x78 * 256 + flg) % 31);
      const dictId = Buffer.alloc(4);
      dictId.writeUInt32BE(adler32(SPDY_DICTIONARY));
      out.unshift(Buffer.from([0x78, flg]), dictId);
    }
    return Buffer.concat(out);
  }

  private control(type: number, flags: number, body: Buffer): void {
    const h = Buffer.alloc(8);
    h.writeUInt16BE(0x8003, 0);
    h.writeUInt16BE(type, 2);
    h[4] = flags;
    h.writeUIntBE(body.length, 5, 3);
    this.o.send(Buffer.concat([h, body]));
  }

  private data(id: number, payload: Uint8Array, fin = false): void {
    for (let off = 0; off < payload.length || (fin && off === 0); off += 0xffffff) {
      const chunk = payload.subarray(off, off + 0xffffff);
      const h = Buffer.alloc(8);
      h.writeUInt32BE(id & 0x7fffffff, 0);
      h[4] = fin && off + chunk.length >= payload.length ? FLAG_FIN : 0;
      h.writeUIntBE(chunk.length, 5, 3);
      this.o.send(Buffer.concat([h, chunk]));
      if (!payload.length) break;
    }
  }

  private onStream(id: number, h: Map<string, string>): void {
    const rid = h.get("requestid") ?? String(id);
    const p = this.pairs.get(rid) ?? { pending: [] };
    this.pairs.set(rid, p);
    this.byStream.set(id, p);
    const type = h.get("streamtype");
    p.port = Number(h.get("port"));
    if (type === "error") p.error = id;
    else if (type === "data") p.data = id;
    if (p.data === undefined || p.error === undefined) return;
    const fail = (msg: string) => {
      if (p.finished) return;
      p.finished = true;
      this.data(p.error!, Buffer.from(msg), true);
      this.data(p.data!, new Uint8Array(0), true);
    };
    if (!p.port || (this.o.ports.length && !this.o.ports.includes(p.port))) return fail(`port ${h.get("port")} is not allowed`);
    this.o
      .connect(p.port, {
        data: (b) => this.data(p.data!, b),
        close: () => {
          if (p.finished) return;
          p.finished = true;
          this.data(p.data!, new Uint8Array(0), true);
          this.data(p.error!, new Uint8Array(0), true);
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

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
