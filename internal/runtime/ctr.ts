// Runtime over containerd's CLI `ctr` (namespace "kubun"). Each container is: an overlay of its image's layers
// (shared through one snapshot per image, image-layers.ts) with its own upper directory in <state>/rw/<id>,
// mounted at <state>/rootfs/<id>, a full OCI spec we write ourselves (ctr has no --user, so
// `ctr containers create --config`), FIFOs for its stdout and stderr drained by a LogPump (and a stdin FIFO when
// the container has `stdin: true`), handed to the shim through the Tasks API (tasks-api.ts: ctr cannot), and
// labels that carry the pod uid / container name / restart count so that a restarted agent adopts what it started.
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { logger } from "../log/log.ts";
import { execInContainer } from "./exec.ts";
import { mkfifo } from "./fifo.ts";
import { mountFs, parseSnapshotMounts, umountLazy } from "./mount.ts";
import { LogPump } from "./logpump.ts";
import { StdinFifo } from "./stdin.ts";
import { TasksAPI } from "./tasks-api.ts";
import { subscribeEvents, type ContainerdEvent, type EventSubscription } from "./events-api.ts";
import { buildSpec } from "./oci-spec.ts";
import { CommandError, run, traced } from "./run.ts";
import { CtrBatch, splitContainerDeletes, splitSnapshotRemovals } from "./ctr-batch.ts";
import { ImageLayers } from "./image-layers.ts";
import type { AttachOptions, ContainerInfo, ContainerSpec, ExecOptions, ExecProcess, ExitInfo, ImageInfo, PullOptions, Runtime, StartOptions } from "./types.ts";

const log = logger("runtime");

export interface CtrRuntimeOptions {
  address: string;
  namespace?: string;
  /** Agent state for rootfs mount points, specs and FIFOs. */
  stateDir: string;
  /** containerd hosts directory (mirrors, plain HTTP), see registries.ts. */
  hostsDir?: string;
  /** Registries to reach over plain HTTP. */
  plainHttp?: string[];
  /** "user:password" per registry host (registries.yaml configs.<host>.auth). */
  auth?: Record<string, string>;
  logMaxBytes?: number;
  logMaxFiles?: number;
  /** How long an image's shared layers stay prepared once no container uses them (image-layers.ts; default 10 min). */
  layersIdleMs?: number;
}

interface Meta {
  labels: Record<string, string>;
  logPath: string;
  cgroupPath: string;
}

const LOG_PATH_LABEL = "io.kubun.log-path";

/** docker.io normalisation as containerd's reference parser: busybox → docker.io/library/busybox:latest */
export function normalizeRef(ref: string): string {
  let name = ref;
  let tagOrDigest = "";
  const at = name.indexOf("@");
  if (at >= 0) {
    tagOrDigest = name.slice(at);
    name = name.slice(0, at);
  } else {
    const colon = name.lastIndexOf(":");
    if (colon > name.lastIndexOf("/")) {
      tagOrDigest = name.slice(colon);
      name = name.slice(0, colon);
    }
  }
  const first = name.split("/")[0]!;
  const hasDomain = name.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  if (!hasDomain) name = name.includes("/") ? `docker.io/${name}` : `docker.io/library/${name}`;
  return name + (tagOrDigest || ":latest");
}

const sha256hex = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");

