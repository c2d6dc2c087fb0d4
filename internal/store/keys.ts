// Key-range helpers shared by the store backends.

/** Smallest string greater than every string that starts with prefix ("" = all keys). */
export function prefixEnd(prefix: string): string {
  // Keys are ASCII paths; U+10FFFF sorts after them in both UTF-16 and SQLite's UTF-8 byte order.
  if (prefix === "") return "\u{10FFFF}";
  const last = prefix.charCodeAt(prefix.length - 1);
  if (last === 0xffff) return prefix + "\u{10FFFF}";
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/** Keys a single SQLite server keeps in memory only: Leases, heartbeats that would otherwise wear the disk (sqlite/volatile.ts). */
export const DEFAULT_VOLATILE_PREFIXES: readonly string[] = ["/registry/coordination.k8s.io/leases/"];
