// What `kubun server` runs for day-2 operations: the pid file offline tools check, and scheduled snapshots.
import type { EtcdTLSFiles } from "../store/index.ts";
import { writeServerPid } from "./pidfile.ts";
import { runSnapshotSchedule } from "./snapshotschedule.ts";

export interface ServerOpsOptions {
  dataDir: string;
  /** Scheduled snapshots; undefined = --disable-snapshots. */
  snapshots?: { cron: string; retention: number; dir?: string };
  etcdEndpoints?: string[];
  etcdTLS?: EtcdTLSFiles;
  nodeName?: string;
  signal: AbortSignal;
}

/** Starts them; the promise settles once the signal has stopped everything (pid file removed). */
export function runServerOps(o: ServerOpsOptions): Promise<void> {
  const removePid = writeServerPid(o.dataDir);
  const tasks: Promise<void>[] = [];
  if (o.snapshots) {
    tasks.push(runSnapshotSchedule({ ...o.snapshots, dataDir: o.dataDir, etcdEndpoints: o.etcdEndpoints, etcdTLS: o.etcdTLS, nodeName: o.nodeName, signal: o.signal }));
  }
  const stopped = new Promise<void>((res) => (o.signal.aborted ? res() : o.signal.addEventListener("abort", () => res(), { once: true })));
  return Promise.allSettled([stopped, ...tasks]).then(() => removePid());
}
