// Prints "N passed, N failed" from bun's JUnit report (CI reads only that line) and exits non-zero
// when anything failed or the report is missing. Parsed with a regex on purpose: the report is flat
// machine-written XML, and an XML parser dependency buys nothing here.
import { existsSync, readFileSync } from "node:fs";

const path = process.argv[2] ?? ".tmp/junit.xml";
if (!existsSync(path)) {
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const xml = readFileSync(path, "utf8");
let passed = 0;
let failed = 0;
let skipped = 0;
for (const m of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
  const body = m[2] ?? "";
  if (/<(failure|error)\b/.test(body)) failed++;
  else if (/<skipped\b/.test(body)) skipped++;
  else passed++;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
