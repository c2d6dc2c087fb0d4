// The machine between and during benchmarks: whole-machine CPU from /proc/stat, and a settle step the runner takes
// before each benchmark so that one does not pay for the last one's leftovers (dirty pages still being written back,
// containerd and shims winding down). The store benchmarks time fsyncs: a write-back of the previous benchmark's
// hundreds of megabytes shows up as their slowest write.
import { readFileSync } from "node:fs";

/** Whole-machine CPU time (all cores) and the part of it idle, ms: how much of the machine a row left unused. */
export function machineCpu(): { total: number; idle: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { total: f.reduce((a, b) => a + b, 0) * 10, idle: (f[3]! + f[4]!) * 10 };
}

/**
 * CPU ms of a process (utime + stime), of the children it waited for (cutime + cstime: the short-lived commands it
 * ran), or both; 0 for a process that has gone. 100 clock ticks per second.
 */
export function processCpuMs(pid: number | undefined, of: "self" | "children" | "both" = "both"): number {
  if (!pid) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ").map(Number);
    const self = f[11]! + f[12]!;
    const children = f[13]! + f[14]!;
    return (of === "self" ? self : of === "children" ? children : self + children) * 10;
  } catch {
    return 0;
  }
}

/** Dirty + under-writeback page cache, MB. */
function unwrittenMB(): number {
  const info = readFileSync("/proc/meminfo", "utf8");
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(info)?.[1] ?? 0);
  return (kb("Dirty") + kb("Writeback")) / 1024;
}

export interface Settled {
  seconds: number;
  idlePct: number;
  unwrittenMB: number;
}

/**
 * Flushes the page cache to disk (sync(1)) and waits until the machine is quiet: ≥ `idlePct` % idle over a 2 s
 * window, at most `maxSeconds`. Returns what it saw last, for the log.
 */
export async function settle(opts: { idlePct?: number; maxSeconds?: number } = {}): Promise<Settled> {
  const want = opts.idlePct ?? 90;
  const t0 = performance.now();
  const deadline = t0 + (opts.maxSeconds ?? 60) * 1000;
  await Bun.spawn(["sync"]).exited;
  let idlePct = 0;
  for (;;) {
    const a = machineCpu();
    await Bun.sleep(2000);
    const b = machineCpu();
    idlePct = b.total > a.total ? (100 * (b.idle - a.idle)) / (b.total - a.total) : 100;
    if (idlePct >= want || performance.now() >= deadline) break;
  }
  return { seconds: (performance.now() - t0) / 1000, idlePct, unwrittenMB: unwrittenMB() };
}

/**
 * What this machine charges for fresh memory and for a short-lived process, the two costs a pod start is made of
 * (every `ctr`, shim, runc and CNI call is a new Go process faulting its heap and code in): µs per first touch of
 * an anonymous page, and CPU ms of one `ctr --help`. Two VMs of the same "2 cores" class differed ~2× here
 * (PVM guests pay ~11 µs per fault; bare metal well under 1 µs), and the pod rows followed.
 */
export function processCosts(): { pageFaultUs: number; ctrHelpCpuMs: number } {
  const size = 128 * 1024 * 1024;
  const faults: number[] = [];
  for (let k = 0; k < 3; k++) {
    const b = new Uint8Array(size);
    const t0 = performance.now();
    for (let i = 0; i < size; i += 4096) b[i] = 1;
    faults.push(((performance.now() - t0) * 1000) / (size / 4096));
  }
  const cpu: number[] = [];
  for (let k = 0; k < 10; k++) {
    const r = Bun.spawnSync(["ctr", "--help"], { stdout: "ignore", stderr: "ignore" });
    const u = r.resourceUsage;
    if (u) cpu.push(Number(u.cpuTime.user + u.cpuTime.system) / 1000);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  return { pageFaultUs: Math.round(median(faults) * 10) / 10, ctrHelpCpuMs: Math.round(median(cpu) * 10) / 10 };
}
