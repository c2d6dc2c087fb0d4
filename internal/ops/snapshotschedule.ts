// Scheduled snapshots in the server (--snapshot-schedule-cron, default every 12 hours; --snapshot-retention 5;
// --disable-snapshots), with the CronJob controller's cron parser (standard five fields, descriptors, @every).
// After each snapshot the oldest scheduled ones beyond the retention are removed.
import { parseSchedule } from "../controllers/cronjob/cron.ts";
import { logger } from "../log/log.ts";
import { pruneSnapshots, saveSnapshot, SCHEDULED_NAME, type SnapshotTarget } from "./snapshots.ts";

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
      const s = await saveSnapshot(o, { name: SCHEDULED_NAME, nodeName: o.nodeName });
      const pruned = pruneSnapshots(o, SCHEDULED_NAME, o.retention);
      log.info("snapshot saved", { name: s.name, size: s.size, revision: s.revision, pruned });
    } catch (e) {
      log.warn("scheduled snapshot failed", { error: e });
    }
    // Activations missed while a snapshot ran (or the machine slept) are skipped, not taken in a burst.
    after = new Date(Math.max(next.getTime(), Date.now()));
  }
}
