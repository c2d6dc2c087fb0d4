// Pod IPs for hollow pods: from the node's spec.podCIDR (assigned by the node IPAM controller) when it has one,
// else from a per-node /24 in 100.64.0.0/10 (shared address space, outside kubun's cluster and service CIDRs).
// Nothing ever sends packets to these addresses; they only have to be unique and well-formed.

function ipToInt(ip: string): number {
  return ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
}
function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export class PodIPs {
  private used = new Map<string, string>(); // pod uid → ip
  private taken = new Set<number>();
  private next = 0;
  constructor(private fallbackIndex: number) {}

  /** The IP of a pod (stable for its uid). */
  assign(uid: string, podCIDR: string | undefined): string {
    const have = this.used.get(uid);
    if (have) return have;
    let base: number;
    let size: number;
    if (podCIDR && /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(podCIDR)) {
      const [ip, bits] = podCIDR.split("/");
      size = 2 ** (32 - Number(bits));
      base = ipToInt(ip!) & ~(size - 1);
    } else {
      size = 256;
      base = ipToInt("100.64.0.0") + (this.fallbackIndex % 16384) * 256;
    }
    // .0 is the network, .1 the gateway, the last the broadcast.
    const usable = Math.max(1, size - 3);
    for (let i = 0; i < usable; i++) {
      const off = 2 + ((this.next + i) % usable);
      const n = base + off;
      if (this.taken.has(n)) continue;
      this.next = (off - 2 + 1) % usable;
      this.taken.add(n);
      const s = intToIp(n >>> 0);
      this.used.set(uid, s);
      return s;
    }
    throw new Error(`no free pod IP in ${podCIDR ?? "fallback range"}`);
  }

  release(uid: string): void {
    const ip = this.used.get(uid);
    if (!ip) return;
    this.used.delete(uid);
    this.taken.delete(ipToInt(ip));
  }
}
