// Tests and benchmarks write only inside the repository: every temporary directory lives under <repo>/.tmp
// (git-ignored). bunfig.toml preloads this file for `bun test`, so os.tmpdir() — in the tests and in the kubun
// code they run in-process — points there too; scripts/test.sh exports TMPDIR so child processes follow.
// Unix sockets end up below it (containerd's <dir>/containerd/containerd.sock.ttrpc, about 60 characters
// under a test's dir): sun_path holds 107 bytes, so a checkout path longer than ~45 characters would not fit.
import { mkdirSync, mkdtempSync } from "node:fs";
import { join } from "node:path";

export const REPO_TMP = join(import.meta.dir, "..", "..", ".tmp");
mkdirSync(REPO_TMP, { recursive: true });
process.env.TMPDIR = REPO_TMP;

/** A fresh directory under <repo>/.tmp, e.g. tempDir("kubun-bench-") → <repo>/.tmp/kubun-bench-Ab12Cd. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(REPO_TMP, prefix));
}
