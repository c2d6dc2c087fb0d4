// bun run release [OUT]: the release folder (default dist/release/) a Pi needs, without Bun or a checkout:
// kubun-linux-amd64, kubun-linux-arm64, install.sh, sha256sum-amd64.txt / sha256sum-arm64.txt (k3s's names,
// `sha256sum -c` format) and README.md with the README's install section.
import { $ } from "bun";
import { copyFileSync, chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const repo = resolve(import.meta.dir, "..");
const out = resolve(process.argv[2] ?? join(repo, "dist/release"));
const arches = ["amd64", "arm64"] as const;

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// Straight into the release folder: parallel releases (test runs) never share an output file.
await $`bun run scripts/build.ts --outdir ${out}`.cwd(repo);
for (const arch of arches) {
  const name = `kubun-linux-${arch}`;
  chmodSync(join(out, name), 0o755);
  const sum = new Bun.CryptoHasher("sha256").update(readFileSync(join(out, name))).digest("hex");
  writeFileSync(join(out, `sha256sum-${arch}.txt`), `${sum}  ${name}\n`);
}
copyFileSync(join(repo, "install.sh"), join(out, "install.sh"));
chmodSync(join(out, "install.sh"), 0o755);

/** The README's "## Install" section, up to the next level-2 heading. */
export function installSection(readme: string): string {
  const start = readme.indexOf("\n## Install");
  if (start < 0) throw new Error("README.md has no '## Install' section");
  const rest = readme.slice(start + 1);
  const end = rest.indexOf("\n## ", 3);
  return (end < 0 ? rest : rest.slice(0, end + 1)).trimEnd() + "\n";
}
const version = (await Bun.file(join(repo, "package.json")).json()).version;
writeFileSync(join(out, "README.md"), `# kubun v${version}\n\n${installSection(readFileSync(join(repo, "README.md"), "utf8"))}`);
console.log(`release written to ${out}`);
