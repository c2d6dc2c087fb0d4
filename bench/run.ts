// `bun run bench [--quick] [--only api,scheduler] [--skip edge] [--render] [--out FILE]`: runs every benchmark one after the other (the ones
// below and any other bench:<name> script in package.json; each also runs alone: `bun run bench:<name>`), collects the JSON each writes to <repo>/.tmp/bench/<name>.json, and
// writes bench/RESULTS.md — one table per area with the figure, the goal (issue 17), the upstream anchor and the
// ratio, plus the machine and the load average before/after — and the summary in README.md's performance section.
// bench:release measures the key figures of this checkout and of the previous release with the same load generator;
// its values fill the "previous release" column of every table whose figure it measured.
// Benchmarks that need root, containerd or etcd fail on their own; their failure is recorded, the run goes on.
// Before each benchmark the runner flushes the page cache and waits for an idle machine (lib/machine.ts settle()).
// --render runs nothing: it rewrites RESULTS.md (and the README summary) from the last results in .tmp/bench.
import "../test/helpers/tmpdir.ts"; // first: any temp dir goes under <repo>/.tmp
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { AREAS, GOALS, ratio } from "./lib/goals.ts";
import { processCosts, settle } from "./lib/machine.ts";
import { RESULTS_DIR, type BenchResult, type Figure } from "./lib/report.ts";

const repo = join(import.meta.dir, "..");
const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const listArg = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]!.split(",") : undefined);

/** Each benchmark with its arguments for a full and for a --quick (smoke) run, and a wall-clock limit. */
const BENCHES: { name: string; full: string[]; quick: string[]; timeoutS: number }[] = [
  { name: "store", full: [], quick: ["--scale", "0.1"], timeoutS: 600 },
  { name: "api", full: [], quick: ["--quick"], timeoutS: 900 },
  { name: "crd", full: [], quick: ["--quick"], timeoutS: 600 },
  { name: "scheduler", full: [], quick: ["--quick"], timeoutS: 2400 },
  { name: "pods", full: [], quick: ["--quick"], timeoutS: 900 },
  { name: "footprint", full: [], quick: ["--idle-seconds", "5"], timeoutS: 600 },
  { name: "metrics", full: [], quick: ["--quick"], timeoutS: 900 },
  { name: "edge", full: [], quick: [], timeoutS: 900 },
  { name: "ingress", full: [], quick: ["--quick"], timeoutS: 600 },
  { name: "scale", full: [], quick: ["--quick"], timeoutS: 2400 },
  { name: "storegrowth", full: [], quick: ["--quick"], timeoutS: 1800 },
  { name: "release", full: [], quick: ["--quick"], timeoutS: 1800 },
];

// Any other benchmark registered as a bench:<name> script in package.json runs too (with --quick in a quick run).
const scripts = Object.keys((JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts);
for (const name of scripts.filter((k) => k.startsWith("bench:")).map((k) => k.slice("bench:".length))) {
  if (!BENCHES.some((b) => b.name === name) && existsSync(join(repo, "bench", `${name}.ts`))) BENCHES.push({ name, full: [], quick: ["--quick"], timeoutS: 900 });
}

const only = listArg("--only");
const skip = listArg("--skip") ?? [];
const renderOnly = argv.includes("--render");
const selected = renderOnly ? [] : BENCHES.filter((b) => (!only || only.includes(b.name)) && !skip.includes(b.name));
const unknown = [...(only ?? []), ...skip].filter((n) => !BENCHES.some((b) => b.name === n));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")} (known: ${BENCHES.map((b) => b.name).join(", ")})`);
  process.exit(2);
}

function memTotal(): string {
  return `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`;
}
const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
/**
 * Memory cgroups the kernel holds, live and dying: a removed container's cgroup lingers while page cache charged to it
 * stays cached. After a day of test runs this machine held ~1,000, and 30 pods started in 2.5–2.7 s instead of
 * 1.9–2.2 s until dropping the page cache (`echo 1 > /proc/sys/vm/drop_caches`) released them. Shown, not changed.
 */
