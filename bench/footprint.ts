// bun run bench:footprint — what edge users judge us by, measured on the compiled binary:
// time from start to a Ready node, idle RSS, idle CPU, idle disk writes per hour (SD card wear), database size.
// Usage: bun run bench/footprint.ts [--idle-seconds 60] [--disable-agent] [--binary PATH]
// --binary measures an already built kubun (e.g. another commit's, for a back-to-back comparison) instead of building one.
// Targets (issue 17; k3s for comparison, from its users' reports): whole node ≤ 120 MB RSS (k3s ~1.2–1.4 GB), writes < 1 MB/h (k3s 25–40 MB/h).
import { REPO_TMP, tempDir } from "../test/helpers/tmpdir.ts";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { processCpuMs } from "./lib/machine.ts";
import { report } from "./lib/report.ts";
import YAML from "yaml";

const args = process.argv.slice(2);
const idleSeconds = Number(args[args.indexOf("--idle-seconds") + 1] || 60) || 60;
const withAgent = !args.includes("--disable-agent");
const repo = join(import.meta.dir, "..");
const work = tempDir("kubun-footprint-");
const binaryArg = args.includes("--binary") ? args[args.indexOf("--binary") + 1] : undefined;
const binary = binaryArg ?? join(work, "kubun");
const dataDir = join(work, "data");
const kubeconfig = join(work, "kubeconfig.yaml");

function kubectl(...a: string[]): { code: number; out: string } {
  const r = Bun.spawnSync(["/usr/bin/kubectl", "--kubeconfig", kubeconfig, ...a], { env: { PATH: process.env.PATH!, HOME: work } });
  return { code: r.exitCode, out: r.stdout.toString() };
}

/** RSS of one process in bytes, and the part of it that is file-backed (executable code pages) — 0 once it has gone. */
function rss(pid: number): { total: number; file: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { total: kb("VmRSS"), file: kb("RssFile") };
  } catch {
    return { total: 0, file: 0 };
  }
}

interface Proc { pid: number; ppid: number; cmd: string[] }

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").filter(Boolean);
      out.push({ pid: Number(name), ppid, cmd });
    } catch {} // gone meanwhile
  }
  return out;
}

/**
 * Every process of the node: the server (with its in-process agent) and its descendants (containerd, the
 * `ctr events` helper, CNI/ctr calls in flight), plus what containerd daemonised away from that tree —
 * the shims, found by the node's data dir on their command line — and their descendants (the containers).
 */
function nodeProcesses(serverPid: number, dataDir: string): Proc[] {
  const all = processes();
  const children = new Map<number, Proc[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const picked = new Map<number, Proc>();
  const add = (p: Proc) => {
    if (picked.has(p.pid)) return;
    picked.set(p.pid, p);
    for (const c of children.get(p.pid) ?? []) add(c);
  };
  for (const p of all) if (p.pid === serverPid || p.cmd.some((a) => a.includes(dataDir))) add(p);
  return [...picked.values()];
}

/** Which part of the node a process is, for the breakdown. */
function role(p: Proc, serverPid: number): string {
  const exe = basename(p.cmd[0] ?? "");
  if (p.pid === serverPid) return "kubun (server + agent)";
  if (exe === "containerd") return "containerd";
  if (exe === "ctr" && p.cmd.includes("events")) return "ctr events";
  if (exe.startsWith("containerd-shim")) return "shims";
  return "other (containers, calls in flight)";
}

function nodeRSS(serverPid: number, dataDir: string): { total: number; file: number; parts: Map<string, { total: number; file: number }>; count: number } {
  const parts = new Map<string, { total: number; file: number }>();
  let total = 0;
  let file = 0;
  const procs = nodeProcesses(serverPid, dataDir);
  for (const p of procs) {
    const r = rss(p.pid);
    total += r.total;
    file += r.file;
    const k = role(p, serverPid);
    const part = parts.get(k) ?? { total: 0, file: 0 };
    parts.set(k, { total: part.total + r.total, file: part.file + r.file });
  }
  return { total, file, parts, count: procs.length };
}

/**
 * CPU time (ms) the node has used so far: every node process's own, plus what the processes it waited for used
 * (the short-lived ctr/CNI/nft calls, gone before any sample could see them).
 */
function nodeCpuMs(serverPid: number, dataDir: string): number {
  let ms = 0;
  for (const p of nodeProcesses(serverPid, dataDir)) ms += processCpuMs(p.pid); // 0 for one gone meanwhile
  return ms;
}

function writeBytes(pid: number): number {
  return Number(/write_bytes: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, "utf8"))![1]);
}

