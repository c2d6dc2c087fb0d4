// Builds the dashboard client (internal/dashboard/client) into internal/dashboard/generated/client.json,
// which `bun build --compile` embeds in the binary (scripts/build.ts runs this first).
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { buildClient } from "../internal/dashboard/bundle.ts";

const OUTPUT = join(import.meta.dir, "../internal/dashboard/generated/client.json");
const js = await buildClient();
mkdirSync(dirname(OUTPUT), { recursive: true });
writeFileSync(OUTPUT + ".tmp", JSON.stringify({ js }));
renameSync(OUTPUT + ".tmp", OUTPUT);
console.log(`${OUTPUT}  ${(js.length / 1024).toFixed(0)} KiB, ${(Bun.gzipSync(js).length / 1024).toFixed(0)} KiB gzipped`);
