// This checkout side by side with the previous release (bench/lib/previous.ts: commit ff87543, from git, with its own
// dependencies): the same outside load generator (bench/lib/keyfigures.ts) against a server process of each, phase
// by phase — pod creates and ConfigMap creates at 50 clients, listing 10,000 pods (whole, pages of 500), start →
// /readyz, and scheduling 1,000 pending pods on 100 hollow nodes. Each figure reports this checkout's value with the
// previous release's beside it; bench/run.ts shows that as the "previous release" column in bench/RESULTS.md.
// `bun run bench:release [--quick] [--commit <sha>]`
import "../test/helpers/tmpdir.ts"; // first: temp dirs go under <repo>/.tmp
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { measureApi, measureScheduling, measureStart, type KeyFigure, type KeyFigureOptions } from "./lib/keyfigures.ts";
import { PREVIOUS_RELEASE, previousRelease } from "./lib/previous.ts";
import { report, type Figure } from "./lib/report.ts";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const commit = argv.includes("--commit") ? argv[argv.indexOf("--commit") + 1]! : PREVIOUS_RELEASE;
const log = (m: string) => process.stderr.write(`[bench:release] ${m}\n`);
const opts: KeyFigureOptions = quick
  ? { perClient: 8, listPods: 2000, listRuns: 1, starts: 1, schedNodes: 20, schedPods: 200, log }
  : { perClient: 40, listPods: 10_000, listRuns: 3, starts: 3, schedNodes: 100, schedPods: 1000, log };

/** What each key figure is, by the area benchmarks' ids. */
const LABELS: Record<string, { label: string; unit: string; better: "higher" | "lower" }> = {
  "api.create.50.rate": { label: "create pod, 50 clients", unit: "pods/s", better: "higher" },
  "api.create.50.p99": { label: "create pod, 50 clients: p99", unit: "ms", better: "lower" },
  "crd.configmap.rate": { label: "create ConfigMap, 50 clients", unit: "/s", better: "higher" },
  "crd.configmap.p99": { label: "create ConfigMap, 50 clients: p99", unit: "ms", better: "lower" },
  "api.list.whole": { label: "list pods, one response", unit: "ms", better: "lower" },
  "api.list.paged": { label: "list pods, limit=500 pages", unit: "ms", better: "lower" },
  // Both sides run from source (`bun cmd/kubun.ts`: ~1,100 modules parsed and transpiled at each start, and for a fresh
  // data dir @peculiar/x509 loaded for the PKI, ~0.12 s of CPU alone); bench:footprint times the compiled binary.
  "footprint.readyz": { label: "start → /readyz (server, no agent, run from source)", unit: "s", better: "lower" },
};

const previousRoot = previousRelease(commit);
log(`previous release ${commit} in ${previousRoot}`);
const load0 = loadavg()[0]!.toFixed(2);
// Phase by phase, this checkout and the previous release one after the other (the order reversed in a second round
// of a full run, which keeps each figure's better value), so a change in the machine's load hits both alike.
const now = new Map<string, KeyFigure>();
const prev = new Map<string, KeyFigure>();
const better = (id: string, a: KeyFigure | undefined, b: KeyFigure) => {
  if (!a) return b;
  const higher = (LABELS[id]?.better ?? "higher") === "higher";
  return (higher ? b.value > a.value : b.value < a.value) ? b : a;
};
const sides = [["this checkout", join(import.meta.dir, ".."), now], [`previous release ${commit}`, previousRoot, prev]] as const;
for (let round = 0; round < (quick ? 1 : 2); round++) {
  for (const phase of [measureStart, measureApi, measureScheduling]) {
    for (const [label, root, into] of round === 0 ? sides : [...sides].reverse()) {
      log(`round ${round + 1}, ${phase.name}: ${label}`);
      for (const [id, f] of await phase(root, opts)) into.set(id, better(id, into.get(id), f));
    }
  }
}

const figures: Figure[] = [];
for (const [id, f] of now) {
  const sched = /^scheduler\.(\d+)\.(\d+)$/.exec(id);
  const meta = LABELS[id] ?? (sched ? { label: `scheduling ${sched[2]} pending pods on ${sched[1]} hollow nodes`, unit: "pods/s", better: "higher" as const } : undefined);
  if (!meta) continue;
  const p = prev.get(id);
  figures.push({ id: `release.${id}`, ...meta, value: f.value, note: f.note, previous: p ? { value: p.value, text: commit, note: p.note } : undefined });
}
console.log(`kubun now vs previous release ${commit}, same load generator, ${cpus().length} CPUs, load ${load0} → ${loadavg()[0]!.toFixed(2)}${quick ? ", --quick" : ""}`);
console.log("| figure | this checkout | previous release |\n|---|---:|---:|");
for (const f of figures) console.log(`| ${f.label} | ${f.value.toFixed(2)} ${f.unit} | ${f.previous ? `${f.previous.value.toFixed(2)} ${f.unit}` : "—"} |`);
report("release", figures);
process.exit(0);
