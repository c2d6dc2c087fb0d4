// Start-up-only pages of an executable back to the kernel: once a node has started, the parts of kubun's binary
// (Bun's runtime, the embedded bytecode and sources) and of containerd's that only start-up touched — Go package
// initialisers, module top-levels, bytecode read once — stay mapped, so the kernel keeps them ahead of other page
// cache until memory runs short. process_madvise(MADV_PAGEOUT) on the present, file-backed pages of the process's own
// executable drops them now; a page still in use is read back from the binary on its next touch. Only clean file
// pages are named (pagemap's "file page" bit), so no anonymous page is ever pushed to swap (SD-card wear), and the
// kernel itself skips pages another process also maps. Deliberately FFI to libc: no npm package wraps these calls.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { closeSync, openSync, readFileSync, readlinkSync, readSync } from "node:fs";

const MADV_PAGEOUT = 21;
/** UIO_MAXIOV: process_madvise takes at most this many ranges per call. */
const MAX_IOV = 1024;
const PRESENT = 1n << 63n;
const FILE_PAGE = 1n << 61n;

let libc:
  | { symbols: { pidfd_open(pid: number, flags: number): number; process_madvise(fd: number, iov: any, n: bigint, advice: number, flags: number): bigint; getpagesize(): number; close(fd: number): number } }
  | undefined;

function lib() {
  libc ??= dlopen("libc.so.6", {
    pidfd_open: { args: [FFIType.i32, FFIType.u32], returns: FFIType.i32 },
    process_madvise: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.u32], returns: FFIType.i64 },
    getpagesize: { args: [], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
  }) as any;
  return libc!.symbols;
}

/** The address ranges ([start, end)) at which `pid` maps its own executable, from /proc/<pid>/maps. */
export function executableMappings(pid: number | "self"): Array<[number, number]> {
  const exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, "");
  const out: Array<[number, number]> = [];
  for (const line of readFileSync(`/proc/${pid}/maps`, "utf8").split("\n")) {
    // "start-end perms offset dev inode   path" — the path is everything after the inode (it may hold spaces).
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s+(.*)$/.exec(line);
    if (m && m[3]!.replace(/ \(deleted\)$/, "") === exe) out.push([parseInt(m[1]!, 16), parseInt(m[2]!, 16)]);
  }
  return out;
}

/** pagemap entries of `pid` (one 64-bit word per page) for each of the ranges. */
export function pagemapEntries(pid: number | "self", ranges: Array<[number, number]>, pageSize: number): BigUint64Array[] {
  const out: BigUint64Array[] = [];
  const fd = openSync(`/proc/${pid}/pagemap`, "r");
  try {
    for (const [start, end] of ranges) {
      const entries = new BigUint64Array(Math.floor((end - start) / pageSize));
      const bytes = new Uint8Array(entries.buffer);
      for (let got = 0; got < bytes.length; ) {
        const n = readSync(fd, bytes, got, bytes.length - got, (start / pageSize) * 8 + got);
        if (n <= 0) break;
        got += n;
      }
      out.push(entries);
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** A pagemap entry of a page that is present and file-backed. */
function isResidentFilePage(entry: bigint): boolean {
  return (entry & PRESENT) !== 0n && (entry & FILE_PAGE) !== 0n;
}

/** Runs of present, file-backed pages within [start, end), from /proc/<pid>/pagemap. */
export function residentFileRuns(pid: number | "self", ranges: Array<[number, number]>, pageSize: number): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  const all = pagemapEntries(pid, ranges, pageSize);
  ranges.forEach(([start], r) => {
    const entries = all[r]!;
    let runStart = -1;
    for (let i = 0; i <= entries.length; i++) {
      const file = i < entries.length && isResidentFilePage(entries[i]!);
      if (file && runStart < 0) runStart = i;
      if (!file && runStart >= 0) {
        runs.push([start + runStart * pageSize, (i - runStart) * pageSize]);
        runStart = -1;
      }
    }
  });
  return runs;
}

/** A process's resident memory in bytes: total, and the file-backed part. */
export function residentMemory(pid: number | "self"): { rss: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), file: kb("RssFile") };
}

/**
 * Asks the kernel to page out the resident file-backed pages of `pid`'s executable (its own process: "self").
 * Returns the process's resident memory before and after. Throws when the kernel refuses (no process_madvise before
 * Linux 5.10; another process's pages need CAP_SYS_NICE) — callers treat that as "nothing released".
 */
export function pageOutExecutable(pid: number | "self"): { before: { rss: number; file: number }; after: { rss: number; file: number } } {
  const { pidfd_open, process_madvise, getpagesize, close } = lib();
  const target = pid === "self" ? process.pid : pid;
  const before = residentMemory(pid);
  const runs = residentFileRuns(pid, executableMappings(pid), getpagesize());
  const pidfd = pidfd_open(target, 0);
  if (pidfd < 0) throw new Error(`pidfd_open(${target}) failed`);
  try {
    for (let i = 0; i < runs.length; i += MAX_IOV) {
      const batch = runs.slice(i, i + MAX_IOV);
      // struct iovec { void *iov_base; size_t iov_len; } — two 64-bit words on every target kubun ships (amd64, arm64).
      const iov = new BigUint64Array(batch.length * 2);
      batch.forEach(([addr, len], j) => {
        iov[j * 2] = BigInt(addr);
        iov[j * 2 + 1] = BigInt(len);
      });
      if (process_madvise(pidfd, ptr(iov), BigInt(batch.length), MADV_PAGEOUT, 0) < 0n) throw new Error(`process_madvise(MADV_PAGEOUT) on pid ${target} failed`);
    }
  } finally {
    close(pidfd);
  }
  return { before, after: residentMemory(pid) };
}
