// mkfifo(3) through libc: Node's fs cannot make a FIFO, and a `mkfifo` process per stream costs 20–300 ms of
// fork/exec on a loaded node (two per container start, two per exec). Deliberately FFI: no npm package does this.
import { dlopen, FFIType } from "bun:ffi";

let libc: { symbols: { mkfifo(path: Uint8Array, mode: number): number } } | undefined;

/** Makes a FIFO at path with mode (less the umask); throws with the errno text if it cannot. */
export function mkfifo(path: string, mode = 0o600): void {
  libc ??= dlopen("libc.so.6", { mkfifo: { args: [FFIType.cstring, FFIType.u32], returns: FFIType.i32 } }) as any;
  if (libc!.symbols.mkfifo(Buffer.from(`${path}\0`), mode) !== 0) {
    // errno is not reachable through bun:ffi; the usual causes are a missing directory or an existing file.
    throw new Error(`mkfifo ${path} failed`);
  }
}
