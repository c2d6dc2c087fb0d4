// Atomic file writes (tmp + rename) for everything a node or server keeps on disk — credentials, cached rules,
// saved cluster state: a kill -9 never leaves a half-written file, and the mode is right from the first byte.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export function writeAtomic(path: string, data: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode); // umask may have stripped bits from the create mode
  renameSync(tmp, path);
}
