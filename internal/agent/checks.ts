// kubun check-config: what a node needs from the kernel and the host, as k3s's check-config — but each check says
// how to fix it. The agent runs the must-haves before it starts (preflight), so a Pi without the memory cgroup
// refuses to start with the fix instead of failing every pod later. Every host access goes through HostProbe so
// tests can make any check fail.
import { existsSync, readFileSync, statfsSync } from "node:fs";
import os from "node:os";
import { dlopen, FFIType, ptr } from "bun:ffi";
import { gunzipSync } from "bun";

export type CheckStatus = "pass" | "warn" | "fail";

export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** What was found, e.g. "cpu memory pids" or "in use". */
  detail: string;
  /** One line saying how to fix it (for warn and fail). */
  hint?: string;
  /** A must-have: the agent refuses to start without it. */
  required: boolean;
}

/** Everything the checks read from the host. */
export interface HostProbe {
  readFile(path: string): string | undefined;
  exists(path: string): boolean;
  /** Absolute path of a command on PATH. */
  which(cmd: string): string | undefined;
  /** The kernel's build configuration (CONFIG_X=y lines), when the host has it (/proc/config.gz, /boot/config-*). */
  kernelConfig(): string | undefined;
  /** Whether a TCP port can be bound on all addresses. */
  portFree(port: number): Promise<boolean>;
  /** Bytes available to unprivileged users on the filesystem holding path (or its nearest existing parent). */
  freeBytes(path: string): number;
  /** true/false from the kernel's clock discipline (adjtimex), undefined when unknown. */
  clockSynchronized(): boolean | undefined;
}

const RPI_CMDLINE_FIX =
  "add `cgroup_memory=1 cgroup_enable=memory` to the end of the single line in /boot/firmware/cmdline.txt (/boot/cmdline.txt before Raspberry Pi OS 12), then reboot";

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

let libc: { symbols: { adjtimex(buf: any): number } } | undefined;

