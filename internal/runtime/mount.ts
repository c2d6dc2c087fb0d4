// mount(2)/umount2(2) through libc for a container's overlay rootfs, pod network namespaces and volume
// teardown: a `mount`/`umount`/`mountpoint` process per pod start or stop costs a fork/exec on a loaded node.
// Deliberately FFI: no npm package wraps mount(2).
import { dlopen, FFIType } from "bun:ffi";
import { readFileSync } from "node:fs";

type Libc = {
  symbols: {
    mount(source: Uint8Array, target: Uint8Array, type: Uint8Array, flags: number, data: Uint8Array | null): number;
    umount2(target: Uint8Array, flags: number): number;
  };
};
let libc: Libc | undefined;

function lib(): Libc["symbols"] {
  libc ??= dlopen("libc.so.6", {
    mount: { args: [FFIType.cstring, FFIType.cstring, FFIType.cstring, FFIType.u64, FFIType.cstring], returns: FFIType.i32 },
    umount2: { args: [FFIType.cstring, FFIType.i32], returns: FFIType.i32 },
  }) as unknown as Libc;
  return libc.symbols;
}

const cstr = (s: string) => Buffer.from(`${s}\0`);
const MS_BIND = 0x1000;
const MNT_DETACH = 2;

/** A mount as containerd describes it. */
export interface SnapshotMount {
  type: string;
  source: string;
  options: string[];
}

/** The mounts `ctr snapshots prepare --mounts` prints (Go's field names, or lower-case ones), normalized. */
export function parseSnapshotMounts(json: string): SnapshotMount[] {
  const mounts = JSON.parse(json) as { Type?: string; type?: string; Source?: string; source?: string; Options?: string[]; options?: string[] }[];
  return mounts.map((m) => ({ type: m.Type ?? m.type ?? "", source: m.Source ?? m.source ?? "", options: m.Options ?? m.options ?? [] }));
}

/** mount -t <type> <source> <target> -o <options>, for filesystem mounts whose options are all fs data (overlay). */
export function mountFs(type: string, source: string, target: string, options: string[]): void {
  if (lib().mount(cstr(source), cstr(target), cstr(type), 0, cstr(options.join(","))) !== 0) {
    throw new Error(`mount -t ${type} ${source} ${target} failed`);
  }
}

/** mount --bind <source> <target> (not recursive). */
export function bindMount(source: string, target: string): void {
  if (lib().mount(cstr(source), cstr(target), cstr("none"), MS_BIND, null) !== 0) throw new Error(`mount --bind ${source} ${target} failed`);
}

/** umount -l <target>; false when nothing was mounted there (or it could not be unmounted). */
export function umountLazy(target: string): boolean {
  return lib().umount2(cstr(target), MNT_DETACH) === 0;
}

/** Mount points of this process's mount namespace (mountinfo field 5, octal escapes decoded). */
export function mountPoints(): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const p = line.split(" ")[4];
    if (p) out.add(p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

/** mountpoint -q <dir>, without the process. */
export function isMountpoint(dir: string): boolean {
  return mountPoints().has(dir.replace(/\/+$/, "") || "/");
}
