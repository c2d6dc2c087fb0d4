// Forwarding of non-cluster names to upstream resolvers: the client's query is sent as-is (same id, same EDNS
// size) to each upstream in turn until one answers, over UDP for UDP clients and TCP for TCP clients.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { inNetns } from "../runtime/netns.ts";

export interface Upstream {
  host: string;
  port: number;
}

const TIMEOUT_MS = 2000;

/** "1.1.1.1", "1.1.1.1:5353", "[fd00::1]:53" → Upstream. */
export function parseUpstream(s: string): Upstream {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? (isIP(s) ? [s, s, undefined] : /^([^:]+):(\d+)$/.exec(s));
  if (!m || !isIP(m[1]!)) throw new Error(`dns: bad upstream ${JSON.stringify(s)} (want IP or IP:port)`);
  return { host: m[1]!, port: m[2] ? Number(m[2]) : 53 };
}

/** Nameservers of a resolv.conf, without the addresses we serve on ourselves (a loop). */
export function upstreamsFromResolvConf(path: string, exclude: string[]): Upstream[] {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const out: Upstream[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && isIP(m[1]!.replace(/%.*$/, "")) && !exclude.includes(m[1]!)) out.push({ host: m[1]!.replace(/%.*$/, ""), port: 53 });
  }
  return out;
}

export class Forwarder {
  constructor(
    private upstreams: Upstream[],
    private netnsPath?: string,
  ) {}

  get enabled(): boolean {
    return this.upstreams.length > 0;
  }

  /** The first upstream answer, or undefined when none answered in time. */
  async forward(query: Uint8Array, tcp: boolean): Promise<Uint8Array | undefined> {
    for (const u of this.upstreams) {
      try {
        const r = await (tcp ? this.viaTCP(u, query) : this.viaUDP(u, query));
        if (r) return r;
      } catch {}
    }
    return undefined;
  }

  private async viaUDP(u: Upstream, query: Uint8Array): Promise<Uint8Array | undefined> {
    let done!: (b: Uint8Array | undefined) => void;
    const result = new Promise<Uint8Array | undefined>((r) => (done = r));
    const id = (query[0]! << 8) | query[1]!;
    const sock = await inNetns(this.netnsPath, () =>
      Bun.udpSocket({
        hostname: isIP(u.host) === 6 ? "::" : "0.0.0.0",
        socket: {
          data(_s, buf, port, addr) {
            // Only the upstream's answer to this query (spoofed or stray datagrams are dropped).
            if (port === u.port && addr === u.host && buf.length >= 2 && ((buf[0]! << 8) | buf[1]!) === id) done(new Uint8Array(buf));
          },
        },
      }),
    );
    const timer = setTimeout(() => done(undefined), TIMEOUT_MS);
    try {
      sock.send(query, u.port, u.host);
      return await result;
    } finally {
      clearTimeout(timer);
      sock.close();
    }
  }

  private async viaTCP(u: Upstream, query: Uint8Array): Promise<Uint8Array | undefined> {
    let done!: (b: Uint8Array | undefined) => void;
    const result = new Promise<Uint8Array | undefined>((r) => (done = r));
    let buf = new Uint8Array(0);
    const framed = new Uint8Array(query.length + 2);
    framed[0] = query.length >> 8;
    framed[1] = query.length & 0xff;
    framed.set(query, 2);
    const sock = await inNetns(this.netnsPath, () =>
      Bun.connect({
        hostname: u.host,
        port: u.port,
        socket: {
          open(s) {
            s.write(framed);
          },
          data(_s, chunk) {
            const next = new Uint8Array(buf.length + chunk.length);
            next.set(buf);
            next.set(chunk, buf.length);
            buf = next;
            if (buf.length >= 2 && buf.length >= 2 + ((buf[0]! << 8) | buf[1]!)) done(buf.slice(2, 2 + ((buf[0]! << 8) | buf[1]!)));
          },
          close() {
            done(undefined);
          },
          error() {
            done(undefined);
          },
          connectError() {
            done(undefined);
          },
        },
      }),
    ).catch(() => undefined);
    if (!sock) return undefined;
    const timer = setTimeout(() => done(undefined), TIMEOUT_MS);
    try {
      return await result;
    } finally {
      clearTimeout(timer);
      sock.end();
    }
  }
}
