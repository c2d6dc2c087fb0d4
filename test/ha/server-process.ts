// A `kubun server` child process in a temp data dir on a random loopback port, as a user would run it.
// Used by the HA tests (several servers on one etcd) and by bench/api.ts (server and client on separate CPUs).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYAML } from "yaml";
import { freePort } from "../helpers/ports.ts";

const ROOT = join(import.meta.dir, "..", "..");

export interface ServerProcessOptions {
  /** etcd client URLs; SQLite in the data dir when absent. */
  etcdEndpoints?: string[];
  /** --token: the shared join secret (HA servers must all get the same one). */
  token?: string;
  /** Extra flags, e.g. ["--disable-scheduler"]. */
  args?: string[];
  /** Flags for bun itself, before the script (e.g. ["--cpu-prof-md", "--cpu-prof-dir", dir]). */
  bunArgs?: string[];
  /** Environment additions (KUBUN_LOG_LEVEL…). */
  env?: Record<string, string>;
  startTimeoutMs?: number;
  /** Use (and keep on cleanup) this data dir instead of a new temp dir, e.g. to restart a server on its data. */
  dataDir?: string;
  /** Checkout whose cmd/kubun.ts runs (default: this one), e.g. a worktree of a previous release. */
  root?: string;
}

export interface ServerProcess {
  dataDir: string;
  port: number;
  url: string;
  pid: number;
  adminToken: string;
  caPEM: string;
  /** <data-dir>/server/token, the K10 join token. */
  joinToken: string;
  kubeconfigPath: string;
  /** The server's stderr so far (its JSON log lines). */
  log(): string;
  /** fetch with the admin token and the cluster CA. */
  api(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  /** Sends a signal and waits for the exit (SIGKILL for a crash). */
  kill(signal?: "SIGTERM" | "SIGKILL"): Promise<number>;
  exited: Promise<number>;
  /** Kills (if still running) and removes the data dir. */
  cleanup(): Promise<void>;
}

interface Kubeconfig {
  clusters: { cluster: { "certificate-authority-data": string } }[];
  users: { user: { token: string } }[];
}

export async function startServerProcess(opts: ServerProcessOptions = {}): Promise<ServerProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "kubun-srv-"));
  if (opts.dataDir) mkdirSync(dataDir, { recursive: true });
  const root = opts.root ?? ROOT;
  const port = freePort();
  const kubeconfigPath = join(dataDir, "kc.yaml");
  const argv = [
    process.execPath,
    ...(opts.bunArgs ?? []),
    join(root, "cmd", "kubun.ts"),
    "server",
    "--disable-agent",
    "--data-dir",
    dataDir,
    "--https-listen-port",
    String(port),
    "--bind-address",
    "127.0.0.1",
    "--advertise-address",
    "127.0.0.1",
    "--write-kubeconfig",
    kubeconfigPath,
    ...(opts.etcdEndpoints ? ["--datastore-endpoint", opts.etcdEndpoints.join(",")] : []),
    ...(opts.token ? ["--token", opts.token] : []),
    ...(opts.args ?? []),
  ];
  // A private (empty) config file so /etc/kubun/config.yaml on the machine never leaks in.
  writeFileSync(join(dataDir, "config.yaml"), "");
  const proc = Bun.spawn(argv, {
    cwd: root,
    stdout: "ignore",
    stderr: "pipe",
    env: { ...process.env, KUBUN_CONFIG_FILE: join(dataDir, "config.yaml"), ...opts.env },
  });
  let stderr = "";
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      stderr += dec.decode(chunk, { stream: true });
      // Keep memory bounded on long runs: the tail is what explains a failure.
      if (stderr.length > 2_000_000) stderr = stderr.slice(-1_000_000);
    }
  })();

  const kill = async (signal: "SIGTERM" | "SIGKILL" = "SIGTERM") => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    return proc.exited;
  };
  const cleanup = async () => {
    await kill("SIGKILL");
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };

  // The kubeconfig is written once the API serves; then /readyz says when it is ready.
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  let kc: Kubeconfig | undefined;
  while (Date.now() < deadline && proc.exitCode === null) {
    if (existsSync(kubeconfigPath)) {
      try {
        kc = parseYAML(readFileSync(kubeconfigPath, "utf8")) as Kubeconfig;
        if (kc?.users?.[0]?.user?.token) break;
      } catch {
        // half-written; retry
      }
    }
    await Bun.sleep(100);
  }
  if (!kc?.users?.[0]?.user?.token) {
    await cleanup();
    throw new Error(`kubun server did not start (exit ${proc.exitCode}): ${stderr.split("\n").slice(-8).join("\n")}`);
  }
  const adminToken = kc.users[0]!.user.token;
  const caPEM = Buffer.from(kc.clusters[0]!.cluster["certificate-authority-data"], "base64").toString("utf8");
  const url = `https://127.0.0.1:${port}`;
  const api = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const headers = new Headers(init.headers);
    const token = init.token === undefined ? adminToken : init.token;
    if (token) headers.set("Authorization", `Bearer ${token}`);
    return fetch(url + path, { ...init, headers, tls: { ca: caPEM } } as RequestInit);
  };
  while (Date.now() < deadline) {
    try {
      const r = await api("/readyz");
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    await Bun.sleep(100);
  }
  return {
    dataDir,
    port,
    url,
    pid: proc.pid,
    adminToken,
    caPEM,
    joinToken: readFileSync(join(dataDir, "server", "token"), "utf8").trim(),
    kubeconfigPath,
    log: () => stderr,
    api,
    kill,
    exited: proc.exited,
    cleanup,
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based).
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(rest[11]) + Number(rest[12]);
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** Resident set size of a process in MiB. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}
