// Snapshots of the SQLite store (what `kubun snapshot save/restore` and the server's schedule use).
//
// save: `VACUUM INTO` on a separate connection to the live file. It runs inside one read transaction, so the copy is
// a consistent point in time, and in WAL mode readers never block the server's writers (nor it them): the snapshot is
// taken online. Any process may do it (the server for scheduled snapshots, the CLI for `save`): several processes may
// open the file. Leases are volatile (memory only) and so are not in a snapshot; their holders recreate them.
//
// restore: replaces the file while no server runs. The snapshot's revisions are older than what clients may have
// seen, so the restored file gets a revision floor (revisions.ts) above the replaced database's current revision:
// new writes get higher revisions, and a watch or list from a revision issued before the restore gets 410 Gone, so
// clients relist — revisions stay monotonic across a restore.
import { Database } from "bun:sqlite";
import { chmodSync, closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { StoreError } from "../types.ts";

const FLOOR = "revision_floor";

/** The highest revision a database file has handed out: max(row id, persisted floor). */
function currentRevision(db: Database): number {
  const max = db.query<{ m: number | null }, []>("SELECT max(id) AS m FROM kine").get()?.m ?? 0;
  const floor = db.query<{ value: number }, [string]>("SELECT value FROM kine_meta WHERE key = ?").get(FLOOR)?.value ?? 0;
  return Math.max(max, floor);
}

function fsyncFile(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(path: string): void {
  try {
    fsyncFile(path);
  } catch {
    // Some file systems refuse to fsync a directory; the rename is still atomic.
  }
}

/** Whether path is a kubun SQLite database (the log tables exist and the file is intact); throws with why not. */
export function checkSnapshotFile(path: string): { revision: number } {
  if (!existsSync(path)) throw new StoreError(`snapshot ${path} does not exist`);
  let db: Database;
  try {
    db = new Database(path, { readonly: true });
  } catch (e) {
    throw new StoreError(`snapshot ${path} cannot be opened: ${(e as Error).message}`);
  }
  try {
    const ok = db.query<{ quick_check: string }, []>("PRAGMA quick_check").get()?.quick_check;
    if (ok !== "ok") throw new StoreError(`snapshot ${path} is damaged: ${ok}`);
    const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((t) => t.name);
    if (!tables.includes("kine") || !tables.includes("kine_meta")) throw new StoreError(`${path} is not a kubun snapshot (no kine tables)`);
    return { revision: currentRevision(db) };
  } catch (e) {
    if (e instanceof StoreError) throw e;
    throw new StoreError(`${path} is not a kubun snapshot: ${(e as Error).message}`);
  } finally {
    db.close();
  }
}

/**
 * Writes a consistent copy of the live database at dbPath to outPath (mode 0600: it holds Secrets). Safe while a
 * server writes to dbPath. Returns the snapshot's revision and size.
 */
export function saveSqliteSnapshot(dbPath: string, outPath: string): { revision: number; size: number } {
  if (!existsSync(dbPath)) throw new StoreError(`no database at ${dbPath}: has 'kubun server' run with this --data-dir?`);
  mkdirSync(dirname(outPath), { recursive: true, mode: 0o700 });
  const tmp = `${outPath}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  const db = new Database(dbPath, { readwrite: true, create: false });
  try {
    db.run("PRAGMA busy_timeout = 10000");
    db.run("VACUUM INTO ?", [tmp]);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new StoreError(`snapshot of ${dbPath} failed: ${(e as Error).message}`);
  } finally {
    db.close();
  }
  chmodSync(tmp, 0o600);
  fsyncFile(tmp);
  renameSync(tmp, outPath);
  fsyncDir(dirname(outPath));
  const { revision } = checkSnapshotFile(outPath);
  return { revision, size: statSync(outPath).size };
}

export interface RestoreResult {
  /** The replaced database's current revision (0 when there was none). */
  previousRevision: number;
  /** The revision the restored data is at. */
  snapshotRevision: number;
  /** Where the replaced database was moved (kept until the operator removes it). */
  oldPath?: string;
}

/**
 * Replaces the database at dbPath with the snapshot. The caller must make sure no server has the file open.
 * The replaced file is kept next to it as <db>.old-<unix seconds>.
 */
export function restoreSqliteSnapshot(dbPath: string, snapshotPath: string, now = new Date()): RestoreResult {
  const { revision: snapshotRevision } = checkSnapshotFile(snapshotPath);
  let previousRevision = 0;
  if (existsSync(dbPath)) {
    // A read-write open and close also checkpoints and removes a WAL a killed server left behind.
    const old = new Database(dbPath, { readwrite: true, create: false });
    try {
      old.run("PRAGMA busy_timeout = 10000");
      previousRevision = currentRevision(old);
      old.run("PRAGMA wal_checkpoint(TRUNCATE)");
    } finally {
      old.close();
    }
  }
  mkdirSync(dirname(dbPath), { recursive: true, mode: 0o700 });
  const tmp = `${dbPath}.restore-${process.pid}`;
  copyFileSync(snapshotPath, tmp);
  chmodSync(tmp, 0o600);
  const db = new Database(tmp, { readwrite: true, create: false });
  try {
    // Above every revision handed out before: the next write gets previousRevision + 2, and a client's watch or list
    // from any revision up to previousRevision + 1 is answered with 410 Gone.
    const floor = Math.max(previousRevision + 1, currentRevision(db));
    db.run("INSERT INTO kine_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [FLOOR, floor]);
    db.run("PRAGMA journal_mode = DELETE");
  } finally {
    db.close();
  }
  fsyncFile(tmp);
  let oldPath: string | undefined;
  if (existsSync(dbPath)) {
    oldPath = `${dbPath}.old-${Math.floor(now.getTime() / 1000)}`;
    renameSync(dbPath, oldPath);
  }
  // A stale WAL must never be applied to the restored file.
  for (const suffix of ["-wal", "-shm"]) rmSync(dbPath + suffix, { force: true });
  renameSync(tmp, dbPath);
  fsyncDir(dirname(dbPath));
  return { previousRevision, snapshotRevision, oldPath };
}
