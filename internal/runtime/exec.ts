// A process started in a running container (kubectl exec, exec probes, lifecycle hooks) through containerd's
// Tasks API with FIFOs of our own (tasks-api.ts says why not `ctr tasks exec`). Output FIFOs are read through a
// non-blocking read end plus a write end we hold ourselves, so the stream cannot end before the shim has opened
// its side; once DeleteProcess returns (the shim has copied everything) we drop that write end and the
// streams end after the last byte.
import { closeSync, constants, mkdirSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import { mkfifo } from "./fifo.ts";
import { StdinFifo } from "./stdin.ts";
import type { TasksAPI } from "./tasks-api.ts";
import type { ExecOptions, ExecProcess } from "./types.ts";

const SIGKILL = 9;
/** Exit code reported when the process could not be started (as a shell's "cannot execute"). */
const CANNOT_EXECUTE = 126;

export interface ExecDeps {
  tasks: TasksAPI;
  /** Directory for the exec's FIFOs (removed afterwards). */
  dir: string;
  /** The container's OCI process (env, cwd, user, capabilities), which the exec inherits. */
  processSpec(): Promise<any>;
}

function outputFifo(path: string): { read: number; keep: number } {
  const read = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const keep = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  return { read, keep };
}

export function execInContainer(d: ExecDeps, id: string, execId: string, cmd: string[], opts: ExecOptions = {}): ExecProcess {
  let out!: ReadableStreamDefaultController<Uint8Array>;
  let err!: ReadableStreamDefaultController<Uint8Array>;
  const stdout = new ReadableStream<Uint8Array>({ start: (c) => void (out = c) });
  const stderr = new ReadableStream<Uint8Array>({ start: (c) => void (err = c) });
  const keepOpen = opts.stdin instanceof ReadableStream;
  const data = typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin instanceof Uint8Array ? opts.stdin : undefined;
  const wantStdin = keepOpen || !!data?.length;
  let stdin: StdinFifo | undefined;
  let started = false;
  let stdinEnded = false;
  const pendingStdin: Uint8Array[] = [];
  let killed = false;
  let size: [number, number] | undefined;

  const endStdin = async () => {
    if (!stdin) return;
    await stdin.close();
    await d.tasks.closeStdin(id, execId).catch(() => {});
  };

  const exited = (async (): Promise<number> => {
    const fds: { read: number; keep: number }[] = [];
    const pumps: Promise<void>[] = [];
    try {
      mkdirSync(d.dir, { recursive: true, mode: 0o700 });
      const paths = { stdin: join(d.dir, "stdin"), stdout: join(d.dir, "stdout"), stderr: join(d.dir, "stderr") };
      for (const p of opts.tty ? [paths.stdout] : [paths.stdout, paths.stderr]) mkfifo(p);
      if (wantStdin) stdin = await StdinFifo.create(paths.stdin);
      const streams: [string, ReadableStreamDefaultController<Uint8Array>][] = opts.tty ? [[paths.stdout, out]] : [[paths.stdout, out], [paths.stderr, err]];
      for (const [p, ctrl] of streams) {
        const f = outputFifo(p);
        fds.push(f);
        pumps.push(
          (async () => {
            for await (const chunk of Bun.file(f.read).stream()) ctrl.enqueue(chunk);
          })().catch(() => {}),
        );
      }
      const base = await d.processSpec();
      const process: any = { ...base, args: cmd, terminal: !!opts.tty };
      if (opts.user) {
        const [uid, gid] = opts.user.split(":").map(Number);
        process.user = { ...base.user, uid, gid: gid ?? uid };
      }
      await d.tasks.exec(id, execId, { stdin: wantStdin ? paths.stdin : undefined, stdout: paths.stdout, stderr: opts.tty ? undefined : paths.stderr, terminal: !!opts.tty }, process);
      try {
        await d.tasks.start(id, execId);
      } catch (e) {
        await d.tasks.deleteProcess(id, execId).catch(() => {});
        throw e;
      }
      started = true;
      if (size) void d.tasks.resizePty(id, execId, size[0], size[1]).catch(() => {});
      if (killed) void d.tasks.kill(id, execId, SIGKILL).catch(() => {});
      for (const b of pendingStdin.splice(0)) stdin?.write(b);
      if (data?.length) {
        stdin?.write(data);
        void endStdin();
      } else if (stdinEnded) void endStdin();
      if (opts.stdin instanceof ReadableStream) {
        void (async () => {
          try {
            for await (const c of opts.stdin as ReadableStream<Uint8Array>) stdin?.write(c);
          } catch {}
        })();
      }
      const code = await d.tasks.wait(id, execId).catch(() => 255);
      await d.tasks.deleteProcess(id, execId).catch(() => {});
      return code;
    } catch (e) {
      const msg = (e as Error).message;
      (opts.tty ? out : err).enqueue(new TextEncoder().encode(`${msg}\n`));
      return CANNOT_EXECUTE;
    } finally {
      // Everything the shim copied is in the pipes now: let the streams end after it.
      for (const f of fds) closeSync(f.keep);
      await Promise.race([Promise.all(pumps), Bun.sleep(5000)]);
      for (const f of fds)
        try {
          closeSync(f.read);
        } catch {}
      for (const c of [out, err])
        try {
          c.close();
        } catch {}
      await stdin?.close();
      rmSync(d.dir, { recursive: true, force: true });
    }
  })();

  const timer = opts.timeoutMs ? setTimeout(() => proc.kill(), opts.timeoutMs) : undefined;
  const proc: ExecProcess = {
    stdout,
    stderr,
    write: (b) => (started ? stdin?.write(b) : pendingStdin.push(Buffer.from(b))),
    end: () => {
      stdinEnded = true;
      if (started) void endStdin();
    },
    resize: opts.tty
      ? (w, h) => {
          size = [w, h];
          if (started) void d.tasks.resizePty(id, execId, w, h).catch(() => {});
        }
      : undefined,
    kill: () => {
      killed = true;
      if (started) void d.tasks.kill(id, execId, SIGKILL).catch(() => {});
    },
    exited: exited.finally(() => timer && clearTimeout(timer)),
  };
  return proc;
}
