// Builds the dashboard's browser code (client/main.ts, preact + htm) into one minified ES module.
// scripts/gen-dashboard.ts runs it at build time so the compiled binary embeds the result; a source
// checkout runs it on first request instead (assets.ts), so edits to client/ need no build step.
import { join } from "node:path";

export const CLIENT_ENTRY = join(import.meta.dir, "client", "main.ts");

export async function buildClient(): Promise<string> {
  const out = await Bun.build({ entrypoints: [CLIENT_ENTRY], target: "browser", format: "esm", minify: true, sourcemap: "none" });
  if (!out.success) throw new Error(`dashboard client build failed: ${out.logs.map((l) => String(l)).join("\n")}`);
  return await out.outputs[0]!.text();
}