function dirSize(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const e of new Bun.Glob("**/*").scanSync({ cwd: path, onlyFiles: true })) total += statSync(join(path, e)).size;
  return total;
}

const mb = (b: number) => (b / 1024 / 1024).toFixed(1);

// The same flags as scripts/build.ts (what users run).
const build = binaryArg ? { exitCode: 0, stderr: Buffer.from("") } : Bun.spawnSync(["bun", "build", "--compile", "--minify", "--bytecode", "--sourcemap=none", "--outfile", binary, join(repo, "cmd/kubun.ts")], { cwd: repo, stderr: "pipe" });
if (build.exitCode !== 0) throw new Error(build.stderr.toString());

const port = 20000 + Math.floor(Math.random() * 20000);
const started = performance.now();
const server = Bun.spawn(
  [binary, "server", "--data-dir", dataDir, "--https-listen-port", String(port), "--bind-address", "127.0.0.1", "--write-kubeconfig", kubeconfig, ...(withAgent ? [] : ["--disable-agent"])],
  { stdout: "ignore", stderr: Bun.file(join(work, "server.log")), env: { PATH: process.env.PATH!, TMPDIR: REPO_TMP, KUBUN_CONFIG_FILE: join(work, "none.yaml") } },
);
await Bun.write(join(work, "none.yaml"), "");

