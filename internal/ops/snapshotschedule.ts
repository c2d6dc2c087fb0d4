// Scheduled snapshots in the server (--snapshot-schedule-cron, default every 12 hours; --snapshot-retention 5;
// --disable-snapshots), with the CronJob controller's cron parser (standard five fields, descriptors, @every).
// After each snapshot the oldest scheduled ones beyond the retention are removed.
// The snapshot itself runs in a child process (`kubun snapshot save`): bun:sqlite is synchronous, and a VACUUM INTO of
// a large database in the server's own thread would hold every request for its duration (~0.35 s per 40 MB here).
import { parseSchedule } from "../controllers/cronjob/cron.ts";
import { logger } from "../log/log.ts";
import { selfCommand } from "./self.ts";
import { pruneSnapshots, SCHEDULED_NAME, type SnapshotTarget } from "./snapshots.ts";

const log = logger("snapshots");

export const DEFAULT_SNAPSHOT_CRON = "0 */12 * * *";

export interface SnapshotScheduleOptions extends SnapshotTarget {
  cron: string;
  retention: number;
  nodeName?: string;
  signal: AbortSignal;
}

/** Throws the cron parser's message for a bad schedule (checked before the server starts). */
export function checkSnapshotSchedule(cron: string, retention: number): void {
  try {
    parseSchedule(cron);
  } catch (e) {
    throw new Error(`--snapshot-schedule-cron: invalid schedule ${JSON.stringify(cron)}: ${(e as Error).message}`);
  }
  if (!Number.isInteger(retention) || retention < 1) throw new Error(`--snapshot-retention must be at least 1, got ${retention}`);
}

/** Runs until the signal aborts: at each activation, one snapshot then pruning. Failures are logged, not fatal. */
export async function runSnapshotSchedule(o: SnapshotScheduleOptions): Promise<void> {
  const schedule = parseSchedule(o.cron);
  log.info("scheduled snapshots", { cron: o.cron, retention: o.retention, dir: o.dir });
  let after = new Date();
  while (!o.signal.aborted) {
    const next = schedule.next(after);
    const wait = Math.max(0, next.getTime() - Date.now());
    await new Promise<void>((res) => {
      // setTimeout holds at most ~24.8 days; a longer wait simply loops.
      const t = setTimeout(res, Math.min(wait, 2 ** 31 - 1));
      o.signal.addEventListener("abort", () => (clearTimeout(t), res()), { once: true });
    });
    if (o.signal.aborted) return;
    if (Date.now() < next.getTime()) continue;
    try {
      const saved = await saveInChild(o);
      const pruned = pruneSnapshots(o, SCHEDULED_NAME, o.retention);
      log.info("snapshot saved", { result: saved, pruned });
    } catch (e) {
      log.warn("scheduled snapshot failed", { error: e });
    }
    // Activations missed while a snapshot ran (or the machine slept) are skipped, not taken in a burst.
    after = new Date(Math.max(next.getTime(), Date.now()));
  }
}

/** `kubun snapshot save --name scheduled …` in a child process; resolves with its report line. */
async function saveInChild(o: SnapshotScheduleOptions): Promise<string> {
  const args = ["snapshot", "save", "--name", SCHEDULED_NAME, "--data-dir", o.dataDir];
  if (o.dir) args.push("--snapshot-dir", o.dir);
  if (o.nodeName) args.push("--node-name", o.nodeName);
  if (o.etcdEndpoints?.length) {
    args.push("--datastore-endpoint", o.etcdEndpoints.join(","));
    if (o.etcdTLS?.caFile) args.push("--datastore-cafile", o.etcdTLS.caFile);
    if (o.etcdTLS?.certFile) args.push("--datastore-certfile", o.etcdTLS.certFile);
    if (o.etcdTLS?.keyFile) args.push("--datastore-keyfile", o.etcdTLS.keyFile);
  }
  const child = Bun.spawn([...selfCommand(), ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const kill = () => child.kill();
  o.signal.addEventListener("abort", kill, { once: true });
  try {
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    if (code !== 0) throw new Error(err.trim().split("\n").pop() || `kubun snapshot save exited with ${code}`);
    return out.trim();
  } finally {
    o.signal.removeEventListener("abort", kill);
  }
}
