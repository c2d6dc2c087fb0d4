// IPv4 CIDR arithmetic for the ClusterIP and pod-CIDR allocators.
// Hand-written on purpose: a dozen lines of integer math do not justify a dependency.

export interface Cidr4 {
  /** Network address as an unsigned 32-bit integer. */
  base: number;
  prefix: number;
  /** Number of addresses in the block. */
  size: number;
}

export function parseIPv4(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n >>> 0;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function parseCidr4(cidr: string): Cidr4 {
  const [ip, bits] = cidr.split("/");
  const addr = parseIPv4(ip ?? "");
  const prefix = Number(bits);
  if (addr === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32 || bits === undefined) {
    throw new Error(`invalid IPv4 CIDR ${JSON.stringify(cidr)}`);
  }
  const size = 2 ** (32 - prefix);
  const base = prefix === 0 ? 0 : (addr - (addr % size)) >>> 0;
  return { base, prefix, size };
}

export function formatCidr4(c: Cidr4): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

/** Offset of ip inside the block, or undefined when outside. */
export function offsetIn(c: Cidr4, ip: string): number | undefined {
  const n = parseIPv4(ip);
  if (n === undefined) return undefined;
  const off = n - c.base;
  return off >= 0 && off < c.size ? off : undefined;
}

/** The n-th address of a block (n = 1 → "first usable", e.g. 10.43.0.1). */
export function nthIP(cidr: string, n: number): string {
  const c = parseCidr4(cidr);
  return formatIPv4((c.base + n) >>> 0);
}
