// Once a node (or a server without agent) has started and settled, the pages of kubun's binary and of the containerd
// it started that only start-up touched go back to the kernel (internal/runtime/pageout.ts): on an idle node about
// 17 MB of kubun's and 16 MB of containerd's ~85 MB of mapped code and embedded bytecode (bench:footprint). A minute
// after Ready one full garbage collection drops the compiled code that only start-up ran.
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

type Released = Record<string, { before: { rss: number; file: number }; after: { rss: number; file: number } }>;

function release(targets: Target[]): Released {
  const released: Released = {};
  for (const [name, pid] of targets) {
    try {
      released[name] = pageOutExecutable(pid);
    } catch (err) {
      // An old kernel (process_madvise is Linux 5.10+) or no CAP_SYS_NICE: the pages stay until memory runs short.
      log.debug("start-up pages not released", { process: name, error: err });
    }
  }
  const text = (r: Released[string]) => `${mb(r.before.rss)} → ${mb(r.after.rss)} MB RSS (file-backed ${mb(r.before.file)} → ${mb(r.after.file)})`;
  if (Object.keys(released).length) log.info("start-up pages released", Object.fromEntries(Object.entries(released).map(([k, r]) => [k, text(r)])));
  return released;
}

/**
 * Pages out the start-up-only pages of this process and of the containerd it started, once `settleMs` have passed
 * and kubun and containerd have been quiet for a window; checks again every window until they are. Resolves with
 * what was released (undefined when stopped first or there is nothing to release).
 */
export function releaseStartupPagesLater(signal: AbortSignal, o: { settleMs?: number; windowMs?: number } = {}): Promise<Released | undefined> {
  const settleMs = o.settleMs ?? SETTLE_MS;
  const windowMs = o.windowMs ?? QUIET_WINDOW_MS;
  if (process.platform !== "linux") return Promise.resolve(undefined);
  // Under `bun cmd/kubun.ts` (tests, development) the executable is bun itself, shared with every other bun process:
  // only a compiled kubun (its entry point in /$bunfs/) releases its own pages.
  const self: Target[] = Bun.main.startsWith("/$bunfs/") ? [["kubun", "self"]] : [];
  const targets = (): Target[] => [...self, ...startedContainerdPids().map((p) => ["containerd", p] as const)];
  return new Promise((resolve) => {
    let last = new Map<Target[1], number | undefined>();
    let timer: Timer;
    const check = () => {
      if (signal.aborted || targets().length === 0) return resolve(undefined);
      // kubun's own CPU is watched even when its pages are not released: a burst of work shows there first.
      const now = new Map((["self", ...startedContainerdPids()] as const).map((pid) => [pid, cpuSeconds(pid)] as const));
      const quiet = last.size > 0 && [...now].every(([pid, cpu]) => cpu === undefined || last.get(pid) === undefined || cpu - last.get(pid)! < (windowMs / 1000) * QUIET_SHARE);
      if (quiet) return resolve(release(targets()));
      last = now;
      timer = setTimeout(check, windowMs);
      timer.unref();
    };
    timer = setTimeout(check, Math.max(0, settleMs - windowMs));
    timer.unref();
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve(undefined)), { once: true });
  });
}

/** JavaScriptCore drops a compiled function (its CodeBlock) in a full collection once it is older than 10–40 s
 * (interpreter, baseline and DFG code) and not running; nothing forces a full collection on an idle node. */
export const CODE_AGED_MS = 60_000;

/**
 * One full garbage collection `delayMs` from now, once the code only start-up ran has aged: its compiled code and
 * what start-up left behind go (an idle node: heap ~29 → ~20 MB, ~3 MB less RSS); code still in use is recompiled
 * on its next call. Resolves with the heap in use before and after (undefined when stopped first).
 */
export function collectStartupCodeLater(signal: AbortSignal, delayMs = CODE_AGED_MS): Promise<{ before: number; after: number } | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (signal.aborted) return resolve(undefined);
      const before = process.memoryUsage().heapUsed;
      Bun.gc(true);
      const after = process.memoryUsage().heapUsed;
      // debug: an info line here would be the idle node's only disk write in that minute.
      log.debug("start-up code collected", { heapUsedMB: `${mb(before)} → ${mb(after)}` });
      resolve({ before, after });
    }, delayMs);
    timer.unref();
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve(undefined)), { once: true });
  });
}
