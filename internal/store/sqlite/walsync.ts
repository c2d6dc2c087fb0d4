// Makes committed WAL frames durable without blocking the event loop. The database runs with synchronous=NORMAL, so
// COMMIT only writes the WAL (into the page cache) and returns; this fsyncs the -wal file on Bun's thread pool, and
// the writer acknowledges a batch only once an fsync that began after its COMMIT has returned. fsync(2) flushes the
// file's inode whatever descriptor wrote it, so our own read-only descriptor covers SQLite's writes. Checkpoints stay
// SQLite's: in NORMAL mode it fsyncs the WAL before and the main file after each one, and the WAL header when the
// file is reused, so frames are never overwritten before their pages are durable in the main file.
import { closeSync, fstatSync, fsync, fsyncSync, openSync } from "node:fs";

export interface WalSync {
  /** Starts an fsync of everything written so far; `done` runs on the event loop when it returned. */
  sync(done: (err: Error | null) => void): void;
  /** The same, blocking (for close). */
  syncNow(): void;
  close(): void;
}

export class WalFile implements WalSync {
  private fd: number | undefined;

  constructor(private path: string) {}

  /** Our descriptor, reopened if the file was replaced (a restore, or a WAL removed by another process's close). */
  private descriptor(): number {
    if (this.fd !== undefined && fstatSync(this.fd).nlink > 0) return this.fd;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    return (this.fd = openSync(this.path, "r"));
  }

  sync(done: (err: Error | null) => void): void {
    let fd: number;
    try {
      fd = this.descriptor();
    } catch (e) {
      // No WAL file: SQLite removed it after a full checkpoint (synced by SQLite itself), so nothing is pending.
      done((e as NodeJS.ErrnoException).code === "ENOENT" ? null : (e as Error));
      return;
    }
    fsync(fd, (err) => done(err ?? null));
  }

  syncNow(): void {
    fsyncSync(this.descriptor());
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
