// Machine-readable results: every benchmark calls report() once at the end; it writes <repo>/.tmp/bench/<name>.json
// and prints the same object on one line prefixed "BENCH_JSON ", so `bun run bench` (bench/run.ts) can collect it
// whether the script ran alone or under the runner.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const RESULTS_DIR = join(import.meta.dir, "..", "..", ".tmp", "bench");

export interface Figure {
  /** Stable id; bench/lib/goals.ts keys its goal and upstream anchor by it. */
  id: string;
  /** What was measured, as a reader would say it. */
  label: string;
  value: number;
  unit: string;
  /** Whether more is better (throughput) or less (latency, memory). */
  better: "higher" | "lower";
  /** Context: the run's details (p50s, counts, …). */
  note?: string;
  /** An anchor measured in the same run (e.g. etcd for the store), overriding bench/lib/goals.ts's fixed one. */
  anchor?: { value: number; text: string };
  /** The same figure of the previous release, measured by the same load generator in the same run (bench/release.ts). */
  previous?: { value: number; text: string; note?: string };
}

export interface BenchResult {
  bench: string;
  quick: boolean;
  finishedAt: string;
  figures: Figure[];
}

export function report(bench: string, figures: Figure[]): BenchResult {
  const result: BenchResult = { bench, quick: process.argv.includes("--quick") || process.env.KUBUN_BENCH_QUICK === "1", finishedAt: new Date().toISOString(), figures };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${bench}.json`), JSON.stringify(result, null, 2) + "\n");
  console.log(`BENCH_JSON ${JSON.stringify(result)}`);
  return result;
}