let apiReadyMs = 0;
let nodeReadyMs = 0;
/** The admin kubeconfig's server, CA and token, for polling with fetch: a kubectl process per poll took longer than what it measured. */
function credentials(): { server: string; ca: string; token: string } | undefined {
  if (!existsSync(kubeconfig)) return undefined;
  try {
    const kc = YAML.parse(readFileSync(kubeconfig, "utf8"));
    const cluster = kc.clusters[0].cluster;
    return { server: cluster.server, ca: Buffer.from(cluster["certificate-authority-data"], "base64").toString(), token: kc.users[0].user.token };
  } catch {
    return undefined; // being written
  }
}
async function get(c: { server: string; ca: string; token: string }, path: string): Promise<string> {
  try {
    const r = await fetch(c.server + path, { headers: { Authorization: `Bearer ${c.token}` }, tls: { ca: c.ca } } as RequestInit);
    return r.ok ? await r.text() : "";
  } catch {
    return "";
  }
}
try {
  let creds: ReturnType<typeof credentials>;
  const deadline = performance.now() + 60_000;
  while (!nodeReadyMs && performance.now() < deadline) {
    creds ??= credentials();
    if (creds && !apiReadyMs && (await get(creds, "/readyz")) === "ok") apiReadyMs = performance.now() - started;
    if (creds && apiReadyMs && withAgent) {
      const nodes = JSON.parse((await get(creds, "/api/v1/nodes")) || "{}");
      const ready = (nodes.items ?? []).some((n: any) => n.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"));
      if (ready) nodeReadyMs = performance.now() - started;
    } else if (apiReadyMs) nodeReadyMs = apiReadyMs;
    if (!nodeReadyMs) await Bun.sleep(10);
  }
  if (!nodeReadyMs) throw new Error(`not ready after 60 s; see ${join(work, "server.log")}`);
  // Real kubectl agrees (not timed).
  if (kubectl("get", "--raw", "/readyz").out.trim() !== "ok") throw new Error("kubectl does not see /readyz ok");

  // 5 s after Ready: still with the pages only start-up touched, which kubun releases once the node has settled
  // (cmd/startuppages.ts, ≥ 10 s after Ready) — shown beside the idle figure so the difference stays visible.
  await Bun.sleep(5_000);
  const early = nodeRSS(server.pid, dataDir);
  await Bun.sleep(10_000); // settle: start-up writes are not idle writes
  const w0 = writeBytes(server.pid);
  const cpu0 = nodeCpuMs(server.pid, dataDir);
  const t0 = performance.now();
  let peak = 0;
  let last = nodeRSS(server.pid, dataDir);
  while (performance.now() - t0 < idleSeconds * 1000) {
    last = nodeRSS(server.pid, dataDir);
    peak = Math.max(peak, last.total);
    await Bun.sleep(1000);
  }
  const written = writeBytes(server.pid) - w0;
  const idleMs = performance.now() - t0;
  const perHour = (written / (idleMs / 1000)) * 3600;
  // Idle CPU: what a node costs doing nothing (heartbeats, leases, relists), in % of one core.
  const cpuPct = ((nodeCpuMs(server.pid, dataDir) - cpu0) / idleMs) * 100;

  const rows = [
    ["time to API ready", `${(apiReadyMs / 1000).toFixed(2)} s`, ""],
    [withAgent ? "time to Ready node" : "time to Ready node (no agent)", `${(nodeReadyMs / 1000).toFixed(2)} s`, "k3s: ~30–60 s"],
    [`idle RSS, whole node (${last.count} processes)`, `${mb(last.total)} MB (peak ${mb(peak)})`, "k3s: ~1200–1400 MB; target ≤ 120 MB"],
    ...[...last.parts].map(([k, v]) => [`  of which ${k}`, `${mb(v.total)} MB (file-backed ${mb(v.file)})`, ""]),
    ["  of which file-backed (code pages)", `${mb(last.file)} MB`, ""],
    ["  of which anonymous (heap, stacks, JIT)", `${mb(last.total - last.file)} MB`, ""],
    ["RSS, whole node, 5 s after Ready", `${mb(early.total)} MB (file-backed ${mb(early.file)})`, "before start-up pages are released"],
    [`idle disk writes (measured ${idleSeconds} s)`, `${mb(perHour)} MB/hour`, "k3s: 25–40 MB/h; target < 1 MB/h"],
    [`idle CPU, whole node (measured ${idleSeconds} s)`, `${cpuPct.toFixed(2)} % of one core`, ""],
    ["database size", `${mb(dirSize(join(dataDir, "server", "db")))} MB`, ""],
    ["binary size", `${mb(statSync(binary).size)} MB`, ""],
  ];
  const w = Math.max(...rows.map((r) => r[0]!.length));
  console.log(`\nkubun footprint (${withAgent ? "server + local agent" : "server only"})`);
  for (const [k, v, note] of rows) console.log(`  ${k!.padEnd(w)}  ${v!.padEnd(28)} ${note}`);
  report("footprint", [
    { id: "footprint.readyz", label: "start → /readyz", value: apiReadyMs / 1000, unit: "s", better: "lower" },
    { id: "footprint.node-ready", label: withAgent ? "start → node Ready" : "start → ready (no agent)", value: nodeReadyMs / 1000, unit: "s", better: "lower" },
    {
      id: "footprint.idle-rss",
      label: withAgent ? "idle RSS, whole node (server + agent, containerd, shims, `ctr events`)" : "idle RSS, server (no agent)",
      value: last.total / 1024 / 1024,
      unit: "MB",
      better: "lower",
      note: `peak ${mb(peak)} MB; ${[...last.parts].map(([k, v]) => `${k} ${mb(v.total)} (file-backed ${mb(v.file)})`).join(", ")}; ${mb(last.file)} MB of it file-backed code pages, ${mb(last.total - last.file)} MB anonymous`,
    },
    {
      id: "footprint.rss-after-ready",
      label: "RSS, whole node, 5 s after Ready (start-up pages still held)",
      value: early.total / 1024 / 1024,
      unit: "MB",
      better: "lower",
      note: `${[...early.parts].map(([k, v]) => `${k} ${mb(v.total)} (file-backed ${mb(v.file)})`).join(", ")}`,
    },
    { id: "footprint.idle-rss-kubun", label: "idle RSS, kubun process alone (server + agent)", value: (last.parts.get("kubun (server + agent)")?.total ?? 0) / 1024 / 1024, unit: "MB", better: "lower" },
    { id: "footprint.idle-writes", label: `idle disk writes (${idleSeconds} s measured)`, value: perHour / 1024 / 1024, unit: "MB/h", better: "lower" },
    { id: "footprint.idle-cpu", label: `idle CPU, whole node incl. the commands it runs (${idleSeconds} s measured)`, value: cpuPct, unit: "% of a core", better: "lower" },
  ]);
} finally {
  server.kill("SIGTERM");
  await Promise.race([server.exited, Bun.sleep(10_000)]);
  server.kill(9);
  // A stopped agent leaves its dataplane (nft tables, bridge) for its pods, as k3s does: killall removes it.
  if (withAgent) Bun.spawnSync([binary, "killall", "--data-dir", dataDir, "--config", join(work, "none.yaml")], { stdout: "ignore", stderr: "ignore" });
  rmSync(work, { recursive: true, force: true });
}
