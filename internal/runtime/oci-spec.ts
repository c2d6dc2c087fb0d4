// Builds the OCI runtime spec of a container from the kubelet's ContainerSpec and the image config.
// The defaults mirror `ctr oci spec` (containerd's default spec): mounts, masked paths, capabilities.
import { readFileSync } from "node:fs";
import type { ContainerSpec, ImageInfo } from "./types.ts";

const DEFAULT_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];
// Capability names by number (linux/capability.h).
const CAP_BY_NUMBER = [
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
  "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
  "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
  "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
  "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
  "CHECKPOINT_RESTORE",
].map((c) => `CAP_${c}`);

/** "All" capabilities means all this host can grant (our bounding set), as containerd's privileged mode. */
function hostCapabilities(): string[] {
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    const mask = BigInt(`0x${m![1]}`);
    return CAP_BY_NUMBER.filter((_, i) => (mask >> BigInt(i)) & 1n);
  } catch {
    return DEFAULT_CAPS;
  }
}
const ALL_CAPS = hostCapabilities();
const MASKED = [
  "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
];
const READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/** "NET_ADMIN" or "CAP_NET_ADMIN" → "CAP_NET_ADMIN" (Kubernetes omits the prefix). */
function capName(c: string): string {
  const u = c.toUpperCase();
  return u.startsWith("CAP_") ? u : `CAP_${u}`;
}

export function capabilities(spec: Pick<ContainerSpec, "privileged" | "capAdd" | "capDrop">): string[] {
  if (spec.privileged) return ALL_CAPS;
  const drop = (spec.capDrop ?? []).map(capName);
  let caps = drop.includes("CAP_ALL") ? [] : DEFAULT_CAPS.filter((c) => !drop.includes(c));
  const add = (spec.capAdd ?? []).map(capName);
  if (add.includes("CAP_ALL")) return ALL_CAPS;
  for (const c of add) if (!caps.includes(c) && ALL_CAPS.includes(c)) caps = [...caps, c];
  return caps;
}

/** Kubernetes command/args semantics over the image's entrypoint/cmd. */
export function processArgs(spec: Pick<ContainerSpec, "command" | "args">, image: ImageInfo): string[] {
  if (spec.command?.length) return [...spec.command, ...(spec.args ?? [])];
  if (spec.args?.length) return [...(image.entrypoint ?? []), ...spec.args];
  return [...(image.entrypoint ?? []), ...(image.cmd ?? [])];
}

function mergeEnv(base: string[], over: string[]): string[] {
  const m = new Map<string, string>();
  for (const e of [...base, ...over]) {
    const i = e.indexOf("=");
    m.set(i < 0 ? e : e.slice(0, i), e);
  }
  return [...m.values()];
}

export function buildSpec(spec: ContainerSpec, image: ImageInfo, rootfs: string, user: { uid: number; gid: number; additionalGids?: number[] }): any {
  const caps = capabilities(spec);
  const env = mergeEnv(image.env?.length ? image.env : ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], spec.env);
  const args = processArgs(spec, image);
  if (!args.length) throw new Error(`no command specified for container ${spec.id} and image ${spec.image} has none`);
  const mounts: any[] = [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", spec.privileged ? "rw" : "ro"] },
  ];
  for (const m of spec.mounts) {
    if (m.type === "tmpfs") mounts.push({ destination: m.destination, type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777", m.readOnly ? "ro" : "rw"] });
    else mounts.push({ destination: m.destination, type: "bind", source: m.source, options: ["rbind", "rprivate", m.readOnly ? "ro" : "rw"] });
  }
  const namespaces: any[] = [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }];
  if (spec.netnsPath) namespaces.push({ type: "network", path: spec.netnsPath });
  const resources: any = { devices: [{ allow: false, access: "rwm" }] };
  if (spec.privileged) resources.devices = [{ allow: true, access: "rwm" }];
  if (spec.memoryLimitBytes) resources.memory = { limit: spec.memoryLimitBytes };
  if (spec.cpuQuotaUs || spec.cpuShares) {
    resources.cpu = {};
    if (spec.cpuQuotaUs) Object.assign(resources.cpu, { quota: spec.cpuQuotaUs, period: 100000 });
    if (spec.cpuShares) resources.cpu.shares = spec.cpuShares;
  }
  return {
    ociVersion: "1.0.2-dev",
    process: {
      terminal: !!spec.tty,
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids?.length ? user.additionalGids : undefined },
      args,
      env,
      cwd: spec.workingDir || image.workingDir || "/",
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: !spec.privileged,
    },
    root: { path: rootfs, readonly: !!spec.readOnlyRootfs },
    hostname: spec.hostname,
    // containerd-shim-runc-v2 serves every container whose spec names the same group from one process (CRI
    // groups a pod's containers by its sandbox id): a pod's sidecars and restarted containers start no shim of their
    // own while another of its containers runs.
    annotations: spec.shimGroup ? { "io.containerd.runc.v2.group": spec.shimGroup } : undefined,
    mounts,
    linux: {
      resources,
      cgroupsPath: spec.cgroupPath,
      namespaces,
      maskedPaths: spec.privileged ? [] : MASKED,
      readonlyPaths: spec.privileged ? [] : READONLY,
    },
  };
}
