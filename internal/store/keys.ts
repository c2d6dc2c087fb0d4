// Key-range helpers shared by the store backends.

/** Smallest string greater than every string that starts with prefix ("" = all keys). */
export function prefixEnd(prefix: string): string {
  // Keys are ASCII paths; U+10FFFF sorts after them in both UTF-16 and SQLite's UTF-8 byte order.
  if (prefix === "") return "\u{10FFFF}";
  const last = prefix.charCodeAt(prefix.length - 1);
  if (last === 0xffff) return prefix + "\u{10FFFF}";
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