function memoryCgroups(): string {
  const line = readFileSync("/proc/cgroups", "utf8").split("\n").find((l) => l.startsWith("memory\t"));
  return line?.split("\t")[2] ?? "?";
}
/**
 * containerd processes already running (a system containerd left by a test run): they map the same binary, and the
 * kernel will not page out a page two processes map, so bench:footprint's node keeps ~17 MB more of containerd.
 */
function otherContainerds(): number {
  return readdirSync("/proc").filter((d) => {
    try {
      return /^\d+$/.test(d) && readFileSync(`/proc/${d}/comm`, "utf8").trim() === "containerd";
    } catch {
      return false;
    }
  }).length;
}
const machine = {
  nproc: cpus().length,
  cpu: cpus()[0]?.model?.trim() ?? "unknown",
  memory: memTotal(),
  bun: Bun.version,
  kernel: readFileSync("/proc/sys/kernel/osrelease", "utf8").trim(),
  loadBefore: load(),
  memoryCgroups: memoryCgroups(),
  ...(renderOnly ? {} : processCosts()) as { pageFaultUs?: number; ctrHelpCpuMs?: number },
  otherContainerds: renderOnly ? undefined : otherContainerds(),
  loadAfter: "",
  startedAt: new Date().toISOString(),
};

interface Outcome {
  name: string;
  ok: boolean;
  seconds: number;
  error?: string;
  result?: BenchResult;
  /** Not run this time: results of an earlier run. */
  earlier?: boolean;
}
const outcomes: Outcome[] = [];
for (const b of selected) {
  const out = join(RESULTS_DIR, `${b.name}.json`);
  rmSync(out, { force: true });
  const args = quick ? b.quick : b.full;
  // Each benchmark starts on a quiet machine: the previous one's write-back and wind-down are not its cost.
  const quiet = await settle();
  process.stderr.write(`\n=== bench:${b.name} ${args.join(" ")} (load ${load()}; settled in ${quiet.seconds.toFixed(1)} s: ${quiet.idlePct.toFixed(0)} % idle, ${quiet.unwrittenMB.toFixed(1)} MB unwritten)\n`);
  const t0 = performance.now();
  const p = Bun.spawn(["bun", "run", join("bench", `${b.name}.ts`), ...args], {
    cwd: repo,
    stdout: "inherit",
    stderr: "inherit",
    env: { ...process.env, TMPDIR: join(repo, ".tmp"), ...(quick ? { KUBUN_BENCH_QUICK: "1" } : {}) },
  });
  const timer = setTimeout(() => p.kill("SIGTERM"), b.timeoutS * 1000);
  const code = await p.exited;
  clearTimeout(timer);
  const seconds = (performance.now() - t0) / 1000;
  const result = existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as BenchResult) : undefined;
  const ok = code === 0 && !!result;
  outcomes.push({ name: b.name, ok, seconds, result, error: ok ? undefined : result ? `exit code ${code}` : `exit code ${code}, no results written` });
}
machine.loadAfter = load();
const ranAll = outcomes.length === BENCHES.length || (renderOnly && BENCHES.every((b) => existsSync(join(RESULTS_DIR, `${b.name}.json`))));
// A partial run (--only/--skip) keeps the other areas in RESULTS.md from their last results, marked as such.
for (const b of BENCHES) {
  if (outcomes.some((o) => o.name === b.name)) continue;
  const out = join(RESULTS_DIR, `${b.name}.json`);
  if (!existsSync(out)) continue;
  const result = JSON.parse(readFileSync(out, "utf8")) as BenchResult;
  outcomes.push({ name: b.name, ok: true, seconds: NaN, result, earlier: true });
}
outcomes.sort((a, b) => BENCHES.findIndex((x) => x.name === a.name) - BENCHES.findIndex((x) => x.name === b.name));
// --render: the machine and load of the run that produced the results, not of now.
if (renderOnly && existsSync(join(RESULTS_DIR, "machine.json"))) Object.assign(machine, JSON.parse(readFileSync(join(RESULTS_DIR, "machine.json"), "utf8")));
const anyQuick = quick || outcomes.some((o) => o.result?.quick);

