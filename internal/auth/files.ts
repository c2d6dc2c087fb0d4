// Small file helpers for credentials (atomic writes are internal/api/files.ts's writeAtomic).
import { existsSync, readFileSync } from "node:fs";

export function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

/** Random URL-safe secret of n bytes, hex encoded (k3s tokens are hex too). */
export function randomHex(bytes = 16): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Buffer.from(b).toString("hex");
}
