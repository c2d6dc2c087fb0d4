// exec and attach over SPDY (client-go's remotecommand, protocols v4/v3/v2/channel.k8s.io): the client opens an
// "error" stream, then "stdin", "stdout", "stderr" as it asked for them in the query, and "resize" for a tty.
// Once the streams it asked for exist we start the process: stdout/stderr go to their streams, the stdin
// stream feeds the process (its FIN closes stdin), resize messages (JSON {"Width","Height"} back to back)
// resize the terminal. At the end, v4 writes a Status to the error stream (exit code in details.causes),
// older versions only an error text; then every stream is closed and the session ends.
import type { ExecProcess } from "../runtime/types.ts";
import { SpdySession, type SpdyStream } from "./spdy-session.ts";

export const SPDY_EXEC_PROTOCOLS = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"];

export interface SpdyExecOptions {
  send(b: Uint8Array): void;
  close(): void;
  protocol: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** Starts the process (exec) or connects to the container (attach). */
  open(): ExecProcess;
  /** The error stream's final message for an exit code ("" = nothing to write). */
  status(code: number, v4: boolean): string;
}

/** Streams the client must open before the process starts (upstream waits for the same set). */
function expected(o: SpdyExecOptions): string[] {
  const want = ["error"];
  if (o.stdin) want.push("stdin");
  if (o.stdout) want.push("stdout");
  // With a tty, stderr is merged into stdout and client-go opens no stderr stream.
  if (o.stderr && !o.tty) want.push("stderr");
  return want;
}

export class SpdyExec {
  private session: SpdySession;
  private streams = new Map<string, SpdyStream>();
  private proc?: ExecProcess;
  private pendingStdin: Uint8Array[] = [];
  private stdinEnded = false;
  private resizeBuf = "";
  private timer: ReturnType<typeof setTimeout>;

  constructor(private o: SpdyExecOptions) {
    this.session = new SpdySession({ send: o.send, close: o.close, onStream: (s) => this.onStream(s) });
    // A client that never opens its streams must not hold the connection forever (upstream: 30 s).
    this.timer = setTimeout(() => {
      if (!this.proc) this.session.close();
    }, 30_000);
  }

  feed(bytes: Uint8Array): void {
    this.session.feed(bytes);
  }

  private onStream(s: SpdyStream): void {
    const type = s.headers.get("streamtype") ?? "";
    this.streams.set(type, s);
    if (type === "stdin") {
      s.ondata = (b) => (this.proc ? this.proc.write(b) : this.pendingStdin.push(Buffer.from(b)));
      s.onend = () => {
        this.stdinEnded = true;
        this.proc?.end();
      };
    } else if (type === "resize") {
      s.ondata = (b) => this.onResize(new TextDecoder().decode(b));
    }
    if (!this.proc && expected(this.o).every((t) => this.streams.has(t))) this.start();
  }

  private onResize(text: string): void {
    this.resizeBuf += text;
    // Messages are JSON objects written back to back (Go's json.Encoder): split at each closing brace.
    let end: number;
    while ((end = this.resizeBuf.indexOf("}")) >= 0) {
      const msg = this.resizeBuf.slice(0, end + 1);
      this.resizeBuf = this.resizeBuf.slice(end + 1);
      try {
        const { Width, Height } = JSON.parse(msg);
        if (Width > 0 && Height > 0) this.proc?.resize?.(Width, Height);
      } catch {}
    }
  }

  private start(): void {
    clearTimeout(this.timer);
    const errorStream = this.streams.get("error")!;
    let proc: ExecProcess;
    try {
      proc = this.o.open();
    } catch (e) {
      errorStream.write(Buffer.from((e as Error).message));
      this.finish();
      return;
    }
    this.proc = proc;
    for (const b of this.pendingStdin) proc.write(b);
    this.pendingStdin = [];
    if (this.stdinEnded) proc.end();
    if (this.resizeBuf) this.onResize("");
    const pump = async (src: ReadableStream<Uint8Array>, to?: SpdyStream) => {
      for await (const chunk of src) to?.write(chunk);
    };
    void Promise.all([pump(proc.stdout, this.streams.get("stdout")), pump(proc.stderr, this.streams.get("stderr") ?? this.streams.get("stdout")), proc.exited]).then(([, , code]) => {
      const msg = this.o.status(code, this.o.protocol === "v4.channel.k8s.io");
      if (msg) errorStream.write(Buffer.from(msg));
      this.finish();
    });
  }

  private finish(): void {
    for (const s of this.streams.values()) s.end();
    this.session.close();
  }

  /** The client went away: the process loses its stdin; an exec still running is killed (attach detaches). */
  close(): void {
    clearTimeout(this.timer);
    this.proc?.end();
    setTimeout(() => this.proc?.kill(), 1000);
  }
}