export const realHost: HostProbe = {
  readFile: readText,
  exists: existsSync,
  which: (cmd) => Bun.which(cmd, { PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin:/usr/local/sbin` }) ?? undefined,
  kernelConfig() {
    try {
      return new TextDecoder().decode(gunzipSync(readFileSync("/proc/config.gz")));
    } catch {}
    return readText(`/boot/config-${os.release()}`) ?? readText(`/lib/modules/${os.release()}/config`);
  },
  async portFree(port) {
    try {
      const s = Bun.listen({ hostname: "0.0.0.0", port, socket: { data() {} } });
      s.stop(true);
      return true;
    } catch {
      return false;
    }
  },
  freeBytes(path) {
    let p = path;
    while (!existsSync(p) && p !== "/") p = p.replace(/\/[^/]*\/?$/, "") || "/";
    const s = statfsSync(p);
    return Number(s.bavail) * Number(s.bsize);
  },
  clockSynchronized() {
    // adjtimex(2) with modes=0 only reads: it returns TIME_ERROR (5) while the clock is not synchronized
    // (no NTP daemon has disciplined it). struct timex is 208 bytes on 64-bit Linux; modes is its first field.
    try {
      libc ??= dlopen("libc.so.6", { adjtimex: { args: [FFIType.ptr], returns: FFIType.i32 } }) as any;
      const timex = new Uint8Array(256);
      const state = libc!.symbols.adjtimex(ptr(timex));
      if (state < 0) return undefined;
      return state !== 5;
    } catch {
      return undefined;
    }
  },
};

/** CONFIG_X as y/m/n from the kernel config, or undefined without one. */
function kconfig(config: string | undefined, key: string): "y" | "m" | "n" | undefined {
  if (config === undefined) return undefined;
  const m = new RegExp(`^${key}=([ym])$`, "m").exec(config);
  return m ? (m[1] as "y" | "m") : "n";
}

interface KernelFeature {
  name: string;
  config: string[];
  /** Present when any of these exists (module loaded or built in with parameters, filesystem registered). */
  evidence: (h: HostProbe) => boolean;
  hint: string;
}

const features: KernelFeature[] = [
  { name: "network namespaces", config: ["CONFIG_NET_NS"], evidence: (h) => h.exists("/proc/self/ns/net"), hint: "rebuild the kernel with CONFIG_NET_NS" },
  { name: "bridge", config: ["CONFIG_BRIDGE"], evidence: (h) => h.exists("/sys/module/bridge") || h.exists("/sys/class/net/kubun0/bridge"), hint: "load it: modprobe bridge (kernel CONFIG_BRIDGE)" },
  { name: "veth", config: ["CONFIG_VETH"], evidence: (h) => h.exists("/sys/module/veth"), hint: "load it: modprobe veth (kernel CONFIG_VETH)" },
  { name: "overlayfs", config: ["CONFIG_OVERLAY_FS"], evidence: (h) => /\toverlay$/m.test(h.readFile("/proc/filesystems") ?? ""), hint: "load it: modprobe overlay (kernel CONFIG_OVERLAY_FS)" },
  {
    name: "nftables (nat, masquerade, conntrack)",
    config: ["CONFIG_NF_TABLES", "CONFIG_NFT_NAT", "CONFIG_NFT_MASQ", "CONFIG_NFT_CT"],
    evidence: (h) => h.exists("/sys/module/nf_tables"),
    hint: "load it: modprobe nf_tables nft_nat nft_masq nft_ct (kernel CONFIG_NF_TABLES and friends)",
  },
  {
    name: "br_netfilter",
    config: ["CONFIG_BRIDGE_NETFILTER"],
    evidence: (h) => h.exists("/proc/sys/net/bridge/bridge-nf-call-iptables") || h.exists("/sys/module/br_netfilter"),
    hint: "load it: modprobe br_netfilter (pods reaching a Service backed by a pod on the same node need it)",
  },
];

function kernelFeature(h: HostProbe, config: string | undefined, f: KernelFeature): CheckResult {
  const values = f.config.map((k) => [k, kconfig(config, k)] as const);
  if (h.exists("/proc") && f.evidence(h)) return { name: f.name, status: "pass", detail: "available", required: true };
  if (config === undefined) return { name: f.name, status: "warn", detail: "kernel config not readable; module not loaded", hint: f.hint, required: false };
  const missing = values.filter(([, v]) => v === "n").map(([k]) => k);
  if (missing.length) return { name: f.name, status: "fail", detail: `missing: ${missing.join(", ")}`, hint: f.hint, required: true };
  return { name: f.name, status: "pass", detail: values.map(([k, v]) => `${k}=${v}`).join(" "), required: true };
}

function cgroupChecks(h: HostProbe): CheckResult[] {
  const out: CheckResult[] = [];
  const v2 = h.readFile("/sys/fs/cgroup/cgroup.controllers");
  const enabled = new Map<string, boolean>();
  for (const line of (h.readFile("/proc/cgroups") ?? "").split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length === 4 && !f[0]!.startsWith("#")) enabled.set(f[0]!, f[3] === "1");
  }
  const available = v2 !== undefined ? new Set(v2.trim().split(/\s+/).filter(Boolean)) : new Set([...enabled].filter(([, on]) => on).map(([c]) => c));
  if (v2 === undefined && enabled.size === 0) {
    out.push({ name: "cgroups", status: "fail", detail: "no cgroup filesystem found", hint: "mount cgroup2 on /sys/fs/cgroup (boot with systemd.unified_cgroup_hierarchy=1)", required: true });
    return out;
  }
  out.push({ name: "cgroups", status: "pass", detail: v2 !== undefined ? "v2 (unified)" : "v1", required: true });
  const cmdline = h.readFile("/proc/cmdline") ?? "";
  const memoryOff = !available.has("memory") || enabled.get("memory") === false || /(^|\s)cgroup_disable=memory(\s|$)/.test(cmdline);
  out.push(
    memoryOff
      ? { name: "cgroup controller memory", status: "fail", detail: "disabled", hint: `the memory cgroup is off (the Raspberry Pi OS default): ${RPI_CMDLINE_FIX}`, required: true }
      : { name: "cgroup controller memory", status: "pass", detail: "enabled", required: true },
  );
  for (const c of ["cpu", "pids"]) {
    out.push(
      available.has(c)
        ? { name: `cgroup controller ${c}`, status: "pass", detail: "enabled", required: true }
        : { name: `cgroup controller ${c}`, status: "fail", detail: "missing", hint: `enable the ${c} cgroup controller (kernel CONFIG_CGROUP_${c === "cpu" ? "SCHED" : "PIDS"})`, required: true },
    );
  }
  for (const c of ["cpuset", "io"]) {
    const name = c === "io" && v2 === undefined ? "blkio" : c;
    if (!available.has(name)) out.push({ name: `cgroup controller ${name}`, status: "warn", detail: "missing", hint: `pods' ${c} limits are not applied without it`, required: false });
  }
  return out;
}

function commands(h: HostProbe): CheckResult[] {
  const apt = "apt-get install containerd runc nftables iproute2 containernetworking-plugins (or run install.sh)";
  const out: CheckResult[] = [];
  for (const cmd of ["containerd", "ctr", "runc", "containerd-shim-runc-v2", "nft", "ip", "nsenter"]) {
    const p = h.which(cmd);
    out.push(p ? { name: `${cmd}`, status: "pass", detail: p, required: true } : { name: `${cmd}`, status: "fail", detail: "not found on PATH", hint: apt, required: true });
  }
  const cniDir = "/usr/lib/cni";
  const missing = ["bridge", "host-local", "loopback", "portmap"].filter((p) => !h.exists(`${cniDir}/${p}`));
  out.push(
    missing.length
      ? { name: "CNI plugins", status: "fail", detail: `missing in ${cniDir}: ${missing.join(", ")}`, hint: "apt-get install containernetworking-plugins", required: true }
      : { name: "CNI plugins", status: "pass", detail: `${cniDir}: bridge host-local loopback portmap`, required: true },
  );
  return out;
}

function ipForward(h: HostProbe): CheckResult {
  const v = h.readFile("/proc/sys/net/ipv4/ip_forward")?.trim();
  if (v === "1") return { name: "net.ipv4.ip_forward", status: "pass", detail: "1", required: false };
  return { name: "net.ipv4.ip_forward", status: "warn", detail: v ?? "unknown", hint: "the agent sets net.ipv4.ip_forward=1 when it starts; persist it in /etc/sysctl.d/ if something resets it", required: false };
}

export interface CheckOptions {
  dataDir: string;
  /** Ports that must be free (API server, kubelet); none for the agent's preflight (kubun's own server holds them). */
  ports?: number[];
  /** Minimum free space in the data dir (default 1 GiB fails below 256 MiB, warns below 2 GiB). */
}

/** Every check, in the order printed. */
export async function checkHost(opts: CheckOptions, h: HostProbe = realHost): Promise<CheckResult[]> {
  const config = h.kernelConfig();
  const out: CheckResult[] = [];
  out.push(...cgroupChecks(h));
  for (const f of features) out.push(kernelFeature(h, config, f));
  out.push(ipForward(h));
  out.push(...commands(h));
  for (const port of opts.ports ?? []) {
    out.push(
      (await h.portFree(port))
        ? { name: `port ${port}`, status: "pass", detail: "free", required: true }
        : { name: `port ${port}`, status: "fail", detail: "in use", hint: `stop what listens on ${port} (ss -ltnp 'sport = :${port}') or choose another port`, required: true },
    );
  }
  const free = h.freeBytes(opts.dataDir);
  const gib = (free / 2 ** 30).toFixed(1);
  if (free < 256 * 2 ** 20) out.push({ name: "disk space", status: "fail", detail: `${gib} GiB free in ${opts.dataDir}`, hint: "free space (images and logs need at least 256 MiB)", required: true });
  else if (free < 2 * 2 ** 30) out.push({ name: "disk space", status: "warn", detail: `${gib} GiB free in ${opts.dataDir}`, hint: "images need room: 2 GiB or more is recommended", required: false });
  else out.push({ name: "disk space", status: "pass", detail: `${gib} GiB free in ${opts.dataDir}`, required: false });
  const synced = h.clockSynchronized();
  out.push(
    synced === true
      ? { name: "time sync", status: "pass", detail: "clock synchronized", required: false }
      : {
          name: "time sync",
          status: "warn",
          detail: synced === false ? "clock not synchronized" : "unknown",
          hint: "run an NTP client (systemd-timesyncd or chrony): a Pi has no RTC, and a wrong clock makes TLS certificates fail",
          required: false,
        },
  );
  return out;
}

/** The failed must-haves, as one line each: "kubun: <check> (<detail>): <hint>". */
export function failures(results: CheckResult[]): string[] {
  return results.filter((r) => r.required && r.status === "fail").map((r) => `kubun: ${r.name} (${r.detail}): ${r.hint}`);
}

/** The pass/warn/fail list check-config prints. */
export function formatResults(results: CheckResult[]): string {
  const mark = { pass: "pass", warn: "warn", fail: "FAIL" } as const;
  const lines = results.map((r) => `${mark[r.status]}  ${r.name}: ${r.detail}${r.hint && r.status !== "pass" ? `\n      -> ${r.hint}` : ""}`);
  const failed = results.filter((r) => r.status === "fail" && r.required).length;
  const warned = results.filter((r) => r.status !== "pass" && !(r.status === "fail" && r.required)).length;
  lines.push("", failed ? `${failed} must-have check(s) failed, ${warned} warning(s)` : `all must-have checks passed, ${warned} warning(s)`);
  return lines.join("\n");
}

export class HostCheckError extends Error {}

/** The agent's preflight: throws with the first failed must-have's one-line hint. */
export async function preflight(dataDir: string, h: HostProbe = realHost): Promise<void> {
  const failed = failures(await checkHost({ dataDir }, h));
  if (failed.length) throw new HostCheckError(`${failed[0]!}${failed.length > 1 ? ` (and ${failed.length - 1} more: run kubun check-config)` : ""}`);
}
