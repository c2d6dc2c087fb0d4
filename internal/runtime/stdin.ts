// The FIFO a container with `stdin: true` reads its standard input from: the shim copies it into the process
// and itself holds a write end until CloseIO (tasks-api.ts), so the container does not read end-of-file before
// anyone attached, nor when the agent restarts. The agent writes through its own O_RDWR end (never blocks on
// open; O_NONBLOCK so that a container that does not read cannot stall the agent).
import { closeSync, constants, existsSync, openSync, rmSync, writeSync } from "node:fs";
import { mkfifo } from "./fifo.ts";

export class StdinFifo {
  private queue: Uint8Array[] = [];
  private timer?: ReturnType<typeof setTimeout>;
  private closed = false;

  private constructor(
    readonly path: string,
    private fd: number,
  ) {}

  private static open(path: string): number {
    return openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  }

  /** Makes the FIFO (before the task is created). */
  static async create(path: string): Promise<StdinFifo> {
    rmSync(path, { force: true });
    mkfifo(path);
    return new StdinFifo(path, StdinFifo.open(path));
  }

  /** The FIFO of a container started by an earlier agent run, if it still has one. */
  static adopt(path: string): StdinFifo | undefined {
    if (!existsSync(path)) return undefined;
    try {
      return new StdinFifo(path, StdinFifo.open(path));
    } catch {
      return undefined;
    }
  }

  write(b: Uint8Array): void {
    if (this.closed || !b.length) return;
    this.queue.push(Buffer.from(b));
    this.flush();
  }

  private flush(): void {
    this.timer = undefined;
    while (this.queue.length && !this.closed) {
      const b = this.queue[0]!;
      let n: number;
      try {
        n = writeSync(this.fd, b);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EAGAIN") {
          // The pipe is full: the container has not read yet.
          this.timer ??= setTimeout(() => this.flush(), 50);
          return;
        }
        this.queue = [];
        return;
      }
      if (n < b.length) this.queue[0] = b.subarray(n);
      else this.queue.shift();
    }
  }

  /** Stops writing once what is queued has reached the pipe (before the shim is told to close stdin). */
  async close(): Promise<void> {
    while (this.queue.length && !this.closed) await Bun.sleep(50);
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    try {
      closeSync(this.fd);
    } catch {}
  }
}