export class CtrRuntime implements Runtime {
  private ns: string;
  private pumps = new Map<string, LogPump>();
  private stdins = new Map<string, StdinFifo>();
  /** Attach sessions waiting for their container's exit. */
  private attached = new Map<string, Set<(code: number) => void>>();
  private tasks: TasksAPI;
  private metas = new Map<string, Meta>();
  private exits = new Map<string, { code: number; at: Date }>();
  private ooms = new Set<string>();
  private exitCbs: ((id: string) => void)[] = [];
  private gapCbs: (() => void)[] = [];
  private events?: EventSubscription;
  private closed = false;
  private imageCache = new Map<string, ImageInfo & { chainId: string }>();
  /** Containers between `ctr run` and a running task: a relist must not mistake them for exited ones. */
  private starting = new Set<string>();
  /** Containers being removed (their directories go last). */
  private cleaning = new Set<string>();
  /** Containers and snapshots removed together go in one `ctr` each (ctr-batch.ts). */
  private containerDeletes = new CtrBatch((ids) => this.ctr(["containers", "delete", ...ids], { allowFail: true }), splitContainerDeletes);
  private snapshotRemovals = new CtrBatch((keys) => this.ctr(["snapshots", "rm", ...keys], { allowFail: true }), splitSnapshotRemovals);
  private layers: ImageLayers;

  constructor(private opts: CtrRuntimeOptions) {
    this.ns = opts.namespace ?? "kubun";
    this.tasks = new TasksAPI(opts.address, this.ns);
    // Exec FIFOs of a previous run are of no use (their processes' output has no reader any more).
    rmSync(join(opts.stateDir, "exec"), { recursive: true, force: true });
    for (const d of ["rootfs", "rw", "specs", "fifo", "meta", "exec"]) mkdirSync(join(opts.stateDir, d), { recursive: true });
    // Containers a previous run started still use their image's layers.
    const users = new Map<string, number>();
    for (const id of readdirSync(join(opts.stateDir, "rw"))) {
      const chainId = this.layersOf(id);
      if (chainId) users.set(chainId, (users.get(chainId) ?? 0) + 1);
    }
    this.layers = new ImageLayers({ ctr: (args) => this.ctr(args, { allowFail: true }), dir: join(opts.stateDir, "layers"), users, idleMs: opts.layersIdleMs });
    this.watchEvents();
  }

  private ctr(args: string[], o: { allowFail?: boolean; timeoutMs?: number; stdin?: string } = {}) {
    return run(["ctr", "--address", this.opts.address, "-n", this.ns, ...args], { timeoutMs: 120_000, ...o });
  }

  /**
   * containerd's events tell us at once when a task exits or is OOM-killed, and when an image changes. Read
   * in-process over gRPC (events-api.ts), not through a `ctr events` helper process; resubscribed if it breaks.
   */
  private watchEvents(): void {
    this.events = subscribeEvents(this.opts.address, this.ns, {
      event: (e) => this.onEvent(e),
      // Image events missed while no subscription listened may have changed what a name points to.
      gap: () => {
        this.forgetImages();
        for (const cb of this.gapCbs) cb();
      },
    });
  }

  private onEvent({ topic, event: ev }: ContainerdEvent): void {
    if (topic.startsWith("/images/")) return this.forgetImages(); // created, updated (re-tagged) or deleted
    if (topic === "/tasks/exit" && ev.container_id && ev.id === ev.container_id) {
      this.exits.set(ev.container_id, { code: ev.exit_status ?? 0, at: ev.exited_at ? new Date(ev.exited_at) : new Date() });
      for (const done of this.attached.get(ev.container_id) ?? []) done(ev.exit_status ?? 0);
      for (const cb of this.exitCbs) cb(ev.container_id);
    } else if (topic === "/tasks/oom" && ev.container_id) {
      this.ooms.add(ev.container_id);
    }
  }

  onEventGap(cb: () => void): void {
    this.gapCbs.push(cb);
  }

  onExit(cb: (id: string) => void): void {
    this.exitCbs.push(cb);
  }

  async version(): Promise<string> {
    const r = await this.ctr(["version"]);
    const server = r.stdout.split("Server:")[1] ?? r.stdout;
    const v = /Version:\s*(\S+)/.exec(server)?.[1] ?? "unknown";
    return `containerd://${v}`;
  }

  private async content(digest: string): Promise<any> {
    return JSON.parse((await this.ctr(["content", "get", digest])).stdout);
  }

