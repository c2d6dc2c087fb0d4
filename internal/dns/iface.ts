// The cluster DNS address (10.43.0.10) as a local address of the node, so pods reach the node's DNS server with no
// DNAT rule: a dummy interface `kubun-dns` holds it (as NodeLocal DNSCache's `nodelocaldns`), or loopback when the
// kernel has no dummy driver. Linux accepts a packet for any local address on any interface, so queries from the
// pod bridge are delivered to the socket bound there.
import { isIP } from "node:net";
import { logger } from "../log/log.ts";
import { run } from "../runtime/run.ts";

export const DNS_INTERFACE = "kubun-dns";
const log = logger("dns");

/** Makes ip a local /32 (/128) of the node (or of the named netns); returns the interface that holds it. */
export async function ensureLocalAddress(ip: string, opts: { netns?: string; ifname?: string } = {}): Promise<string> {
  if (!isIP(ip)) throw new Error(`dns: ${JSON.stringify(ip)} is not an IP address`);
  const ipCmd = (...args: string[]) => run(["ip", ...(opts.netns ? ["-n", opts.netns] : []), ...args], { allowFail: true });
  const prefix = isIP(ip) === 6 ? "128" : "32";
  const present = await ipCmd("-o", "addr", "show", "to", `${ip}/${prefix}`);
  const m = /^\d+:\s+(\S+)/.exec(present.stdout);
  if (m) return m[1]!;
  let dev = opts.ifname ?? DNS_INTERFACE;
  const link = await ipCmd("link", "show", dev);
  if (link.code !== 0) {
    const add = await ipCmd("link", "add", dev, "type", "dummy");
    if (add.code !== 0) {
      log.info("no dummy interface support; putting the cluster DNS address on loopback", { ip, error: add.stderr.trim() });
      dev = "lo";
    }
  }
  await ipCmd("link", "set", dev, "up");
  const r = await ipCmd("addr", "add", `${ip}/${prefix}`, "dev", dev);
  if (r.code !== 0 && !/exists/i.test(r.stderr)) throw new Error(`dns: cannot add ${ip} to ${dev}: ${r.stderr.trim()}`);
  return dev;
}
