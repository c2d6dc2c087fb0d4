// sd_notify(3): tells systemd (Type=notify units) that kubun is ready, by one datagram on the unix socket named in
// $NOTIFY_SOCKET. Bun has no unix-datagram sockets (node:dgram in Bun offers udp4/udp6 only, Bun.udpSocket is UDP),
// and `systemd-notify --ready` run as a child is attributed to the child's pid (the unit would need NotifyAccess=all),
// so this sends from the main process itself through libc, as the kubelet's setns helper does (no npm package).
import { dlopen, FFIType, ptr } from "bun:ffi";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;

let libc:
  | { symbols: { socket(d: number, t: number, p: number): number; sendto(fd: number, buf: any, len: bigint, flags: number, addr: any, alen: number): bigint; close(fd: number): number } }
  | undefined;

/** The sockaddr_un for a NOTIFY_SOCKET value: a path, or an abstract name written "@name". */
export function notifyAddress(socketName: string): Uint8Array {
  const name = socketName.startsWith("@") ? "\0" + socketName.slice(1) : socketName;
  const path = new TextEncoder().encode(name);
  if (path.length > 107) throw new Error(`NOTIFY_SOCKET is longer than a unix socket path can be: ${socketName}`);
  // sun_family (2 bytes, little-endian on every Linux target kubun ships) + path; abstract names are not NUL-terminated.
  const addr = new Uint8Array(2 + path.length + (name.startsWith("\0") ? 0 : 1));
  addr[0] = AF_UNIX;
  addr.set(path, 2);
  return addr;
}

/**
 * Sends `state` (e.g. "READY=1\nSTATUS=…") to $NOTIFY_SOCKET. Returns false when no socket is set (not run by
 * systemd, or not Type=notify); throws when the socket is set but the message cannot be sent.
 */
export function sdNotify(state: string, env: Record<string, string | undefined> = process.env): boolean {
  const socketName = env.NOTIFY_SOCKET;
  if (!socketName) return false;
  if (!socketName.startsWith("/") && !socketName.startsWith("@")) throw new Error(`NOTIFY_SOCKET must be a path or @name, got ${JSON.stringify(socketName)}`);
  const addr = notifyAddress(socketName);
  libc ??= dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
  }) as any;
  const fd = libc!.symbols.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error("sd_notify: socket(AF_UNIX, SOCK_DGRAM) failed");
  try {
    const msg = new TextEncoder().encode(state);
    const sent = libc!.symbols.sendto(fd, ptr(msg), BigInt(msg.length), MSG_NOSIGNAL, ptr(addr), addr.length);
    if (Number(sent) !== msg.length) throw new Error(`sd_notify: could not send to ${socketName}`);
  } finally {
    libc!.symbols.close(fd);
  }
  return true;
}
