// Network namespaces from this process: setns(2) on the JS thread around the synchronous part of
// Bun.connect/Bun.listen (socket creation binds the socket to the namespace for life), then back — for probes
// and port-forward into pod namespaces, which the kubelet's own namespace may not route to; and named
// namespaces made and removed as `ip netns add/del` do (unshare + bind mount under /var/run/netns), without
// the `ip` process per pod. Deliberately FFI to libc: there is no npm package for setns/unshare.
import { dlopen, FFIType } from "bun:ffi";
import { closeSync, existsSync, mkdirSync, openSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { bindMount, mountPoints, umountLazy } from "./mount.ts";
import { run } from "./run.ts";

const CLONE_NEWNET = 0x40000000;
const NETNS_DIR = "/var/run/netns";
let libc: { symbols: { setns(fd: number, nstype: number): number; unshare(flags: number): number } } | undefined;
let selfFd: number | undefined;

function lib() {
  libc ??= dlopen("libc.so.6", {
    setns: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    unshare: { args: [FFIType.i32], returns: FFIType.i32 },
  }) as any;
  return libc!.symbols;
}

function setns(fd: number): void {
  if (lib().setns(fd, CLONE_NEWNET) !== 0) throw new Error("setns(CLONE_NEWNET) failed");
}

/** Runs fn (synchronously) with this thread inside the network namespace at nsPath; fn must create its sockets before returning. */
export function inNetns<T>(nsPath: string | undefined, fn: () => T): T {
  if (!nsPath) return fn();
  selfFd ??= openSync("/proc/thread-self/ns/net", "r");
  const fd = openSync(nsPath, "r");
  try {
    setns(fd);
    try {
      return fn();
    } finally {
      setns(selfFd);
    }
  } finally {
    closeSync(fd);
  }
}

/** `ip netns add` makes /var/run/netns a shared mount of its own once, so that namespaces show in every mount namespace. */
function netnsDirReady(): boolean {
  if (!existsSync(NETNS_DIR)) return false;
  return mountPoints().has(realpathSync(NETNS_DIR));
}

/** `ip netns add <name>`: a new network namespace kept alive by a bind mount at /var/run/netns/<name>. */
export async function addNetns(name: string): Promise<string> {
  const path = join(NETNS_DIR, name);
  // The first namespace on a host also sets up the directory's shared mount: leave that to ip.
  if (!netnsDirReady()) {
    await run(["ip", "netns", "add", name]);
    return path;
  }
  closeSync(openSync(path, "wx", 0o444));
  selfFd ??= openSync("/proc/thread-self/ns/net", "r");
  try {
    if (lib().unshare(CLONE_NEWNET) !== 0) throw new Error(`unshare(CLONE_NEWNET) for ${name} failed`);
    try {
      bindMount("/proc/thread-self/ns/net", path);
    } finally {
      setns(selfFd);
    }
  } catch (e) {
    rmSync(path, { force: true });
    throw e;
  }
  return path;
}

/** `ip netns del <name>`: detach the bind mount (the namespace lives on while something is in it) and remove the file. */
export function delNetns(name: string): void {
  const path = join(NETNS_DIR, name);
  umountLazy(path);
  rmSync(path, { force: true });
}
