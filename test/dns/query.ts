// Test helpers: one DNS query over UDP or TCP to 127.0.0.1, with dns-packet (the library the server uses).
import * as dnsPacket from "dns-packet";
import type { DecodedPacket, RecordType } from "dns-packet";

let nextId = 1;

export interface QueryOpts {
  tcp?: boolean;
  /** EDNS UDP payload size to advertise (none: plain 512-byte DNS). */
  edns?: number;
  timeoutMs?: number;
}

export function buildQuery(name: string, type: RecordType, edns?: number): Buffer {
  return dnsPacket.encode({
    id: nextId++ & 0xffff,
    type: "query",
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: "IN" }],
    additionals: edns ? [{ type: "OPT", name: ".", udpPayloadSize: edns, flags: 0, options: [] } as any] : [],
  });
}

/** A decoded answer; dns-packet sets rcode at run time though its types leave it out; records are loosely typed here. */
export type Reply = Omit<DecodedPacket, "answers" | "authorities" | "additionals"> & {
  rcode: string;
  size: number;
  answers?: any[];
  authorities?: any[];
  additionals?: any[];
};

export async function query(port: number, name: string, type: RecordType, o: QueryOpts = {}): Promise<Reply> {
  const raw = await (o.tcp ? rawTCP(port, buildQuery(name, type, o.edns), o.timeoutMs) : rawUDP(port, buildQuery(name, type, o.edns), o.timeoutMs));
  return Object.assign(dnsPacket.decode(Buffer.from(raw)), { size: raw.length }) as Reply;
}

export async function rawUDP(port: number, msg: Uint8Array, timeoutMs = 5000): Promise<Uint8Array> {
  let done!: (b: Uint8Array) => void;
  let fail!: (e: Error) => void;
  const p = new Promise<Uint8Array>((res, rej) => ((done = res), (fail = rej)));
  const sock = await Bun.udpSocket({
    hostname: "127.0.0.1",
    socket: {
      data(_s, buf) {
        done(new Uint8Array(buf));
      },
    },
  });
  const t = setTimeout(() => fail(new Error("udp query timed out")), timeoutMs);
  sock.send(msg, port, "127.0.0.1");
  try {
    return await p;
  } finally {
    clearTimeout(t);
    sock.close();
  }
}

export async function rawTCP(port: number, msg: Uint8Array, timeoutMs = 5000): Promise<Uint8Array> {
  let done!: (b: Uint8Array) => void;
  let fail!: (e: Error) => void;
  const p = new Promise<Uint8Array>((res, rej) => ((done = res), (fail = rej)));
  let buf = Buffer.alloc(0);
  const sock = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      },
      close() {
        fail(new Error("tcp connection closed"));
      },
    },
  });
  const framed = Buffer.alloc(msg.length + 2);
  framed.writeUInt16BE(msg.length, 0);
  framed.set(msg, 2);
  sock.write(framed);
  const t = setTimeout(() => fail(new Error("tcp query timed out")), timeoutMs);
  try {
    return await p;
  } finally {
    clearTimeout(t);
    sock.end();
  }
}

/** Polls until check(answer) is true (informer updates arrive asynchronously). */
export async function eventually<T>(fn: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (check(v) || Date.now() > until) return v;
    await Bun.sleep(50);
  }
}