  /**
   * Resolved references (name → image), kept until containerd reports an image event (a pull, import, re-tag
   * or removal) or the event subscription restarts: a pod start then costs no `ctr images ls`. Concurrent
   * lookups of one name share a single resolution. The generation guards against a resolution that started
   * before an image event storing what it read.
   */
  private refCache = new Map<string, ImageInfo & { chainId: string }>();
  private resolving = new Map<string, Promise<(ImageInfo & { chainId: string }) | undefined>>();
  private imageGeneration = 0;

  private forgetImages(): void {
    this.imageGeneration++;
    this.refCache.clear();
    this.resolving.clear();
  }

  async getImage(ref: string): Promise<(ImageInfo & { chainId: string }) | undefined> {
    const name = normalizeRef(ref);
    const hit = this.refCache.get(name);
    if (hit) return { ...hit, ref };
    let p = this.resolving.get(name);
    if (!p) {
      const gen = this.imageGeneration;
      const lookup = this.lookupImage(name, ref)
        .then((info) => {
          if (info && gen === this.imageGeneration) this.refCache.set(name, info);
          return info;
        })
        .finally(() => {
          if (this.resolving.get(name) === lookup) this.resolving.delete(name);
        });
      this.resolving.set(name, lookup);
      p = lookup;
    }
    const info = await p;
    return info && { ...info, ref };
  }

  private async lookupImage(name: string, ref: string): Promise<(ImageInfo & { chainId: string }) | undefined> {
    const r = await this.ctr(["images", "ls", `name==${name}`]);
    const row = r.stdout.split("\n").slice(1).find((l) => l.split(/\s+/)[0] === name);
    if (!row) return undefined;
    const digest = row.split(/\s+/)[2]!;
    const repo = name.replace(/[:@][^/]*$/, "");
    // Content by digest never changes; the id names the repository it was found under.
    const cached = this.imageCache.get(digest);
    if (cached) return { ...cached, ref, id: `${repo}@${digest}` };
    let manifest = await this.content(digest);
    if (manifest.manifests) {
      const arch = process.arch === "x64" ? "amd64" : process.arch;
      const d = manifest.manifests.find((m: any) => m.platform?.os === "linux" && m.platform?.architecture === arch) ?? manifest.manifests[0];
      manifest = await this.content(d.digest);
    }
    const config = await this.content(manifest.config.digest);
    let chain = "";
    for (const diff of config.rootfs?.diff_ids ?? []) chain = chain ? `sha256:${sha256hex(`${chain} ${diff}`)}` : diff;
    const info = {
      ref,
      id: `${repo}@${digest}`,
      entrypoint: config.config?.Entrypoint ?? undefined,
      cmd: config.config?.Cmd ?? undefined,
      env: config.config?.Env ?? undefined,
      workingDir: config.config?.WorkingDir || undefined,
      user: config.config?.User || undefined,
      chainId: chain,
    };
    this.imageCache.set(digest, info);
    return info;
  }

  async pullImage(ref: string, opts: PullOptions = {}): Promise<ImageInfo> {
    const name = normalizeRef(ref);
    const args = ["images", "pull"];
    if (this.opts.hostsDir) args.push("--hosts-dir", this.opts.hostsDir);
    const host = name.split("/")[0]!;
    if (this.opts.plainHttp?.includes(host)) args.push("--plain-http");
    const auth = opts.auth ?? this.opts.auth?.[host];
    if (auth) args.push("--user", auth);
    args.push(name);
    await this.ctr(args, { timeoutMs: 30 * 60_000 });
    this.forgetImages();
    const img = await this.getImage(ref);
    if (!img) throw new Error(`image ${ref} not present after pull`);
    return img;
  }

