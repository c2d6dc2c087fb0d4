// Small file helpers for credentials: atomic writes (tmp + rename) so a kill -9 never leaves a half-written
// key or token behind, and explicit modes so secrets are 0600 from the first byte.
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync, chmodSync } from "node:fs";
import { dirname } from "node:path";

export function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

export function writeAtomic(path: string, data: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode); // umask may have stripped bits from the create mode
  renameSync(tmp, path);
}

/** Random URL-safe secret of n bytes, hex encoded (k3s tokens are hex too). */
export function randomHex(bytes = 16): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Buffer.from(b).toString("hex");
}
