// One `ctr snapshots prepare` per image instead of one per container. Each image in use gets one active snapshot
// (key "kubun-layers-<chainID>") that is never mounted: it is a handle on the image's unpacked layers, whose
// directories its mounts name as overlay lowerdirs. Every container then gets its own overlay of those layers
// with an upper and a work directory in the agent's state, mounted in-process — no ctr process per start, and
// none per removal (the upper directory is removed with the container).
// Why an active snapshot and not a view: containerd 1.6's garbage collector removes an unlabeled view at its next
// run, while active snapshots survive it, and the handle keeps the layers (its parents) even if the image is
// removed while containers still use them — as a snapshot per container did.
// A handle nobody has used for `idleMs` is removed, so it pins no deleted image's layers for long.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseSnapshotMounts } from "./mount.ts";
import type { RunResult } from "./run.ts";

/** An image's layers as overlay lowerdirs (top layer first) and the other overlay options containerd chose. */
export interface Layers {
  lowerdirs: string[];
  options: string[];
}

export interface ImageLayersOptions {
  /** ctr against the runtime's containerd and namespace (a failed command resolves, it does not throw). */
  ctr: (args: string[]) => Promise<RunResult>;
  /** <state>/layers: one JSON file per handle, so that a restarted agent needs no ctr call to find them. */
  dir: string;
  /** Containers that use a handle now (adopted after a restart), by chain ID. */
  users?: Map<string, number>;
  /** How long a handle nobody uses is kept (default 10 minutes). */
  idleMs?: number;
}

interface Handle {
  users: number;
  /** Loaded by the first start that needs it (none at all for a handle only adopted or removed). */
  layers?: Promise<Layers | undefined>;
  idle?: ReturnType<typeof setTimeout>;
  removing?: Promise<void>;
}

const KEY_PREFIX = "kubun-layers-";

/** Parses the mounts `ctr snapshots prepare --mounts` prints for an active snapshot on image layers. */
export function layersFromMounts(json: string): Layers | undefined {
  const mounts = parseSnapshotMounts(json);
  // A bind mount (a snapshotter other than overlayfs, or an image without layers) has no layers to share.
  if (mounts.length !== 1 || mounts[0]!.type !== "overlay") return undefined;
  const options = mounts[0]!.options;
  const lower = options.find((o) => o.startsWith("lowerdir="));
  if (!lower) return undefined;
  return {
    lowerdirs: lower.slice("lowerdir=".length).split(":"),
    options: options.filter((o) => !/^(lowerdir|upperdir|workdir)=/.test(o)),
  };
}

export class ImageLayers {
  private handles = new Map<string, Handle>();
  private readonly idleMs: number;

  constructor(private opts: ImageLayersOptions) {
    this.idleMs = opts.idleMs ?? 10 * 60_000;
    mkdirSync(opts.dir, { recursive: true });
    for (const [chainId, users] of opts.users ?? []) this.handles.set(chainId, { users });
    // Handles a previous run left that no container uses any more: removed after the same idle time.
    for (const f of readdirSync(opts.dir)) {
      const chainId = f.replace(/\.json$/, "").replace("-", ":"); // file()'s name back
      if (!this.handles.has(chainId)) {
        const h: Handle = { users: 0 };
        this.handles.set(chainId, h);
        this.scheduleRemoval(chainId, h);
      }
    }
  }

  private file(chainId: string): string {
    return join(this.opts.dir, `${chainId.replace(":", "-")}.json`);
  }

  /**
   * The image's layers, for one more container (give it back with release()); undefined when they cannot be
   * shared (then the container needs a snapshot of its own).
   */
  async acquire(chainId: string): Promise<Layers | undefined> {
    let h = this.handles.get(chainId);
    while (h?.removing) {
      await h.removing;
      h = this.handles.get(chainId);
    }
    if (!h) {
      h = { users: 0 };
      this.handles.set(chainId, h);
    }
    h.users++;
    clearTimeout(h.idle);
    const loading = (h.layers ??= this.load(chainId));
    const layers = await loading.catch((e) => {
      if (h!.layers === loading) h!.layers = undefined; // the next start tries again
      this.release(chainId);
      throw e;
    });
    if (!layers) this.release(chainId);
    return layers;
  }

  release(chainId: string): void {
    const h = this.handles.get(chainId);
    if (!h || h.users === 0) return;
    if (--h.users === 0) this.scheduleRemoval(chainId, h);
  }

  private scheduleRemoval(chainId: string, h: Handle): void {
    clearTimeout(h.idle);
    h.idle = setTimeout(() => {
      if (h.users > 0 || this.handles.get(chainId) !== h) return;
      h.removing = (async () => {
        rmSync(this.file(chainId), { force: true });
        await this.opts.ctr(["snapshots", "rm", KEY_PREFIX + chainId]);
        this.handles.delete(chainId);
      })();
    }, this.idleMs);
    h.idle.unref?.();
  }

  /** The handle's layers: from its file, else from containerd (preparing the handle when it does not exist). */
  private async load(chainId: string): Promise<Layers | undefined> {
    const file = this.file(chainId);
    try {
      const saved = JSON.parse(readFileSync(file, "utf8")) as Layers;
      // A handle removed behind our back (or a containerd state reset) takes its layers' directories with it.
      if (saved.lowerdirs.every((d) => existsSync(d))) return saved;
    } catch {}
    const key = KEY_PREFIX + chainId;
    let r = await this.opts.ctr(["snapshots", "prepare", "--mounts", key, chainId]);
    if (r.code !== 0 && /already exists/.test(r.stderr)) {
      // Made by a run that died before writing the file: prepared again, the mounts are printed anew.
      await this.opts.ctr(["snapshots", "rm", key]);
      r = await this.opts.ctr(["snapshots", "prepare", "--mounts", key, chainId]);
    }
    if (r.code !== 0) throw new Error(`ctr snapshots prepare ${key}: ${r.stderr.trim()}`);
    const layers = layersFromMounts(r.stdout);
    if (!layers) {
      await this.opts.ctr(["snapshots", "rm", key]);
      return undefined;
    }
    writeFileSync(file, JSON.stringify(layers));
    return layers;
  }
}
