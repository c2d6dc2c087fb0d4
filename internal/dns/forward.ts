// Forwarding of non-cluster names to upstream resolvers: the client's query is sent as-is (same id, same EDNS
// size) to each upstream in turn until one answers, over UDP for UDP clients and TCP for TCP clients.
// An air-gapped node, or one without a default route, has upstreams that cannot be reached: every socket error is
// handled (an unhandled one would end the whole agent), an upstream that failed is skipped for a while so queries
// get SERVFAIL at once instead of after a timeout, and the failure is logged once a minute, not once a query.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { logger, type Logger } from "../log/log.ts";
import { inNetns } from "../runtime/netns.ts";

export interface Upstream {
  host: string;
  port: number;
}

const TIMEOUT_MS = 2000;
/** How long an upstream that failed (error or timeout) is skipped before it is tried again. */
export const UPSTREAM_RETRY_MS = 10_000;
const LOG_EVERY_MS = 60_000;

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
  /** Upstream "host:port" → when it may be tried again after a failure. */
  private downUntil = new Map<string, number>();
  private lastLog = 0;
  private failuresSinceLog = 0;

  constructor(
    private upstreams: Upstream[],
    private netnsPath?: string,
    private log: Logger = logger("dns"),
    private now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.upstreams.length > 0;
  }

  /** The first upstream answer, or undefined when none answered (in time, or at all: the caller answers SERVFAIL). */
  async forward(query: Uint8Array, tcp: boolean): Promise<Uint8Array | undefined> {
    for (const u of this.upstreams) {
      const key = `${u.host}:${u.port}`;
      if ((this.downUntil.get(key) ?? 0) > this.now()) continue;
      let answer: Uint8Array | undefined;
      let error: unknown;
      try {
        answer = await (tcp ? this.viaTCP(u, query) : this.viaUDP(u, query));
      } catch (e) {
        error = e;
      }
      if (answer) {
        this.downUntil.delete(key);
        return answer;
      }
      this.downUntil.set(key, this.now() + UPSTREAM_RETRY_MS);
      this.noteFailure(key, error);
    }
    return undefined;
  }

  private noteFailure(upstream: string, error: unknown): void {
    this.failuresSinceLog++;
    if (this.now() - this.lastLog < LOG_EVERY_MS) return;
    this.lastLog = this.now();
    const reason = (error as { code?: string } | undefined)?.code ?? (error instanceof Error ? error.message : "no answer");
    this.log.warn("upstream DNS resolver unreachable: names outside the cluster get SERVFAIL", { upstream, reason, failures: this.failuresSinceLog });
    this.failuresSinceLog = 0;
  }

  private async viaUDP(u: Upstream, query: Uint8Array): Promise<Uint8Array | undefined> {
    let done!: (b: Uint8Array | undefined) => void;
    let failed!: (e: unknown) => void;
    const result = new Promise<Uint8Array | undefined>((resolve, reject) => ((done = resolve), (failed = reject)));
    result.catch(() => {}); // a failure before we await it is still ours to handle, not an unhandled rejection
    const id = (query[0]! << 8) | query[1]!;
    const sock = await inNetns(this.netnsPath, () =>
      Bun.udpSocket({
        hostname: isIP(u.host) === 6 ? "::" : "0.0.0.0",
        socket: {
          data(_s, buf, port, addr) {
            // Only the upstream's answer to this query (spoofed or stray datagrams are dropped).
            if (port === u.port && addr === u.host && buf.length >= 2 && ((buf[0]! << 8) | buf[1]!) === id) done(new Uint8Array(buf));
          },
          // ICMP errors (EHOSTUNREACH, ECONNREFUSED) arrive here, after the send: without this handler they end the
          // process. Bun 1.4.4 passes the error first (its types say second), so take whichever argument is one.
          error(...args: unknown[]) {
            failed(args.find((a) => a instanceof Error));
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
    let failed!: (e: unknown) => void;
    const result = new Promise<Uint8Array | undefined>((resolve, reject) => ((done = resolve), (failed = reject)));
    result.catch(() => {}); // a failure before we await it is still ours to handle, not an unhandled rejection
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
          error(_s, e) {
            failed(e);
          },
          connectError(_s, e) {
            failed(e);
          },
        },
      }),
    ).catch((e) => failed(e));
    if (!sock) return result;
    const timer = setTimeout(() => done(undefined), TIMEOUT_MS);
    try {
      return await result;
    } finally {
      clearTimeout(timer);
      sock.end();
    }
  }
}
