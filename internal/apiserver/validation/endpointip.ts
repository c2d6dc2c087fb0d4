// Which IPs may be service endpoints or proxy targets, as upstream's ValidateEndpointIP and proxyutil.IsProxyableIP:
// unspecified, loopback and link-local addresses are refused — they would point the API server (or a node) at
// itself or at node-local services such as a metadata server or a plain-HTTP etcd on loopback.
// node:net's BlockList classifies the ranges (IPv4-mapped IPv6 included), so no IP library is needed.
import { BlockList, isIP } from "node:net";

function ranges(list: [string, number, "ipv4" | "ipv6"][]): BlockList {
  const b = new BlockList();
  for (const [net, bits, type] of list) b.addSubnet(net, bits, type);
  return b;
}

const UNSPECIFIED = ranges([["0.0.0.0", 32, "ipv4"], ["::", 128, "ipv6"]]);
const LOOPBACK = ranges([["127.0.0.0", 8, "ipv4"], ["::1", 128, "ipv6"]]);
const LINK_LOCAL = ranges([["169.254.0.0", 16, "ipv4"], ["fe80::", 10, "ipv6"]]);
// Go's IsLinkLocalMulticast: 224.0.0.0/24 and ff02::/16 (ffX2 with any flags).
const LINK_LOCAL_MULTICAST = ranges([["224.0.0.0", 24, "ipv4"], ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((f): [string, number, "ipv6"] => [`ff${f.toString(16)}2::`, 16, "ipv6"])]);
// Go's IsInterfaceLocalMulticast: ffX1::/16.
const INTERFACE_LOCAL_MULTICAST = ranges([...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((f): [string, number, "ipv6"] => [`ff${f.toString(16)}1::`, 16, "ipv6"])]);

function family(ip: string): "ipv4" | "ipv6" | undefined {
  const v = isIP(ip);
  return v === 4 ? "ipv4" : v === 6 ? "ipv6" : undefined;
}

/** Upstream's ValidateEndpointIP messages for a syntactically valid IP (empty when it is allowed). */
export function endpointIPErrors(ip: string): string[] {
  const f = family(ip);
  if (!f) return ["must be a valid IP address"];
  const out: string[] = [];
  if (UNSPECIFIED.check(ip, f)) out.push(`may not be unspecified (${ip})`);
  if (LOOPBACK.check(ip, f)) out.push("may not be in the loopback range (127.0.0.0/8, ::1/128)");
  if (LINK_LOCAL.check(ip, f)) out.push("may not be in the link-local range (169.254.0.0/16, fe80::/10)");
  if (LINK_LOCAL_MULTICAST.check(ip, f)) out.push("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
  return out;
}

/** proxyutil.IsProxyableIP: whether the API server may proxy to this address (pods/proxy, services/proxy). */
export function isProxyableIP(ip: string): boolean {
  const f = family(ip);
  if (!f) return false;
  return !(UNSPECIFIED.check(ip, f) || LOOPBACK.check(ip, f) || LINK_LOCAL.check(ip, f) || LINK_LOCAL_MULTICAST.check(ip, f) || INTERFACE_LOCAL_MULTICAST.check(ip, f));
}

export function isIPv4(ip: string): boolean {
  return isIP(ip) === 4;
}
export function isIPv6(ip: string): boolean {
  return isIP(ip) === 6;
}
