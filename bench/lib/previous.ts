// The previous release's sources, runnable side by side with this checkout: `git archive` of its commit plus
// `bun install` from its own lockfile, under <repo>/.tmp (as test/daytwo/upgrade.test.ts gets them). Kept between
// runs (a marker file says the install finished), so only the first benchmark run pays for it.
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The last landed release before this work (issue 17's "previous release"). */
export const PREVIOUS_RELEASE = "ff87543";
const REPO = join(import.meta.dir, "..", "..");

/** The root of a ready-to-run copy of the previous release (cmd/kubun.ts inside). */
export function previousRelease(commit = PREVIOUS_RELEASE): string {
  const root = join(REPO, ".tmp", `previous-release-${commit}`);
  const marker = join(root, ".installed");
  if (existsSync(marker)) return root;
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const archive = Bun.spawnSync(["sh", "-c", `git -C "${REPO}" archive ${commit} | tar -x -C "${root}"`], { stderr: "pipe" });
  if (archive.exitCode !== 0) throw new Error(`git archive ${commit}: ${archive.stderr.toString()}`);
  const install = Bun.spawnSync([process.execPath, "install", "--frozen-lockfile", "--production"], { cwd: root, stderr: "pipe", stdout: "pipe" });
  if (install.exitCode !== 0) throw new Error(`bun install in the previous release: ${install.stderr.toString()}`);
  writeFileSync(marker, `${commit}\n`);
  return root;
}
