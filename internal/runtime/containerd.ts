// Starts a private containerd (own config, root, state and socket) or connects to a running one, as k3s does
// with its embedded containerd. The CRI plugin is disabled: kubun drives containerd through ctr, not CRI.
import { existsSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { logger } from "../log/log.ts";
import { run } from "./run.ts";

const log = logger("containerd");

export interface ContainerdOptions {
  /** Directory for root/, state/, the config and the log. */
  dir: string;
  /** Socket path; default <dir>/containerd.sock */
  address?: string;
  /** Use an already running containerd at `address` instead of starting one. */
  external?: boolean;
  /** containerd's registry hosts directory (registries.yaml is rendered there). */
  hostsDir?: string;
  signal?: AbortSignal;
}

/** The containerd processes this process started and that still run (for releasing their start-up pages). */
const started = new Set<number>();
export function startedContainerdPids(): number[] {
  return [...started];
}

export interface Containerd {
  address: string;
  /** The containerd process we started (undefined for an external one). */
  pid?: number;
  stop(): Promise<void>;
}

function config(dir: string, address: string): string {
  // Plugins a node never uses are disabled: less memory and a faster start.
  return `version = 2
root = ${JSON.stringify(join(dir, "root"))}
state = ${JSON.stringify(join(dir, "state"))}
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = ${JSON.stringify(address)}
[ttrpc]
  address = ${JSON.stringify(address + ".ttrpc")}
[plugins."io.containerd.internal.v1.opt"]
  path = ${JSON.stringify(join(dir, "root", "opt"))}
`;
}

/** Whether something accepts connections on the socket: cheaper than a `ctr version` process per poll. */
async function listening(address: string): Promise<boolean> {
  try {
    const sock = await Bun.connect({ unix: address, socket: { data() {} } });
    sock.end();
    return true;
  } catch {
    return false;
  }
}

async function ping(address: string): Promise<boolean> {
  const r = await run(["ctr", "--address", address, "version"], { allowFail: true, timeoutMs: 5000 });
  return r.code === 0;
}

export async function startContainerd(opts: ContainerdOptions): Promise<Containerd> {
  const address = opts.address ?? join(opts.dir, "containerd.sock");
  if (opts.external || (existsSync(address) && (await listening(address)) && (await ping(address)))) {
    if (!(await ping(address))) throw new Error(`containerd is not answering on ${address}`);
    log.info("using running containerd", { address });
    return { address, stop: async () => {} };
  }
  mkdirSync(opts.dir, { recursive: true });
  const cfgPath = join(opts.dir, "config.toml");
  writeFileSync(cfgPath, config(opts.dir, address));
  const logFd = openSync(join(opts.dir, "containerd.log"), "a");
  // Own process group (detached) so that the agent's death does not take containerd — and the pods — with it.
  const proc: Subprocess = Bun.spawn(["containerd", "--config", cfgPath], {
    // Go's default GOGC, deliberately: GOGC=25 kept ~2 MB off an idle containerd, but every shim and runc inherits
    // containerd's environment, and there it cost ~9 ms more CPU per pod start (shim+runc 37 → 29 ms per pod, 30
    // pods at once, bench:pods) without making the shims smaller. An operator's own GOGC still reaches containerd.
    env: process.env,
    stdin: "ignore",
    stdout: logFd,
    stderr: logFd,
    detached: true,
  } as any);
  proc.unref();
  started.add(proc.pid);
  void proc.exited.then(() => started.delete(proc.pid));
  // containerd listens once its plugins are loaded; the first ctr call (the runtime's version) follows at once.
  const deadline = Date.now() + 20_000;
  while (!(await listening(address))) {
    if (proc.exitCode !== null) throw new Error(`containerd exited with code ${proc.exitCode}; see ${join(opts.dir, "containerd.log")}`);
    if (Date.now() > deadline) {
      proc.kill();
      throw new Error(`containerd did not start within 20 s; see ${join(opts.dir, "containerd.log")}`);
    }
    await Bun.sleep(20);
  }
  log.info("containerd started", { address, pid: proc.pid });
  return {
    address,
    pid: proc.pid,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await proc.exited;
      clearTimeout(t);
    },
  };
}
