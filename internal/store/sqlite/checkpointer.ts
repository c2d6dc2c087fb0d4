// WAL checkpoints off the event loop. A checkpoint copies the WAL's pages into the main file and fsyncs it; done by
// SQLite's auto-checkpoint it runs inside a COMMIT on the event loop, which then waits for the disk — ~20 ms here, up
// to a second on a busy SD card — while no request, watch or Lease renewal is served. Instead, after commits the
// WAL's length is read from the wal-index (the -shm file's header, mxFrame: https://sqlite.org/walformat.html) and,
// past the threshold, a worker thread with its own connection runs PASSIVE checkpoints, which never block this
// connection's writers. Acknowledged writes are already durable in the WAL (walsync.ts), so where a
// checkpoint runs changes no guarantee. The worker lives only through a burst of writes: an idle node pays nothing.
// SQLite's own auto-checkpoint stays as a backstop at 16x the threshold (a worker that cannot run).
import { closeSync, openSync, readSync } from "node:fs";
import { endianness } from "node:os";
import type { Logger } from "../../log/log.ts";

/** Frames (pages) in the WAL that start a checkpoint: 4 MiB with the store's 1 KiB pages. */
export const CHECKPOINT_FRAMES = 4096;

// The worker: a connection, and PASSIVE checkpoints until one copies every frame (writers keep appending meanwhile; the
// WAL can only start over once a checkpoint has caught up), at most 8 rounds. A blob URL works in the compiled binary.
const WORKER_SOURCE = `
import { Database } from "bun:sqlite";
let db;
self.onmessage = (e) => {
  let out = {};
  try {
    if (!db) {
      db = new Database(e.data.path);
      db.run("PRAGMA busy_timeout = 10000");
      db.run("PRAGMA synchronous = NORMAL");
    }
    for (let round = 1; round <= 8; round++) {
      out = db.query("PRAGMA wal_checkpoint(PASSIVE)").get();
      out.rounds = round;
      if (out.busy || out.log === out.checkpointed) break;
    }
  } catch (err) {
    out = { error: String(err && err.message || err) };
  }
  postMessage(out);
};`;
let workerURL: string | undefined;
/** Frames left after the worker's checkpoint that the event loop copies itself, so that the WAL can start over. */
const FINISH_ON_LOOP_FRAMES = 256;
/** A worker idle this long is stopped (its connection closes with it). */
const WORKER_IDLE_MS = 5_000;

export class Checkpointer {
  private shm: number | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private header = Buffer.alloc(4);
  private worker: Worker | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Checkpoints finished (for tests and logs). */
  done = 0;

  constructor(
    private path: string,
    private log: Logger,
    /** A PASSIVE checkpoint on the store's own connection, for the last few frames. */
    private finishOnLoop: () => void,
    private frames = CHECKPOINT_FRAMES,
  ) {}

  /** Frames in the WAL now (0 when the wal-index cannot be read). */
  walFrames(): number {
    try {
      this.shm ??= openSync(`${this.path}-shm`, "r");
      // mxFrame: a u32 at byte 16 of the wal-index header, in the machine's byte order.
      if (readSync(this.shm, this.header, 0, 4, 16) !== 4) return 0;
      return endianness() === "LE" ? this.header.readUInt32LE(0) : this.header.readUInt32BE(0);
    } catch {
      this.closeShm();
      return 0;
    }
  }

  /** After a commit: starts a checkpoint when the WAL has grown past the threshold and none is running. */
  afterCommit(): void {
    if (this.closed || this.running) return;
    if (this.walFrames() < this.frames) return;
    this.running = this.run().finally(() => (this.running = undefined));
  }

  private run(): Promise<void> {
    workerURL ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
    clearTimeout(this.idleTimer);
    const worker = (this.worker ??= new Worker(workerURL));
    const t0 = performance.now();
    return new Promise<void>((resolve) => {
      const finish = (out: { busy?: number; log?: number; checkpointed?: number; rounds?: number; error?: string }) => {
        if (out.error) {
          this.log.warn("WAL checkpoint failed", { error: out.error });
          this.stopWorker();
        } else {
          this.done++;
          this.log.debug("WAL checkpointed", { frames: out.log, copied: out.checkpointed, rounds: out.rounds, ms: Math.round(performance.now() - t0) });
          // Writes went on meanwhile, so the WAL cannot start over (and stop growing) until a checkpoint has caught up
          // between two commits. When only a few frames are left, copy them here: a short copy and sync of little.
          const left = out.log === out.checkpointed ? this.walFrames() - (out.log ?? 0) : 0;
          if (left > 0 && left <= FINISH_ON_LOOP_FRAMES) this.finishOnLoop();
          // Kept for the next checkpoint of a write burst, gone once writes pause: an idle node has no worker.
          this.idleTimer = setTimeout(() => this.stopWorker(), WORKER_IDLE_MS);
          this.idleTimer.unref?.();
        }
        resolve();
      };
      worker.onmessage = (e: MessageEvent) => finish(e.data ?? {});
      worker.onerror = (e) => finish({ error: e.message });
      worker.postMessage({ path: this.path });
    });
  }

  private stopWorker(): void {
    clearTimeout(this.idleTimer);
    this.worker?.terminate();
    this.worker = undefined;
  }

  /** Waits for a running checkpoint (its connection must be gone before the store's own closes). */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
    this.stopWorker();
    this.closeShm();
  }

  private closeShm(): void {
    if (this.shm !== undefined) closeSync(this.shm);
    this.shm = undefined;
  }
}
