// Copies a container's output from the FIFOs the shim writes into (one for stdout, one for stderr; see
// tasks-api.ts) to a CRI-format log file ("<RFC3339Nano> <stdout|stderr> <P|F> <line>"), rotating by size as
// upstream's kubelet does (containerLogMaxSize / containerLogMaxFiles), and hands the same bytes to live
// listeners (kubectl attach).
//
// FIFOs are opened read-write so that opening never blocks and the shim's writes never see EPIPE while the
// agent restarts: the shim also keeps a read end, so output waits in the pipe until the next agent reads it.
// A container started by an older agent has a single FIFO (containerd's file:// log URI merged both streams);
// it is read as stdout.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export interface LogPumpOptions {
  maxBytes?: number;
  maxFiles?: number;
}

export type StreamName = "stdout" | "stderr";
export type OutputListener = (stream: StreamName, bytes: Uint8Array) => void;

const MAX_LINE = 16 * 1024; // upstream splits longer lines into partial (P) entries

interface Source {
  stream: StreamName;
  path: string;
  fd: number;
  pending: string;
  reader?: ReadableStreamDefaultReader<Uint8Array>;
  done?: Promise<void>;
}

export class LogPump {
  private logFd: number;
  private size: number;
  private sources: Source[] = [];
  private listeners = new Set<OutputListener>();
  private closed = false;
  private readonly maxBytes: number;
  private readonly maxFiles: number;

  constructor(
    fifos: string | { stdout: string; stderr?: string },
    private logPath: string,
    opts: LogPumpOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
    this.maxFiles = opts.maxFiles ?? 5;
    mkdirSync(dirname(logPath), { recursive: true });
    this.logFd = openSync(logPath, "a");
    this.size = fstatSync(this.logFd).size;
    const paths: [StreamName, string | undefined][] = typeof fifos === "string" ? [["stdout", fifos]] : [["stdout", fifos.stdout], ["stderr", fifos.stderr]];
    for (const [stream, path] of paths) {
      if (!path) continue;
      const src: Source = { stream, path, fd: openSync(path, "r+"), pending: "" };
      src.done = this.pump(src);
      this.sources.push(src);
    }
  }

  /** Live output from now on (kubectl attach); returns the unsubscribe function. */
  listen(fn: OutputListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private async pump(src: Source): Promise<void> {
    const dec = new TextDecoder();
    src.reader = Bun.file(src.fd).stream().getReader() as ReadableStreamDefaultReader<Uint8Array>;
    try {
      for (;;) {
        const { value, done } = await src.reader.read();
        if (done) break;
        if (!value) continue;
        for (const l of this.listeners) l(src.stream, value);
        this.push(src, dec.decode(value, { stream: true }));
      }
    } catch {
      // closed under us
    }
  }

  private push(src: Source, text: string): void {
    src.pending += text;
    let nl: number;
    while ((nl = src.pending.indexOf("\n")) >= 0) {
      this.write(src.stream, src.pending.slice(0, nl), "F");
      src.pending = src.pending.slice(nl + 1);
    }
    while (src.pending.length > MAX_LINE) {
      this.write(src.stream, src.pending.slice(0, MAX_LINE), "P");
      src.pending = src.pending.slice(MAX_LINE);
    }
  }

  private write(stream: StreamName, line: string, tag: "F" | "P"): void {
    if (this.closed) return;
    const buf = Buffer.from(`${new Date().toISOString()} ${stream} ${tag} ${line}\n`);
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
    for (const src of this.sources) {
      try {
        await src.reader?.cancel();
      } catch {}
    }
    await Promise.race([Promise.all(this.sources.map((s) => s.done)), Bun.sleep(200)]);
    for (const src of this.sources) {
      if (src.pending) this.write(src.stream, src.pending, "F");
      src.pending = "";
      try {
        closeSync(src.fd);
      } catch {}
      if (removeFifo && existsSync(src.path)) rmSync(src.path, { force: true });
    }
    this.closed = true;
    this.listeners.clear();
    try {
      closeSync(this.logFd);
    } catch {}
  }
}
