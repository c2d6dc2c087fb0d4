// Once a node (or a server without agent) has started and settled, the pages of kubun's binary and of the containerd
// it started that only start-up touched go back to the kernel (internal/runtime/pageout.ts): on an idle node about
// 17 MB of kubun's and 16 MB of containerd's ~85 MB of mapped code and embedded bytecode (bench:footprint).
import { readFileSync } from "node:fs";
import { logger } from "../internal/log/log.ts";
import { startedContainerdPids } from "../internal/runtime/containerd.ts";
import { pageOutExecutable } from "../internal/runtime/pageout.ts";

const log = logger("main");

/** The informers' first lists, the controllers' first syncs and the node's first pod sync are done by then. */
export const SETTLE_MS = 10_000;
/** Released only after a window in which kubun and containerd each used under a tenth of a core, so pages that a
 * burst of work (pods scheduled onto a fresh node) is using are not dropped just to be read back from disk. */
const QUIET_WINDOW_MS = 5_000;
const QUIET_SHARE = 0.1;
const CLOCK_TICKS_PER_S = 100; // USER_HZ: /proc/<pid>/stat's unit on every Linux

const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;

type Target = readonly [name: string, pid: number | "self"];

/** utime + stime of a process in seconds (undefined once it has gone). */
function cpuSeconds(pid: number | "self"): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
    return (Number(rest[11]) + Number(rest[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

function release(targets: Target[]): void {
  const released: Record<string, string> = {};
  for (const [name, pid] of targets) {
    try {
      const { before, after } = pageOutExecutable(pid);
      released[name] = `${mb(before.rss)} → ${mb(after.rss)} MB RSS (file-backed ${mb(before.file)} → ${mb(after.file)})`;
    } catch (err) {
      // An old kernel (process_madvise is Linux 5.10+) or no CAP_SYS_NICE: the pages stay until memory runs short.
      log.debug("start-up pages not released", { process: name, error: err });
    }
  }
  if (Object.keys(released).length) log.info("start-up pages released", released);
}

/**
 * Pages out the start-up-only pages of this process and of the containerd it started, once `settleMs` have passed
 * and both have been quiet for a window; checks again every window until they are.
 */
export function releaseStartupPagesLater(signal: AbortSignal, settleMs = SETTLE_MS): void {
  if (process.platform !== "linux") return;
  const targets = (): Target[] => [["kubun", "self"], ...startedContainerdPids().map((p) => ["containerd", p] as const)];
  let last = new Map<Target[1], number | undefined>();
  let timer: Timer;
  const check = () => {
    if (signal.aborted) return;
    const now = new Map(targets().map(([, pid]) => [pid, cpuSeconds(pid)] as const));
    const quiet = last.size > 0 && [...now].every(([pid, cpu]) => cpu === undefined || last.get(pid) === undefined || cpu - last.get(pid)! < (QUIET_WINDOW_MS / 1000) * QUIET_SHARE);
    if (quiet) return release(targets());
    last = now;
    timer = setTimeout(check, QUIET_WINDOW_MS);
    timer.unref();
  };
  timer = setTimeout(check, Math.max(0, settleMs - QUIET_WINDOW_MS));
  timer.unref();
  signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
}
