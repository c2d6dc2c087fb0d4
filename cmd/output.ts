// Table or JSON output for the list commands (snapshot ls, certificate check, token list), as kubectl prints them.
import { UsageError } from "../internal/config/load.ts";

export function printRows<T>(format: string, items: T[], header: string[], row: (x: T) => string[]): void {
  if (format === "json") {
    console.log(JSON.stringify(items, null, 2));
    return;
  }
  if (format !== "table") throw new UsageError(`--output: want table or json, got ${JSON.stringify(format)}`);
  const rows = [header.map((h) => h.toUpperCase()), ...items.map(row)];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  for (const r of rows) console.log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join("").trimEnd());
}
