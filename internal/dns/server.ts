// DNS over UDP and TCP (RFC 1035, 7766): decode with dns-packet, answer the cluster zone, forward the rest.
// UDP answers larger than the client's limit (512 bytes, or its EDNS size) are cut and flagged TC, so the
// client asks again over TCP, which carries the whole answer.
import * as dnsPacket from "dns-packet";
import type { Answer, DecodedPacket, Packet } from "dns-packet";
import type { Logger } from "../log/log.ts";
import { inNetns } from "../runtime/netns.ts";
import type { Forwarder } from "./forward.ts";
import type { ClusterZone, Lookup, Rcode } from "./records.ts";

const RCODES: Record<Rcode | "FORMERR" | "NOTIMP", number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
const MAX_EDNS_UDP = 4096;

export interface Listener {
  host: string;
  udpPort: number;
  tcpPort: number;
  stop(): void;
}

export class DNSHandler {
  constructor(
    private zone: ClusterZone,
    private forwarder: Forwarder,
    private log: Logger,
  ) {}

  /** The wire answer to one wire query; undefined when the query cannot be answered at all (garbage). */
  async handle(raw: Uint8Array, tcp: boolean): Promise<Uint8Array | undefined> {
    let q: DecodedPacket;
    try {
      q = dnsPacket.decode(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
    } catch {
      // Undecodable: FORMERR when at least the id is there.
      return raw.length >= 12 ? errorReply(raw, RCODES.FORMERR) : undefined;
    }
    if (q.type !== "query") return undefined;
    const opt = q.additionals?.find((a) => a.type === "OPT") as { udpPayloadSize?: number } | undefined;
    const limit = tcp ? 65535 : Math.min(Math.max(opt?.udpPayloadSize ?? 512, 512), MAX_EDNS_UDP);
    const question = q.questions?.[0];
    if (!question || q.questions!.length !== 1 || (q as any).opcode !== "QUERY") return this.reply(q, opt, lookupError("NOTIMP"), limit);
    const name = question.name.toLowerCase().replace(/\.$/, "");
    const res = this.zone.lookup(name, question.type);
    if (!res.authoritative && this.forwarder.enabled) {
      const fwd = await this.forwarder.forward(raw, tcp);
      if (fwd) return fwd;
      this.log.debug("no upstream answered", { name });
      return this.reply(q, opt, lookupError("SERVFAIL"), limit);
    }
    return this.reply(q, opt, res, limit);
  }

  private reply(q: DecodedPacket, opt: object | undefined, res: Lookup | ReturnType<typeof lookupError>, limit: number): Uint8Array {
    const rd = q.flags! & dnsPacket.RECURSION_DESIRED;
    const flags = rd | (res.authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | (this.forwarder.enabled ? dnsPacket.RECURSION_AVAILABLE : 0);
    const additionals = [...res.additionals];
    if (opt) additionals.push({ type: "OPT", name: ".", udpPayloadSize: MAX_EDNS_UDP, flags: 0, options: [] } as any);
    const pkt: Packet = {
      id: q.id,
      type: "response",
      flags: flags | RCODES[res.rcode],
      questions: q.questions,
      answers: res.answers,
      authorities: res.authorities,
      additionals,
    };
    let out = dnsPacket.encode(pkt);
    if (out.length <= limit) return out;
    // Too big for this UDP client: drop the glue, then keep as many answers as fit and set TC.
    pkt.additionals = opt ? [additionals[additionals.length - 1]!] : [];
    const answers = res.answers;
    let n = answers.length;
    do {
      pkt.answers = answers.slice(0, n);
      pkt.flags = flags | RCODES[res.rcode] | dnsPacket.TRUNCATED_RESPONSE;
      out = dnsPacket.encode(pkt);
      n = Math.floor(n / 2);
    } while (out.length > limit && pkt.answers.length > 0);
    return out;
  }
}

function lookupError(rcode: Rcode | "NOTIMP"): Lookup {
  return { rcode: rcode as Rcode, answers: [] as Answer[], authorities: [], additionals: [], authoritative: false };
}

/** A header-only answer echoing the id of a query we could not decode. */
function errorReply(raw: Uint8Array, rcode: number): Uint8Array {
  const out = new Uint8Array(12);
  out[0] = raw[0]!;
  out[1] = raw[1]!;
  out[2] = 0x80 | (raw[2]! & 0x79); // QR + opcode + RD
  out[3] = rcode;
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (!a.length) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** UDP and TCP listeners on host:port (port 0: UDP picks one and TCP takes the same, as a DNS server must). */
export async function listen(host: string, port: number, handler: DNSHandler, log: Logger, netnsPath?: string): Promise<Listener> {
  const udp = await inNetns(netnsPath, () =>
    Bun.udpSocket({
      hostname: host,
      port,
      socket: {
        data(sock, buf, rport, raddr) {
          handler.handle(buf, false).then(
            (out) => {
              try {
                if (out && !sock.closed) sock.send(out, rport, raddr);
              } catch {} // the client went away: nothing to answer
            },
            (e) => log.warn("dns query failed", { error: e }),
          );
        },
        // An error on the listening socket (e.g. an ICMP error for an earlier answer) must not end the agent.
        error(...args: unknown[]) {
          log.debug("dns socket error", { error: args.find((a) => a instanceof Error) });
        },
      },
    }),
  );
  // out: bytes the kernel did not take yet (sent on drain).
  type Conn = { buf: Uint8Array; busy: Promise<void>; out?: Uint8Array };
  const send = (s: { data: Conn; write(b: Uint8Array): number }, b: Uint8Array) => {
    const c = s.data;
    const all = c.out ? concat(c.out, b) : b;
    const n = s.write(all);
    c.out = n < all.length ? all.slice(Math.max(n, 0)) : undefined;
  };
  let tcp;
  try {
    tcp = inNetns(netnsPath, () =>
      Bun.listen<Conn>({
        hostname: host,
        port: udp.port,
        socket: {
          open(s) {
            s.data = { buf: new Uint8Array(0), busy: Promise.resolve() };
            s.timeout(30);
          },
          data(s, chunk) {
            const c = s.data;
            c.buf = concat(c.buf, chunk);
            // Several length-prefixed queries may arrive in one chunk (pipelining); answers go out in order.
            while (c.buf.length >= 2) {
              const len = (c.buf[0]! << 8) | c.buf[1]!;
              if (c.buf.length < 2 + len) break;
              const msg = c.buf.slice(2, 2 + len);
              c.buf = c.buf.slice(2 + len);
              c.busy = c.busy.then(async () => {
                const out = await handler.handle(msg, true).catch(() => undefined);
                if (!out) return void s.end();
                const framed = new Uint8Array(out.length + 2);
                framed[0] = out.length >> 8;
                framed[1] = out.length & 0xff;
                framed.set(out, 2);
                send(s, framed);
              });
            }
            if (c.buf.length > 65537) s.end();
          },
          drain(s) {
            if (s.data.out) send(s, new Uint8Array(0));
          },
          timeout(s) {
            s.end();
          },
          error() {},
        },
      }),
    );
  } catch (e) {
    udp.close();
    throw e;
  }
  return {
    host,
    udpPort: udp.port,
    tcpPort: tcp.port,
    stop() {
      udp.close();
      tcp.stop(true);
    },
  };
}
