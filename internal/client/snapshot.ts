// A saved copy of some informers' caches, so a node restarted while the API server is away starts from the last
// state it knew (cluster DNS answers Service names from it). Loaded once at start (Informer.seed); written after
// the first sync and after changes, at most once per interval and only when the content changed — an idle node
// writes nothing (SD cards). managedFields are dropped: nothing on the node reads them.
import { existsSync, readFileSync } from "node:fs";
import { writeAtomic } from "../api/files.ts";
import type { Logger } from "../log/log.ts";
import { type Informer, type ObjectWithMeta, withoutManagedFields } from "./informer.ts";

export interface SnapshotOptions {
  file: string;
  /** name → informer; the names are the file's keys. */
  informers: Record<string, Informer<ObjectWithMeta>>;
  /** Least time between two writes (default 10 s). */
  intervalMs?: number;
  log?: Logger;
  signal: AbortSignal;
}

/** Seeds the informers from the file (when there is one), then keeps the file up to date until the signal aborts. */
export function persistInformers(o: SnapshotOptions): void {
  const entries = Object.entries(o.informers);
  if (existsSync(o.file)) {
    try {
      const saved = JSON.parse(readFileSync(o.file, "utf8")) as Record<string, unknown>;
      for (const [name, inf] of entries) {
        const items = saved[name];
        if (Array.isArray(items)) inf.seed(items as ObjectWithMeta[]);
      }
      o.log?.info("loaded the last known cluster state", { file: o.file });
    } catch (e) {
      o.log?.warn("ignoring an unreadable saved cluster state", { file: o.file, error: e as Error });
    }
  }
  let last = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = () => {
    timer = undefined;
    if (o.signal.aborted || !entries.every(([, inf]) => inf.hasSynced())) return;
    const doc: Record<string, ObjectWithMeta[]> = {};
    for (const [name, inf] of entries) doc[name] = inf.list().map(withoutManagedFields);
    const text = JSON.stringify(doc);
    if (text === last) return;
    try {
      writeAtomic(o.file, text);
      last = text;
    } catch (e) {
      o.log?.warn("could not save the cluster state", { file: o.file, error: e as Error });
    }
  };
  const schedule = () => {
    timer ??= setTimeout(write, o.intervalMs ?? 10_000);
  };
  for (const [, inf] of entries) {
    inf.addEventHandler({ onAdd: schedule, onUpdate: schedule, onDelete: schedule });
    void inf.synced.then(schedule);
  }
  o.signal.addEventListener("abort", () => timer && clearTimeout(timer), { once: true });
}
