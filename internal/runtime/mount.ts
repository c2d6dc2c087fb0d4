// mount(2) through libc for a container's overlay rootfs: a `mount` process per container start costs a
// fork/exec on a loaded node. Deliberately FFI: no npm package wraps mount(2).
import { dlopen, FFIType } from "bun:ffi";

let libc: { symbols: { mount(source: Uint8Array, target: Uint8Array, type: Uint8Array, flags: number, data: Uint8Array): number } } | undefined;

const cstr = (s: string) => Buffer.from(`${s}\0`);

/** mount -t <type> <source> <target> -o <options>, for filesystem mounts whose options are all fs data (overlay). */
export function mountFs(type: string, source: string, target: string, options: string[]): void {
  libc ??= dlopen("libc.so.6", {
    mount: { args: [FFIType.cstring, FFIType.cstring, FFIType.cstring, FFIType.u64, FFIType.cstring], returns: FFIType.i32 },
  }) as any;
  if (libc!.symbols.mount(cstr(source), cstr(target), cstr(type), 0, cstr(options.join(","))) !== 0) {
    throw new Error(`mount -t ${type} ${source} ${target} failed`);
  }
}
