// The container runtime as the kubelet sees it. The real implementation drives containerd through `ctr`
// (ctr.ts); tests of kubelet logic can substitute a fake.

export interface ImageInfo {
  /** The reference as asked for, e.g. docker.io/library/busybox:latest */
  ref: string;
  /** Content digest (upstream imageID), e.g. docker.io/library/busybox@sha256:… */
  id: string;
  /** Image config defaults. */
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
}

export interface Mount {
  source: string;
  destination: string;
  readOnly?: boolean;
  /** "bind" (default) or "tmpfs". */
  type?: "bind" | "tmpfs";
}

export interface ContainerSpec {
  /** Unique containerd id. */
  id: string;
  image: string;
  labels: Record<string, string>;
  /** Kubernetes command (entrypoint override) and args; resolved against the image config. */
  command?: string[];
  args?: string[];
  /** "K=V" entries; they override the image's. */
  env: string[];
  workingDir?: string;
  uid?: number;
  gid?: number;
  supplementalGroups?: number[];
  readOnlyRootfs?: boolean;
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  mounts: Mount[];
  /** Path of the pod's network namespace (/var/run/netns/…); undefined = host network. */
  netnsPath?: string;
  hostname?: string;
  /** cgroup path, e.g. /kubun/pod<uid>/<id> */
  cgroupPath: string;
  /** Containers with the same group share one shim process (the pod's uid: one shim per pod, as with CRI). */
  shimGroup?: string;
  memoryLimitBytes?: number;
  /** CFS quota in microseconds per 100 ms period. */
  cpuQuotaUs?: number;
  cpuShares?: number;
  /** Where the CRI-format log goes. */
  logPath: string;
  /** A stdin FIFO the kubelet writes to (kubectl attach, `kubectl run -i`). */
  stdin?: boolean;
  /** A terminal: stdout and stderr arrive together on stdout; attach can resize it. */
  tty?: boolean;
}

export type ContainerState = "running" | "exited" | "created" | "unknown";

export interface ContainerInfo {
  id: string;
  labels: Record<string, string>;
  state: ContainerState;
  pid?: number;
}

export interface ExitInfo {
  exitCode: number;
  oomKilled: boolean;
  finishedAt: Date;
}

export interface ExecOptions {
  tty?: boolean;
  user?: string;
  /** Data for the process's stdin; a stream keeps it open until the stream ends. */
  stdin?: ReadableStream<Uint8Array> | Uint8Array | string;
  timeoutMs?: number;
}

export interface ExecProcess {
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  /** Writes to the process's stdin (only when stdin was a stream: use write/end instead). */
  write(data: Uint8Array): void;
  end(): void;
  resize?(cols: number, rows: number): void;
  kill(): void;
  exited: Promise<number>;
}

export interface AttachOptions {
  /** Write the client's input to the container's stdin. */
  stdin?: boolean;
  /** The container's stdinOnce: its stdin is closed when this attach session ends its input. */
  stdinOnce?: boolean;
}

export interface PullOptions {
  /** Registry credentials (from imagePullSecrets), "user:password". */
  auth?: string;
}

export interface StartOptions {
  /** What must be ready before the container's process runs (the pod's network, set up meanwhile). */
  beforeStart?: Promise<unknown>;
}

export interface Runtime {
  /** e.g. "containerd://1.6.20" */
  version(): Promise<string>;
  getImage(ref: string): Promise<ImageInfo | undefined>;
  pullImage(ref: string, opts?: PullOptions): Promise<ImageInfo>;
  importImages(tarPath: string): Promise<void>;
  /**
   * Creates and starts a container; resolves once it runs. With `beforeStart`, the container is created (its
   * namespaces, mounts and stdio set up, nothing of it running) while that promise is pending, and started
   * only once it resolves; if it rejects, everything made is removed and start rejects with its error.
   */
  start(spec: ContainerSpec, opts?: StartOptions): Promise<void>;
  kill(id: string, signal: "SIGTERM" | "SIGKILL" | string): Promise<void>;
  /** Every container of ours with its labels and state. */
  list(): Promise<ContainerInfo[]>;
  /** Containers made here, not removed yet, labelled `key=value`: from the runtime's own records, without asking containerd. */
  containersWithLabel(key: string, value: string): Promise<string[]>;
  /** For an exited container: its exit information; then removes the container and its rootfs. */
  reap(id: string): Promise<ExitInfo>;
  /** Removes a container whatever its state (kills it first). */
  remove(id: string): Promise<void>;
  exec(id: string, cmd: string[], opts?: ExecOptions): ExecProcess;
  /**
   * Joins a running container's main process: its live stdout/stderr from now on, its stdin (if the container
   * was started with stdin) and terminal size. `exited` resolves with the container's exit code, or 0 when
   * the session detaches; kill() detaches and leaves the container running.
   */
  attach(id: string, opts?: AttachOptions): ExecProcess;
  /** Called when a container's task exits (so the kubelet reacts at once instead of at the next poll). */
  onExit(cb: (id: string) => void): void;
  /** Called when exits may have gone unheard (the runtime's event stream ended, or started again): time to relist. */
  onEventGap(cb: () => void): void;
  close(): Promise<void>;
}
