// The import graph of internal/ follows ARCHITECTURE.md: each folder imports only what its table row allows,
// internal/api imports no other folder, and nothing in internal/ imports cmd/, test/, bench/ or scripts/.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const ROOT = join(import.meta.dir, "..");
const INTERNAL = join(ROOT, "internal");

/** folder → allowed targets ("*" = anything; "auth/pem.ts" = one file), from ARCHITECTURE.md's table. */
function allowedImports(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of readFileSync(join(ROOT, "ARCHITECTURE.md"), "utf8").split("\n")) {
    const m = line.match(/^\| `([a-z]+)` \| (.*) \|$/);
    if (m) rows.set(m[1]!, [...m[2]!.matchAll(/`([^`]+)`/g)].map((x) => x[1]!));
  }
  return rows;
}

/** Every relative import, re-export and dynamic import of one file, as repository paths. */
function importsOf(file: string): string[] {
  const src = readFileSync(file, "utf8");
  const specs = [...src.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.[^"']+)["']/gm)].map((m) => m[1]!);
  return specs.map((s) => relative(ROOT, join(dirname(file), s)));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

test("internal/ imports follow ARCHITECTURE.md", () => {
  const allowed = allowedImports();
  expect(allowed.get("api")).toEqual([]);
  const violations: string[] = [];
  for (const folder of readdirSync(INTERNAL, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)) {
    const rule = allowed.get(folder);
    if (!rule) {
      violations.push(`internal/${folder} has no row in ARCHITECTURE.md`);
      continue;
    }
    for (const file of sourceFiles(join(INTERNAL, folder))) {
      for (const target of importsOf(file)) {
        const [top, to, ...rest] = target.split("/");
        if (["cmd", "test", "bench", "scripts"].includes(top!)) violations.push(`${relative(ROOT, file)} imports ${target}`);
        if (top !== "internal" || to === folder || rule.includes("*")) continue;
        if (rule.includes(to!) || rule.includes([to, ...rest].join("/"))) continue;
        violations.push(`${relative(ROOT, file)} imports ${target}`);
      }
    }
  }
  expect(violations).toEqual([]);
});

test("the checker sees every kind of import", () => {
  const file = join(INTERNAL, "kubelet", "x.ts");
  const fake = `import a from "../apiserver/a.ts";\nexport { b } from "../store/b.ts";\nconst c = await import("../auth/c.ts");\nimport "../client/d.ts";`;
  const specs = [...fake.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.[^"']+)["']/gm)].map((m) => relative(ROOT, join(dirname(file), m[1]!)));
  expect(specs).toEqual(["internal/apiserver/a.ts", "internal/store/b.ts", "internal/auth/c.ts", "internal/client/d.ts"]);
});
