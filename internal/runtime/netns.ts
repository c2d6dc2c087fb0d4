// Opening sockets inside another network namespace from this process: setns(2) on the JS thread around the
// synchronous part of Bun.connect/Bun.listen (socket creation binds the socket to the namespace for life),
// then back. Used for probes and port-forward into pod namespaces, which the kubelet's own namespace may
// not route to. Deliberately FFI to libc: there is no npm package for setns, and spawning nsenter per probe costs
// a process each time.
import { dlopen, FFIType } from "bun:ffi";
import { closeSync, openSync } from "node:fs";

const CLONE_NEWNET = 0x40000000;
let libc: { symbols: { setns(fd: number, nstype: number): number } } | undefined;
let selfFd: number | undefined;

function setns(fd: number): void {
  libc ??= dlopen("libc.so.6", { setns: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } }) as any;
  if (libc!.symbols.setns(fd, CLONE_NEWNET) !== 0) throw new Error("setns(CLONE_NEWNET) failed");
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