const fmt = (v: number) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString("en-US") : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
const cell = (s: string) => s.replaceAll("|", "\\|");

function ratioText(r: number | undefined): string {
  if (r === undefined) return "—";
  return `${r === Infinity ? "∞" : r.toFixed(2)}× ${r >= 1 ? "✓" : "✗"}`;
}

// The previous release's figures (bench:release measures them with the same load generator as this checkout's, in the
// same run): keyed by the area benchmarks' figure ids, shown in every table's "previous release" column.
const previousById = new Map<string, { value: number; now: number; text: string }>();
for (const o of outcomes)
  for (const f of o.result?.figures ?? []) if (f.id.startsWith("release.") && f.previous) previousById.set(f.id.slice("release.".length), { value: f.previous.value, now: f.value, text: f.previous.text });

/** "previous release" cell: its value and the change to this checkout's value measured beside it. */
function previousCell(f: Figure): string {
  const p = f.previous ? { value: f.previous.value, now: f.value } : previousById.get(f.id);
  if (!p) return "—";
  const change = p.value > 0 ? (f.better === "higher" ? p.now / p.value : p.value / p.now) : undefined;
  const changeText = change !== undefined && Number.isFinite(change) ? `${change.toFixed(2)}× ${change >= 1 ? "better" : "worse"}` : "";
  // Beside another benchmark's figure, say which of this checkout's values the change is against (bench:release's).
  if (!f.previous) return `${fmt(p.value)} ${f.unit} (this checkout ${fmt(p.now)} beside it${changeText ? `: ${changeText}` : ""})`;
  return `${fmt(p.value)} ${f.unit}${changeText ? ` (now ${changeText})` : ""}`;
}

function row(f: Figure): string {
  const g = GOALS[f.id] ?? GOALS[f.id.replace(/^release\./, "")] ?? {};
  const r = f.anchor ? ratio(f.value, f.anchor.value, f.better) : ratio(f.value, g.goal, f.better);
  const goal = f.anchor ? "as good as the anchor" : g.goalText ?? "—";
  const anchor = f.anchor?.text ?? g.upstream ?? "";
  const note = [f.note, f.previous?.note ? `previous: ${f.previous.note}` : ""].filter(Boolean).join("; ");
  return `| ${cell(f.label)} | ${fmt(f.value)} ${f.unit} | ${cell(previousCell(f))} | ${cell(goal)} | ${cell(anchor || "—")} | ${ratioText(r)} | ${cell(note)} |`;
}

