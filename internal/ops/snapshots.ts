// Datastore snapshots, as k3s's etcd-snapshot: files named <name>-<node>-<unix seconds> in
// <data-dir>/server/snapshots (--snapshot-dir); save (online), list, delete, prune (keep the newest N of a name),
// restore (SQLite, server stopped). With etcd (--datastore-endpoint) save streams etcd's own snapshot; restoring one
// is etcdutl's job (`etcdutl snapshot restore`), as for any etcd cluster.
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { basename, isAbsolute, join, resolve } from "node:path";
import { defaultSqlitePath, type EtcdTLSFiles } from "../store/index.ts";
import { restoreSqliteSnapshot, saveSqliteSnapshot, type RestoreResult } from "../store/sqlite/snapshot.ts";
import { requireServerStopped } from "./pidfile.ts";

export const SCHEDULED_NAME = "scheduled";
export const ON_DEMAND_NAME = "on-demand";

export function defaultSnapshotDir(dataDir: string): string {
  return join(dataDir, "server", "snapshots");
}

export interface SnapshotInfo {
  name: string;
  location: string;
  size: number;
  createdAt: string;
}

export interface SnapshotTarget {
  dataDir: string;
  /** Default <data-dir>/server/snapshots. */
  dir?: string;
  /** etcd endpoints: save streams etcd's snapshot instead of copying SQLite. */
  etcdEndpoints?: string[];
  etcdTLS?: EtcdTLSFiles;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const STAMP_RE = /-(\d{9,11})$/;

export function snapshotDir(t: SnapshotTarget): string {
  return t.dir ?? defaultSnapshotDir(t.dataDir);
}

/** Throws on a --name that would not make a plain file name. */
export function checkSnapshotName(name: string): void {
  if (!NAME_RE.test(name) || name.length > 200) {
    throw new Error(`invalid snapshot name ${JSON.stringify(name)}: letters, digits, '.', '_' and '-' only`);
  }
}

function createdAt(path: string): number {
  const m = STAMP_RE.exec(basename(path));
  return m ? Number(m[1]) * 1000 : statSync(path).mtimeMs;
}

/** Snapshots in the directory, oldest first. */
export function listSnapshots(t: SnapshotTarget): SnapshotInfo[] {
  const dir = snapshotDir(t);
  if (!existsSync(dir)) return [];
  const out: SnapshotInfo[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    // Half-written files of a save in progress (or killed) are not snapshots.
    if (!e.isFile() || e.name.includes(".tmp-")) continue;
    const location = join(dir, e.name);
    out.push({ name: e.name, location, size: statSync(location).size, createdAt: new Date(createdAt(location)).toISOString() });
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
}

/** Takes a snapshot now, online. */
export async function saveSnapshot(t: SnapshotTarget, opts: { name: string; nodeName?: string; now?: Date }): Promise<SnapshotInfo & { revision: number }> {
  checkSnapshotName(opts.name);
  const node = (opts.nodeName ?? hostname()).toLowerCase();
  let seconds = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const dir = snapshotDir(t);
  // Two saves in one second must not overwrite each other.
  while (existsSync(join(dir, `${opts.name}-${node}-${seconds}`))) seconds++;
  const file = `${opts.name}-${node}-${seconds}`;
  const location = join(dir, file);
  let r: { revision: number; size: number };
  if (t.etcdEndpoints?.length) {
    const { openStore } = await import("../store/index.ts");
    const { saveEtcdSnapshot } = await import("../store/etcd/snapshot.ts");
    const store = (await openStore({ dataDir: t.dataDir, etcdEndpoints: t.etcdEndpoints, etcdTLS: t.etcdTLS })) as import("../store/etcd/store.ts").EtcdStore;
    try {
      // etcd's snapshot header may carry no revision: the snapshot is at least at the revision read just before.
      const before = await store.currentRevision();
      r = await saveEtcdSnapshot(store.client, location);
      r.revision = Math.max(r.revision, before);
    } finally {
      await store.close();
    }
  } else {
    r = saveSqliteSnapshot(defaultSqlitePath(t.dataDir), location);
  }
  return { name: file, location, size: r.size, createdAt: new Date(seconds * 1000).toISOString(), revision: r.revision };
}

/** A snapshot named by file name (in the snapshot dir) or by path. */
export function resolveSnapshot(t: SnapshotTarget, nameOrPath: string): string {
  if (isAbsolute(nameOrPath) || nameOrPath.includes("/")) return resolve(nameOrPath);
  return join(snapshotDir(t), nameOrPath);
}

/** Deletes snapshots by name; throws (deleting nothing) when one does not exist. */
export function deleteSnapshots(t: SnapshotTarget, names: string[]): string[] {
  const dir = snapshotDir(t);
  const paths = names.map((n) => {
    if (!NAME_RE.test(n)) throw new Error(`invalid snapshot name ${JSON.stringify(n)}`);
    const p = join(dir, n);
    if (!existsSync(p)) throw new Error(`snapshot ${JSON.stringify(n)} not found in ${dir}`);
    return p;
  });
  for (const p of paths) rmSync(p);
  return names;
}

/** Keeps the newest `retention` snapshots whose name starts with `<name>-`; deletes the rest. Returns the deleted. */
export function pruneSnapshots(t: SnapshotTarget, name: string, retention: number): string[] {
  checkSnapshotName(name);
  if (!Number.isInteger(retention) || retention < 1) throw new Error(`--snapshot-retention must be at least 1, got ${retention}`);
  const mine = listSnapshots(t).filter((s) => s.name.startsWith(`${name}-`));
  const doomed = mine.slice(0, Math.max(0, mine.length - retention));
  for (const s of doomed) rmSync(s.location, { force: true });
  return doomed.map((s) => s.name);
}

/** Restores a SQLite snapshot into the data dir; refuses while a server runs there or with etcd. */
export function restoreSnapshot(t: SnapshotTarget, nameOrPath: string): RestoreResult & { from: string } {
  if (t.etcdEndpoints?.length) {
    throw new Error("with --datastore-endpoint (etcd) restore the snapshot with etcdutl: etcdutl snapshot restore FILE --data-dir NEW_ETCD_DIR");
  }
  requireServerStopped(t.dataDir, "restoring a snapshot");
  const from = resolveSnapshot(t, nameOrPath);
  return { ...restoreSqliteSnapshot(defaultSqlitePath(t.dataDir), from), from };
}
