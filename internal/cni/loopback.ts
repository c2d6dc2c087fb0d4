// What the CNI loopback plugin does (bring "lo" up in the pod's namespace) without a process: a socket opened
// inside the namespace (inNetns) and SIOCGIFFLAGS/SIOCSIFFLAGS on it. An `ip -n … link set lo up` costs a
// fork/exec per pod start. Deliberately FFI to libc: no npm package sets interface flags.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { inNetns } from "../runtime/netns.ts";

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 0x1;
/** struct ifreq: 16 bytes of name, then a union whose first member is the short ifr_flags (40 bytes on 64-bit). */
const IFREQ_SIZE = 40;

type Libc = { symbols: { socket(d: number, t: number, p: number): number; ioctl(fd: number, req: number, arg: number): number; close(fd: number): number } };
let libc: Libc | undefined;

/** Sets the loopback interface of the network namespace at nsPath up. */
export function loopbackUp(nsPath: string): void {
  libc ??= dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
  }) as unknown as Libc;
  const c = libc.symbols;
  const fd = inNetns(nsPath, () => c.socket(AF_INET, SOCK_DGRAM, 0));
  if (fd < 0) throw new Error(`socket in ${nsPath} failed`);
  try {
    const req = new Uint8Array(IFREQ_SIZE);
    req.set(new TextEncoder().encode("lo"));
    const view = new DataView(req.buffer);
    if (c.ioctl(fd, SIOCGIFFLAGS, ptr(req)) !== 0) throw new Error(`SIOCGIFFLAGS lo in ${nsPath} failed`);
    view.setUint16(16, view.getUint16(16, true) | IFF_UP, true);
    if (c.ioctl(fd, SIOCSIFFLAGS, ptr(req)) !== 0) throw new Error(`SIOCSIFFLAGS lo in ${nsPath} failed`);
  } finally {
    c.close(fd);
  }
}
