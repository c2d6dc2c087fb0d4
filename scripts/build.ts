// bun run build: the single kubun binary for amd64 and arm64 (Raspberry Pi), in dist/.
// Everything it needs (migrations, OpenAPI documents) is imported, so it is embedded in the binary.
import { $ } from "bun";

const targets = [
  { target: "bun-linux-x64", out: "dist/kubun-linux-amd64" },
  { target: "bun-linux-arm64", out: "dist/kubun-linux-arm64" },
];
const only = process.argv[2]; // e.g. "amd64" to build one
const pkg = await Bun.file("package.json").json();
if (pkg.scripts?.["gen:openapi"]) await $`bun run gen:openapi`;

for (const t of targets) {
  if (only && !t.out.endsWith(only)) continue;
  const started = performance.now();
  await $`bun build --compile --minify --sourcemap=none --target=${t.target} --outfile ${t.out} cmd/kubun.ts`.quiet();
  const size = (await Bun.file(t.out).size) / 1024 / 1024;
  console.log(`${t.out}  ${size.toFixed(1)} MiB  (${Math.round(performance.now() - started)} ms)`);
}
