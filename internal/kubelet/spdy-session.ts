// The server half of a SPDY/3.1 session, as Kubernetes' streaming protocols use it (exec, attach, port-forward):
// the client opens every stream (SYN_STREAM with headers such as "streamtype"); we answer each with SYN_REPLY
// and exchange DATA frames; FIN half-closes a stream. The bytes come from a websocket tunnel (kubectl's
// "SPDY/3.1+portforward.k8s.io", or the API server relaying a client's plain SPDY upgrade).
// Hand-written: no maintained SPDY/3.1 server exists for Bun, and the subset needed is small (SYN_STREAM,
// SYN_REPLY, DATA, RST_STREAM, PING, GOAWAY; SETTINGS and WINDOW_UPDATE are ignored, as Go's spdystream
// client does not depend on them). Header blocks use zlib with the SPDY/3 dictionary; ours are written as
// stored (uncompressed) deflate blocks, which any inflater accepts.
import zlib from "node:zlib";
import { logger } from "../log/log.ts";

const log = logger("kubelet.spdy");

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
/** Largest DATA payload we send in one frame (the 24-bit length allows more; peers buffer less). */
const MAX_DATA = 32 * 1024;

/** One client-opened stream. */
export class SpdyStream {
  /** Bytes the client sent on this stream. */
  ondata?: (b: Uint8Array) => void;
  /** The client half-closed (FIN) or reset the stream. */
  onend?: () => void;
  private ended = false;
  private remoteEnded = false;

  constructor(
    private session: SpdySession,
    readonly id: number,
    readonly headers: Map<string, string>,
  ) {}

  write(b: Uint8Array): void {
    if (!this.ended && b.length) this.session.data(this.id, b, false);
  }

  /** Half-closes our side (FIN). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.session.data(this.id, new Uint8Array(0), true);
  }

  /** @internal */
  receive(b: Uint8Array, fin: boolean): void {
    if (b.length) this.ondata?.(b);
    if (fin) this.remoteEnd();
  }

  /** @internal */
  remoteEnd(): void {
    if (this.remoteEnded) return;
    this.remoteEnded = true;
    this.onend?.();
  }
}

export interface SpdySessionOptions {
  /** Sends bytes to the client. */
  send(b: Uint8Array): void;
  /** Ends the underlying connection. */
  close(): void;
  /** A stream the client opened; it was already answered with SYN_REPLY. */
  onStream(s: SpdyStream): void;
}

export class SpdySession {
  private buf = Buffer.alloc(0);
  private inflated = Buffer.alloc(0);
  private compressedIn = Buffer.alloc(0);
  private sentHeader = false;
  private closed = false;
  readonly streams = new Map<number, SpdyStream>();

  constructor(private o: SpdySessionOptions) {}

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
        log.warn("bad SPDY frame; closing the session", { error: e });
        this.close();
        return;
      }
    }
  }

  /** The connection is gone (or we end it): every stream sees its end. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.remoteEnd();
    this.o.close();
  }

  private frame(f: Buffer): void {
    const flags = f[4]!;
    const body = f.subarray(8);
    if (!(f[0]! & 0x80)) {
      const s = this.streams.get(f.readUInt32BE(0) & 0x7fffffff);
      s?.receive(body, !!(flags & FLAG_FIN));
      return;
    }
    const type = f.readUInt16BE(2);
    if (type === SYN_STREAM) {
      const id = body.readUInt32BE(0) & 0x7fffffff;
      const headers = this.headers(body.subarray(10));
      this.control(SYN_REPLY, 0, Buffer.concat([u32(id), this.nv([])]));
      const s = new SpdyStream(this, id, headers);
      this.streams.set(id, s);
      this.o.onStream(s);
      if (flags & FLAG_FIN) s.remoteEnd();
    } else if (type === PING) this.o.send(f);
    else if (type === GOAWAY) this.close();
    else if (type === RST_STREAM) this.streams.get(body.readUInt32BE(0) & 0x7fffffff)?.remoteEnd();
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
    if (this.closed) return;
    const h = Buffer.alloc(8);
    h.writeUInt16BE(0x8003, 0);
    h.writeUInt16BE(type, 2);
    h[4] = flags;
    h.writeUIntBE(body.length, 5, 3);
    this.o.send(Buffer.concat([h, body]));
  }

  /** @internal DATA frames for a stream; an empty payload with fin sends just the FIN. */
  data(id: number, payload: Uint8Array, fin: boolean): void {
    if (this.closed) return;
    let off = 0;
    do {
      const chunk = payload.subarray(off, off + MAX_DATA);
      off += chunk.length;
      const h = Buffer.alloc(8);
      h.writeUInt32BE(id & 0x7fffffff, 0);
      h[4] = fin && off >= payload.length ? FLAG_FIN : 0;
      h.writeUIntBE(chunk.length, 5, 3);
      this.o.send(Buffer.concat([h, chunk]));
    } while (off < payload.length);
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
