// The release folder the install tests use: `bun run release` once per source version, cached under
// .tmp/release-cache/<hash of the sources>/ so every test file (and the next run, if nothing changed) reuses it.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { REPO_TMP } from "../helpers/tmpdir.ts";

export const REPO = join(import.meta.dir, "..", "..");

function* sourceFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "generated") yield* sourceFiles(p);
    } else yield p;
  }
}

/** A hash of everything that goes into the binaries and the release folder. */
export function sourceHash(): string {
  const h = new Bun.CryptoHasher("sha256");
  const files = [...sourceFiles(join(REPO, "cmd")), ...sourceFiles(join(REPO, "internal")), ...sourceFiles(join(REPO, "migrations"))];
  files.push(...["package.json", "bun.lock", "install.sh", "README.md", "scripts/build.ts", "scripts/release.ts", "scripts/gen-openapi.ts"].map((f) => join(REPO, f)));
  for (const f of files.sort()) if (existsSync(f)) h.update(f).update(readFileSync(f));
  return h.digest("hex").slice(0, 16);
}

let cached: string | undefined;

/** Path of a release folder built from the current sources. */
export async function ensureRelease(): Promise<string> {
  if (cached) return cached;
  // A release folder built beforehand (e.g. by CI's own `bun run release`) is used as is.
  if (process.env.KUBUN_TEST_RELEASE_DIR) return (cached = process.env.KUBUN_TEST_RELEASE_DIR);
  const root = join(REPO_TMP, "release-cache");
  const dir = join(root, sourceHash());
  if (!existsSync(dir)) {
    mkdirSync(root, { recursive: true });
    // Built beside and renamed into place: a folder under its final name is always complete. Another process
    // (a parallel test run) may finish first; then its folder is used and ours dropped.
    const building = join(root, `.building-${process.pid}-${Date.now()}`);
    const p = Bun.spawn(["bun", "run", "scripts/release.ts", building], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    if (code !== 0) throw new Error(`bun run release failed: ${out}${err}`);
    try {
      renameSync(building, dir);
    } catch {
      rmSync(building, { recursive: true, force: true });
    }
    // Versions unused for 30 minutes are dropped (each is ~220 MB); a parallel run may still use a recent one.
    for (const old of readdirSync(root)) {
      const path = join(root, old);
      if (path !== dir && statSync(path).mtimeMs < Date.now() - 30 * 60_000) rmSync(path, { recursive: true, force: true });
    }
  }
  cached = dir;
  return dir;
}

/** A PATH with the usual system folders but no bun, node or npm: what a fresh Pi has. */
export function pathWithoutBun(base: string): string {
  const shim = join(base, "nobun-bin");
  if (!existsSync(shim)) {
    mkdirSync(shim, { recursive: true });
    for (const f of readdirSync("/usr/bin")) if (!/^(bun|bunx|node|nodejs|npm|npx)$/.test(f)) symlinkSync(join("/usr/bin", f), join(shim, f));
  }
  // Not /bin: on Debian it is /usr/bin (merged /usr), bun included.
  return `/usr/local/sbin:/usr/sbin:${shim}`;
}
