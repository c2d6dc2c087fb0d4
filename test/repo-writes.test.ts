// Tests and benchmarks write only inside the repository, and point to no document outside it.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const ROOT = join(import.meta.dir, "..");

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|sh)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

test("temporary directories of tests are under <repo>/.tmp", () => {
  expect(tmpdir()).toBe(join(ROOT, ".tmp"));
  expect(readFileSync(join(ROOT, "scripts/test.sh"), "utf8")).toContain('export TMPDIR="$PWD/.tmp"');
});

test("no test or benchmark writes to an absolute path or cites a document outside the repository", () => {
  const writesAbsolute = /\b(appendFileSync|writeFileSync|mkdtempSync|mkdirSync|Bun\.write|openSync)\(\s*["'`]\//;
  const citesOutside = /(^|[\s(`"'])\/[\w.-]+(\/[\w.-]+)*\.md\b/;
  const found: string[] = [];
  for (const file of [...sources("test"), ...sources("bench")]) {
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((line, i) => {
        if (writesAbsolute.test(line) || citesOutside.test(line)) found.push(`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
      });
  }
  expect(found).toEqual([]);
});

test("every benchmark puts its temp dirs under <repo>/.tmp (bun run does not preload the test helper)", () => {
  const missing = readdirSync(join(ROOT, "bench"))
    .filter((f) => f.endsWith(".ts"))
    .filter((f) => !readFileSync(join(ROOT, "bench", f), "utf8").includes('"../test/helpers/tmpdir.ts"'));
  expect(missing).toEqual([]);
});
