// <data-dir>/server/kubun.pid: which process serves this data dir, so offline operations (`kubun snapshot restore`,
// `kubun certificate rotate`) refuse to run under a live server instead of corrupting its state.
import { existsSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeAtomic } from "../api/files.ts";
import { defaultSqlitePath } from "../store/index.ts";

export function serverPidPath(dataDir: string): string {
  return join(dataDir, "server", "kubun.pid");
}

/** Records this process as the data dir's server; the returned function removes the record (at shutdown). */
export function writeServerPid(dataDir: string): () => void {
  const path = serverPidPath(dataDir);
  writeAtomic(path, `${process.pid}\n`, 0o644);
  return () => {
    // Only our own record (another server may have started on the data dir since; the file may be gone).
    if (existsSync(path) && readFileSync(path, "utf8").trim() === String(process.pid)) rmSync(path, { force: true });
  };
}

/** The pid of a live kubun server on this data dir, or undefined (a pid file left by a killed server is ignored). */
export function runningServerPid(dataDir: string): number | undefined {
  const path = serverPidPath(dataDir);
  if (!existsSync(path)) return undefined;
  const pid = Number(readFileSync(path, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to someone else — still a live process.
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return undefined;
  }
  // A reused pid of an unrelated process is not a server.
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (!cmdline.includes("kubun") && !cmdline.includes("server")) return undefined;
  } catch {
    // No /proc: trust the signal check.
  }
  return pid;
}

/**
 * Another process that has one of the files open (from /proc/<pid>/fd): catches a server without a pid file (an older
 * release, a removed file) holding the database. Undefined where /proc cannot be read.
 */
export function processHoldingFiles(paths: string[]): number | undefined {
  const wanted = new Set(paths.filter(existsSync).map((p) => realpathSync(p)));
  if (wanted.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid);
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return Number(pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/** Throws a one-line error when a server is running on dataDir (for operations that need it stopped). */
export function requireServerStopped(dataDir: string, what: string): void {
  const db = defaultSqlitePath(dataDir);
  const pid = runningServerPid(dataDir) ?? processHoldingFiles([db, `${db}-wal`]);
  if (pid !== undefined) {
    throw new Error(`${what} needs the server stopped, but kubun server (pid ${pid}) is running on ${dataDir}: stop it first (systemctl stop kubun)`);
  }
}
