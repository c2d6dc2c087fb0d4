// Copies a container's output from the FIFO the shim writes into to a CRI-format log file
// ("<RFC3339Nano> <stream> <P|F> <line>"), rotating by size as upstream's kubelet does
// (containerLogMaxSize / containerLogMaxFiles).
//
// The FIFO is opened read-write so that opening never blocks and the shim's writes never see EPIPE while the
// agent restarts: the shim also keeps a read end, so output waits in the pipe until the next agent reads it.
// containerd's file:// log URI sends stdout and stderr into the same FIFO, so every line is tagged "stdout".
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export interface LogPumpOptions {
  maxBytes?: number;
  maxFiles?: number;
}

const MAX_LINE = 16 * 1024; // upstream splits longer lines into partial (P) entries

export class LogPump {
  private fifoFd: number;
  private logFd: number;
  private size: number;
  private pending = "";
  private reader?: ReadableStreamDefaultReader<Uint8Array>;
  private done: Promise<void>;
  private readonly maxBytes: number;
  private readonly maxFiles: number;

  constructor(
    private fifoPath: string,
    private logPath: string,
    opts: LogPumpOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
    this.maxFiles = opts.maxFiles ?? 5;
    mkdirSync(dirname(logPath), { recursive: true });
    this.fifoFd = openSync(fifoPath, "r+");
    this.logFd = openSync(logPath, "a");
    this.size = fstatSync(this.logFd).size;
    this.done = this.pump();
  }

  private async pump(): Promise<void> {
    const dec = new TextDecoder();
    this.reader = Bun.file(this.fifoFd).stream().getReader() as ReadableStreamDefaultReader<Uint8Array>;
    try {
      for (;;) {
        const { value, done } = await this.reader.read();
        if (done) break;
        if (value) this.push(dec.decode(value, { stream: true }));
      }
    } catch {
      // closed under us
    }
  }

  private push(text: string): void {
    this.pending += text;
    let nl: number;
    while ((nl = this.pending.indexOf("\n")) >= 0) {
      this.write(this.pending.slice(0, nl), "F");
      this.pending = this.pending.slice(nl + 1);
    }
    while (this.pending.length > MAX_LINE) {
      this.write(this.pending.slice(0, MAX_LINE), "P");
      this.pending = this.pending.slice(MAX_LINE);
    }
  }

  private write(line: string, tag: "F" | "P"): void {
    const buf = Buffer.from(`${new Date().toISOString()} stdout ${tag} ${line}\n`);
    writeSync(this.logFd, buf);
    this.size += buf.length;
    if (this.size >= this.maxBytes) this.rotate();
  }

  private rotate(): void {
    closeSync(this.logFd);
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
    renameSync(this.logPath, `${this.logPath}.${stamp}`);
    const base = basename(this.logPath);
    const old = readdirSync(dirname(this.logPath))
      .filter((f) => f.startsWith(base + "."))
      .sort();
    for (const f of old.slice(0, Math.max(0, old.length - (this.maxFiles - 1)))) rmSync(join(dirname(this.logPath), f), { force: true });
    this.logFd = openSync(this.logPath, "a");
    this.size = 0;
  }

  /** Stops after draining what the container wrote (call once its task has exited). */
  async close(removeFifo = true): Promise<void> {
    await Bun.sleep(50); // let the last chunk arrive
    try {
      await this.reader?.cancel();
    } catch {}
    await Promise.race([this.done, Bun.sleep(200)]);
    if (this.pending) this.write(this.pending, "F");
    this.pending = "";
    try {
      closeSync(this.fifoFd);
    } catch {}
    try {
      closeSync(this.logFd);
    } catch {}
    if (removeFifo && existsSync(this.fifoPath)) rmSync(this.fifoPath, { force: true });
  }
}
