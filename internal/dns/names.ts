// Name helpers for cluster DNS: dashed IP labels (pod and endpoint names) and reverse (PTR) names.
import { isIP } from "node:net";

/** 10.42.0.5 → "10-42-0-5"; fd00::1 → "fd00--1" (as CoreDNS names endpoints without a hostname). */
export function dashedIP(ip: string): string {
  return ip.replace(/[.:]/g, "-");
}

/** "10-42-0-5" → "10.42.0.5", IPv6 "fd00--1" → "fd00::1"; undefined when the label is not an IP. */
export function undashIP(label: string): string | undefined {
  const v4 = label.replace(/-/g, ".");
  if (isIP(v4) === 4) return v4;
  const v6 = label.replace(/-/g, ":");
  return isIP(v6) === 6 ? v6 : undefined;
}

/** The full 8 groups of 4 hex digits of an IPv6 address. */
function expandIPv6(ip: string): string[] {
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.map((g) => g.padStart(4, "0").toLowerCase());
}

/** The in-addr.arpa / ip6.arpa name (no trailing dot) of an address. */
export function reverseName(ip: string): string {
  if (isIP(ip) === 4) return `${ip.split(".").reverse().join(".")}.in-addr.arpa`;
  return `${expandIPv6(ip).join("").split("").reverse().join(".")}.ip6.arpa`;
}