  async importImages(tarPath: string): Promise<void> {
    const r = await this.ctr(["images", "import", "--all-platforms", tarPath], { timeoutMs: 30 * 60_000 });
    this.forgetImages();
    // Resolve what was imported now, in the background: the node's first pod then finds its image known. The
    // import's own image events may arrive after this started and drop the result: then once more.
    for (const m of r.stdout.matchAll(/^unpacking (\S+) \(/gm))
      void (async () => {
        for (let i = 0; i < 3 && !this.closed; i++) {
          const gen = this.imageGeneration;
          await this.getImage(m[1]!);
          await Bun.sleep(200);
          if (gen === this.imageGeneration) return;
        }
      })().catch(() => {});
  }

  /** User and groups: the pod's runAsUser/Group, else the image's USER (numeric or a name from its /etc/passwd). */
  private resolveUser(spec: ContainerSpec, image: ImageInfo, rootfs: string): { uid: number; gid: number; additionalGids?: number[] } {
    let uid = 0;
    let gid = 0;
    if (image.user) {
      const [u, g] = image.user.split(":");
      const lookup = (file: string, name: string): number | undefined => {
        try {
          const line = readFileSync(join(rootfs, "etc", file), "utf8").split("\n").find((l) => l.split(":")[0] === name);
          return line ? Number(line.split(":")[2]) : undefined;
        } catch {
          return undefined;
        }
      };
      uid = /^\d+$/.test(u!) ? Number(u) : (lookup("passwd", u!) ?? 0);
      gid = g === undefined ? uid : /^\d+$/.test(g) ? Number(g) : (lookup("group", g) ?? 0);
    }
    if (spec.uid !== undefined) {
      uid = spec.uid;
      if (spec.gid === undefined) gid = 0;
    }
    if (spec.gid !== undefined) gid = spec.gid;
    return { uid, gid, additionalGids: spec.supplementalGroups };
  }

  private rootfsPath(id: string): string {
    return join(this.opts.stateDir, "rootfs", id);
  }

  /** A container's own directories on its image's shared layers: upper/ (what it writes), work/ and chain (which image). */
  private rwPath(id: string): string {
    return join(this.opts.stateDir, "rw", id);
  }

  /** The chain ID of the shared layers the container uses; undefined for a container with a snapshot of its own. */
  private layersOf(id: string): string | undefined {
    try {
      return readFileSync(join(this.rwPath(id), "chain"), "utf8") || undefined;
    } catch {
      return undefined;
    }
  }

  private async mountRootfs(id: string, chainId: string): Promise<string> {
    const target = this.rootfsPath(id);
    mkdirSync(target, { recursive: true });
    const layers = chainId ? await this.layers.acquire(chainId) : undefined;
    if (layers) {
      // Recorded first: whatever fails after this, cleanup() gives the layers back and removes the directories.
      const rw = this.rwPath(id);
      try {
        mkdirSync(rw, { recursive: true });
        writeFileSync(join(rw, "chain"), chainId);
      } catch (e) {
        this.layers.release(chainId);
        throw e;
      }
      const upper = join(rw, "upper");
      const work = join(rw, "work");
      mkdirSync(upper);
      mkdirSync(work);
      // The rootfs' / belongs to whoever owns the top layer's, as containerd's overlay snapshotter does it.
      const top = statSync(layers.lowerdirs[0]!);
      chownSync(upper, top.uid, top.gid);
      mountFs("overlay", "overlay", target, [...layers.options, `lowerdir=${layers.lowerdirs.join(":")}`, `upperdir=${upper}`, `workdir=${work}`]);
      return target;
    }
    // Layers that cannot be shared (another snapshotter): a snapshot of its own, prepared with its mounts printed.
    const out = (await this.ctr(["snapshots", "prepare", "--mounts", id, chainId])).stdout.trim();
    const mounts = parseSnapshotMounts(out);
    if (mounts.length !== 1) throw new Error(`unexpected snapshot mounts: ${out}`);
    const { type, source, options } = mounts[0]!;
    if (type === "bind") {
      await run(["mount", "--rbind", source, target]);
      if (options.includes("ro")) await run(["mount", "-o", "remount,ro,bind", target]);
    } else if (type === "overlay" && options.every((o) => o.includes("="))) mountFs(type, source, target, options); // no process; key=value options are all fs data
    else await run(["mount", "-t", type, source, target, "-o", options.join(",")]);
    return target;
  }

  /**
   * A directory per container (`ctr tasks delete` removes the FIFOs the task names, and their directory if
   * empty). An older agent's containers have one FIFO at that path instead (`legacy`).
   */
  private fifos(id: string) {
    const dir = join(this.opts.stateDir, "fifo", id);
    return { dir, stdout: join(dir, "stdout"), stderr: join(dir, "stderr"), stdin: join(dir, "stdin"), legacy: dir };
  }

  async start(spec: ContainerSpec, opts: StartOptions = {}): Promise<void> {
    // Awaited (and its rejection thrown) once the task exists; a gate that fails sooner is not an unhandled rejection.
    opts.beforeStart?.catch(() => {});
    const image = await this.getImage(spec.image);
    if (!image) throw new Error(`image ${spec.image} is not present`);
    const { id } = spec;
    const fifos = this.fifos(id);
    this.starting.add(id);
    try {
      const labels = { ...spec.labels, [LOG_PATH_LABEL]: spec.logPath };
      const meta: Meta = { labels, logPath: spec.logPath, cgroupPath: spec.cgroupPath };
      // The container record only needs the rootfs' path, and its content only for a USER given by name (read
      // from the image's /etc/passwd): otherwise `ctr containers create` runs while the snapshot is prepared.
      const mounting = this.mountRootfs(id, image.chainId);
      const userByName = !!image.user && !/^\d+(:\d+)?$/.test(image.user);
      const creating = (userByName ? mounting : Promise.resolve(this.rootfsPath(id))).then(async (rootfs) => {
        const oci = buildSpec(spec, image, rootfs, this.resolveUser(spec, image, rootfs));
        const specPath = join(this.opts.stateDir, "specs", `${id}.json`);
        writeFileSync(specPath, JSON.stringify(oci));
        writeFileSync(join(this.opts.stateDir, "meta", `${id}.json`), JSON.stringify(meta));
        this.metas.set(id, meta);
        const args = ["containers", "create", "--config", specPath];
        for (const [k, v] of Object.entries(labels)) args.push("--label", `${k}=${v}`);
        args.push(id);
        await this.ctr(args);
      });
      // With a terminal the shim sends everything to stdout, as upstream (no stderr stream).
      const outs = spec.tty ? [fifos.stdout] : [fifos.stdout, fifos.stderr];
      const piping = (async () => {
        rmSync(fifos.dir, { recursive: true, force: true });
        mkdirSync(fifos.dir, { recursive: true, mode: 0o700 });
        for (const f of outs) mkfifo(f);
        this.pumps.set(id, new LogPump({ stdout: fifos.stdout, stderr: spec.tty ? undefined : fifos.stderr }, spec.logPath, { maxBytes: this.opts.logMaxBytes, maxFiles: this.opts.logMaxFiles }));
        if (spec.stdin) this.stdins.set(id, await StdinFifo.create(fifos.stdin));
      })();
      // All settled before a failure is handled, so that the clean-up below finds whatever was made.
      for (const r of await Promise.allSettled([mounting, creating, piping])) if (r.status === "rejected") throw r.reason;
      await traced(`tasks create ${id}`, () => this.tasks.create(id, { stdin: spec.stdin ? fifos.stdin : undefined, stdout: fifos.stdout, stderr: spec.tty ? undefined : fifos.stderr, terminal: !!spec.tty }));
      // The task exists (runc's init waits in the container's namespaces); its process runs only after this.
      if (opts.beforeStart) await traced(`before start ${id}`, () => opts.beforeStart!);
      await traced(`tasks start ${id}`, () => this.tasks.start(id));
    } catch (e) {
      await this.ctr(["tasks", "delete", "-f", id], { allowFail: true });
      await this.cleanup(id).catch(() => {});
      throw e;
    } finally {
      this.starting.delete(id);
    }
  }

  async kill(id: string, signal: string): Promise<void> {
    await this.signal(id, signal);
  }

  /** Signals every process of the container's task: true when sent, false when no task was running. */
  private async signal(id: string, signal: string): Promise<boolean> {
    const r = await this.ctr(["tasks", "kill", "--all", "--signal", signal, id], { allowFail: true });
    if (r.code === 0) return true;
    if (/not found|process already finished/.test(r.stderr)) return false;
    throw new CommandError(["ctr", "tasks", "kill", id], r);
  }

  private async meta(id: string): Promise<Meta | undefined> {
    let m = this.metas.get(id);
    if (m) return m;
    try {
      m = JSON.parse(readFileSync(join(this.opts.stateDir, "meta", `${id}.json`), "utf8")) as Meta;
    } catch {
      // Our local copy is gone: containerd still has the labels.
      const r = await this.ctr(["containers", "info", id], { allowFail: true });
      if (r.code !== 0) return undefined;
      const info = JSON.parse(r.stdout);
      const labels = info.Labels ?? {};
      m = { labels, logPath: labels[LOG_PATH_LABEL] ?? "", cgroupPath: info.Spec?.linux?.cgroupsPath ?? "" };
    }
    this.metas.set(id, m);
    return m;
  }

  async containersWithLabel(key: string, value: string): Promise<string[]> {
    const ids = readdirSync(join(this.opts.stateDir, "meta")).map((f) => f.replace(/\.json$/, ""));
    const out: string[] = [];
    for (const id of ids) if ((await this.meta(id))?.labels[key] === value) out.push(id);
    return out;
  }

  async list(): Promise<ContainerInfo[]> {
    // Taken before containerd is asked: a container with directories then either is in its answer or was starting.
    const rwBefore = readdirSync(join(this.opts.stateDir, "rw"));
    const startingBefore = new Set(this.starting);
    const [cs, ts] = await Promise.all([this.ctr(["containers", "ls", "-q"]), this.ctr(["tasks", "ls"])]);
    const tasks = new Map<string, { pid: number; status: string }>();
    for (const l of ts.stdout.split("\n").slice(1)) {
      const [tid, pid, status] = l.trim().split(/\s+/);
      if (tid) tasks.set(tid, { pid: Number(pid), status: status ?? "" });
    }
    const ids = cs.stdout.split("\n").map((s) => s.trim()).filter(Boolean);
    const known = new Set(ids);
    this.removeOrphanLayers(rwBefore.filter((id) => !startingBefore.has(id) && !known.has(id)));
    const out: ContainerInfo[] = [];
    for (const id of ids) {
      const meta = await this.meta(id);
      if (!meta) continue;
      const t = tasks.get(id);
      if (this.starting.has(id)) {
        out.push({ id, labels: meta.labels, state: "created" });
        continue;
      }
      const state = !t ? "exited" : t.status === "RUNNING" || t.status === "PAUSED" ? "running" : t.status === "CREATED" ? "created" : t.status === "STOPPED" ? "exited" : "unknown";
      // Adopted after an agent restart: reattach the output FIFO so logs keep flowing (and, for a container
      // that exited meanwhile, so its last output is drained before it is reaped).
      if ((state === "running" || state === "exited") && !this.pumps.has(id) && meta.logPath) {
        const f = this.fifos(id);
        const o = { maxBytes: this.opts.logMaxBytes, maxFiles: this.opts.logMaxFiles };
        if (existsSync(f.stdout)) this.pumps.set(id, new LogPump({ stdout: f.stdout, stderr: existsSync(f.stderr) ? f.stderr : undefined }, meta.logPath, o));
        else if (existsSync(f.legacy) && !statSync(f.legacy).isDirectory()) this.pumps.set(id, new LogPump(f.legacy, meta.logPath, o));
        const stdin = state === "running" && !this.stdins.has(id) ? StdinFifo.adopt(f.stdin) : undefined;
        if (stdin) this.stdins.set(id, stdin);
      }
      out.push({ id, labels: meta.labels, state, pid: t?.pid });
    }
    return out;
  }

  /** Directories of containers containerd does not have (an agent killed half-way through a start or a removal). */
  private removeOrphanLayers(ids: string[]): void {
    for (const id of ids) {
      if (this.cleaning.has(id) || this.starting.has(id)) continue;
      const chainId = this.layersOf(id);
      umountLazy(this.rootfsPath(id));
      rmSync(this.rwPath(id), { recursive: true, force: true });
      rmSync(this.rootfsPath(id), { recursive: true, force: true });
      if (chainId) this.layers.release(chainId);
      log.info("removed the directories of a container containerd does not have", { id });
    }
  }

  private oomKilled(id: string, cgroupPath: string): boolean {
    if (this.ooms.has(id)) return true;
    if (!cgroupPath) return false;
    for (const f of [`/sys/fs/cgroup/memory${cgroupPath}/memory.oom_control`, `/sys/fs/cgroup${cgroupPath}/memory.events`]) {
      try {
        const m = /oom_kill (\d+)/.exec(readFileSync(f, "utf8"));
        if (m && Number(m[1]) > 0) return true;
      } catch {}
    }
    return false;
  }

  async reap(id: string): Promise<ExitInfo> {
    const meta = await this.meta(id);
    const oomKilled = this.oomKilled(id, meta?.cgroupPath ?? "");
    const seen = this.exits.get(id);
    let code = seen?.code;
    // With the exit event's status at hand, `ctr containers delete` removes the stopped task together with the
    // container: one command fewer. Otherwise (it exited while nobody listened) `ctr tasks delete` tells the status.
    if (!seen) {
      const r = await this.ctr(["tasks", "delete", id], { allowFail: true });
      const m = /exit code (\d+)/.exec(r.stderr);
      if (m) code = Number(m[1]);
      else if (r.code === 0) code = 0;
    }
    const finishedAt = seen?.at ?? new Date();
    await this.cleanup(id);
    return { exitCode: code ?? 255, oomKilled, finishedAt };
  }

  private async cleanup(id: string): Promise<void> {
    this.cleaning.add(id);
    try {
      await this.cleanupNow(id);
    } finally {
      this.cleaning.delete(id);
    }
  }

  private async cleanupNow(id: string): Promise<void> {
    const pump = this.pumps.get(id);
    this.pumps.delete(id);
    await pump?.close();
    const rootfs = this.rootfsPath(id);
    umountLazy(rootfs);
    // Our container records name no snapshot (the spec has the rootfs path), so a snapshot of its own (an older
    // agent's container) goes beside the record. `containers delete` also deletes a stopped (or never started) task;
    // one still running is deleted by force first.
    const deleteContainer = async () => {
      const r = await this.containerDeletes.submit(id);
      if (r.code === 0 || /not found/.test(r.stderr)) return;
      await this.ctr(["tasks", "delete", "-f", id], { allowFail: true });
      await this.containerDeletes.submit(id);
    };
    // On shared layers its writes are in rw/<id>: no snapshot of its own to remove (one of an older agent's has).
    const rw = this.rwPath(id);
    const chainId = this.layersOf(id);
    const shared = existsSync(rw);
    await Promise.all([deleteContainer(), shared ? undefined : this.snapshotRemovals.submit(id)]);
    // Synchronous, as the agent's other file work: node:fs/promises' thread pool costs ~5 MiB of RSS once used.
    rmSync(rw, { recursive: true, force: true });
    if (chainId) this.layers.release(chainId);
    rmSync(rootfs, { recursive: true, force: true });
    const fifos = this.fifos(id);
    void this.stdins.get(id)?.close();
    this.stdins.delete(id);
    for (const f of [join(this.opts.stateDir, "specs", `${id}.json`), join(this.opts.stateDir, "meta", `${id}.json`), fifos.dir])
      rmSync(f, { recursive: true, force: true });
    this.metas.delete(id);
    this.exits.delete(id);
    this.ooms.delete(id);
  }

  async remove(id: string): Promise<void> {
    // A task that was killed now exits: its exit event says when (no `ctr tasks ls` per poll). Without a task, or
    // with one that had finished already, there is nothing to wait for.
    if ((await this.signal(id, "SIGKILL")) && !(await this.exitEvent(id, 2000))) {
      // No event (the subscription was down meanwhile): ask containerd.
      for (let i = 0; i < 30; i++) {
        const row = (await this.ctr(["tasks", "ls"])).stdout.split("\n").find((l) => l.split(/\s+/)[0] === id);
        if (!row || /STOPPED/.test(row)) break;
        await Bun.sleep(100);
      }
    }
    await this.reap(id);
  }

  /** Resolves true once the exit event of the container's task has arrived (at once if it had), false after `ms`. */
  private exitEvent(id: string, ms: number): Promise<boolean> {
    if (this.exits.has(id)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.attached.get(id)?.delete(done);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.attached.get(id)?.delete(done);
        resolve(false);
      }, ms);
      if (!this.attached.has(id)) this.attached.set(id, new Set());
      this.attached.get(id)!.add(done);
    });
  }

  exec(id: string, cmd: string[], opts: ExecOptions = {}): ExecProcess {
    const execId = `exec-${crypto.randomUUID().slice(0, 8)}`;
    return execInContainer({ tasks: this.tasks, dir: join(this.opts.stateDir, "exec", execId), processSpec: () => this.processSpec(id) }, id, execId, cmd, opts);
  }

  /** The container's OCI process, from our copy of its spec or, failing that, from containerd. */
  private async processSpec(id: string): Promise<any> {
    try {
      return JSON.parse(readFileSync(join(this.opts.stateDir, "specs", `${id}.json`), "utf8")).process;
    } catch {
      const r = await this.ctr(["containers", "info", id]);
      return JSON.parse(r.stdout).Spec.process;
    }
  }

  attach(id: string, opts: AttachOptions = {}): ExecProcess {
    const pump = this.pumps.get(id);
    if (!pump) throw new Error(`container ${id} is not running`);
    const stdin = opts.stdin ? this.stdins.get(id) : undefined;
    let out!: ReadableStreamDefaultController<Uint8Array>;
    let err!: ReadableStreamDefaultController<Uint8Array>;
    const stdout = new ReadableStream<Uint8Array>({ start: (c) => void (out = c) });
    const stderr = new ReadableStream<Uint8Array>({ start: (c) => void (err = c) });
    let settle!: (code: number) => void;
    const exited = new Promise<number>((r) => (settle = r));
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      unlisten();
      this.attached.get(id)?.delete(onExit);
      for (const c of [out, err])
        try {
          c.close();
        } catch {}
      settle(code);
    };
    // The last output may still be in the FIFOs when the exit event arrives.
    const onExit = (code: number) => void setTimeout(() => finish(code), 300);
    const unlisten = pump.listen((s, b) => {
      if (!done) (s === "stdout" ? out : err).enqueue(b.slice());
    });
    if (!this.attached.has(id)) this.attached.set(id, new Set());
    this.attached.get(id)!.add(onExit);
    return {
      stdout,
      stderr,
      write: (d) => stdin?.write(d),
      // Upstream's stdinOnce: the first session's end of input closes the container's stdin for good.
      end: () => {
        if (opts.stdinOnce && stdin)
          void stdin
            .close()
            .then(() => this.tasks.closeStdin(id))
            .catch((e) => log.warn("closing stdin failed", { id, error: e }));
      },
      resize: (w, h) => void this.tasks.resizePty(id, undefined, w, h).catch((e) => log.debug("resize failed", { id, error: e })),
      // Detach: the container keeps running.
      kill: () => finish(0),
      exited,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.events?.close();
    this.tasks.close();
    for (const p of this.pumps.values()) await p.close(false);
    this.pumps.clear();
  }
}