const lines: string[] = [
  "# Benchmark results",
  "",
  `Generated by \`bun run bench${anyQuick ? " --quick" : ""}\` (bench/run.ts) on ${machine.startedAt.slice(0, 16).replace("T", " ")} UTC. ` +
    "Ratio = figure ÷ goal (goal ÷ figure where less is better; the store's ratio is against etcd measured in the same run): " +
    "≥ 1× (✓) meets the goal. Goals are issue 17's, for this 2-core class of machine.",
  "",
  `Machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memory} memory, kernel ${machine.kernel}, Bun ${machine.bun}. ` +
    `Load average (1/5/15 min) before: ${machine.loadBefore}; after: ${machine.loadAfter}. Memory cgroups in the kernel before (live and dying): ${machine.memoryCgroups}.` +
    (machine.pageFaultUs !== undefined
      ? ` A first touch of a fresh memory page costs ${machine.pageFaultUs} µs here and one short-lived Go process (\`ctr --help\`) ${machine.ctrHelpCpuMs} ms of CPU: the pod rows are made of such processes.`
      : "") +
    (machine.otherContainerds ? ` **${machine.otherContainerds} containerd process(es) already ran beside the benchmarks** (footprint's containerd keeps the code pages they share).` : "") +
    (anyQuick ? " **--quick run: smaller workloads, a smoke test, not comparable with a full run.**" : ""),
  "",
];
for (const o of outcomes) {
  const when = o.earlier
    ? `${renderOnly ? "" : "not run this time: "}results of ${o.result!.finishedAt.slice(0, 16).replace("T", " ")} UTC${o.result!.quick ? " (--quick)" : ""}`
    : `${o.seconds.toFixed(0)} s${o.ok ? "" : `; **failed: ${o.error}**`}`;
  lines.push(`## ${AREAS[o.name] ?? o.name}`, "", `\`bun run bench:${o.name}\` — ${when}`, "");
  const figs = o.result?.figures ?? [];
  if (o.ok && !figs.length) lines.push("(no figures reported)", "");
  if (figs.length) {
    if (o.name === "release") lines.push(`This checkout and the previous release (${o.result!.figures.find((f) => f.previous)?.previous?.text ?? "?"}), each as a \`kubun server\` process, measured back to back by the same load generator; the "previous release" column of the other tables comes from here.`, "");
    lines.push("| figure | kubun | previous release | goal | upstream anchor | ratio | notes |", "|---|---:|---:|---|---|---:|---|");
    for (const f of figs) lines.push(row(f));
    lines.push("");
  }
}
const md = lines.join("\n");
// --out FILE: the tables go there instead (e.g. to look at a --render), and README.md is left alone.
const outFile = argv.includes("--out") ? argv[argv.indexOf("--out") + 1]! : undefined;
writeFileSync(outFile ?? join(import.meta.dir, "RESULTS.md"), md);
if (!renderOnly) writeFileSync(join(RESULTS_DIR, "machine.json"), JSON.stringify(machine, null, 2) + "\n");

// README: a short summary between markers — the goal-bearing figures only — pointing to RESULTS.md; only when every
// benchmark ran (no --only/--skip), so the summary never mixes runs.
const readmePath = join(repo, "README.md");
const START = "<!-- bench:summary:start -->";
const END = "<!-- bench:summary:end -->";
const readme = readFileSync(readmePath, "utf8");
if (readme.includes(START) && readme.includes(END) && ranAll && !outFile) {
  const summary = [
    START,
    `Latest \`bun run bench${anyQuick ? " --quick" : ""}\` (${anyQuick ? "smoke run, smaller workloads; " : ""}${machine.startedAt.slice(0, 10)}, ${machine.nproc} CPUs ${machine.cpu}, load ${machine.loadBefore.split(" ")[0]} → ${machine.loadAfter.split(" ")[0]}); every figure in [bench/RESULTS.md](bench/RESULTS.md).`,
    "",
    "| figure | kubun | previous release | goal | ratio |",
    "|---|---:|---:|---|---:|",
    ...outcomes.flatMap((o) =>
      (o.result?.figures ?? [])
        .filter((f) => GOALS[f.id]?.goal !== undefined)
        .map((f) => {
          const r = ratio(f.value, GOALS[f.id]!.goal, f.better);
          return `| ${cell(f.label)} | ${fmt(f.value)} ${f.unit} | ${cell(previousCell(f))} | ${cell(GOALS[f.id]!.goalText ?? "")} | ${ratioText(r)} |`;
        }),
    ),
    END,
  ].join("\n");
  writeFileSync(readmePath, readme.slice(0, readme.indexOf(START)) + summary + readme.slice(readme.indexOf(END) + END.length));
  process.stderr.write("README.md performance summary updated\n");
}
const ran = outcomes.filter((o) => !o.earlier);
process.stderr.write(`\nwrote ${outFile ?? "bench/RESULTS.md"}${renderOnly ? " from the last results" : ` (${ran.filter((o) => o.ok).length}/${ran.length} benchmarks ok)`}\n`);
process.exit(ran.every((o) => o.ok) ? 0 : 1);
