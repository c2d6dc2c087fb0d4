// Pod volumes on the node: emptyDir (tmpfs for medium Memory), hostPath, configMap, secret, downwardAPI and
// projected (ServiceAccount token via TokenRequest, ca.crt, namespace). Content volumes are written atomically
// (a new ..data directory swapped in, as upstream's AtomicWriter) so a refresh never shows half a set of files.
import type { KeyToPath, Pod, Volume } from "kubernetes-types/core/v1";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { quantityValue } from "../api/quantity.ts";
import { mountPoints, umountLazy } from "../runtime/mount.ts";
import { run } from "../runtime/run.ts";
import { ConfigError, fieldValue, resourceValue } from "./env.ts";
import { decodeSecret, type PodRefs } from "./refs.ts";
import { claimVolumePath } from "./pvcvolumes.ts";

export interface VolumeContext {
  podDir: string;
  refs: PodRefs;
  nodeAllocatable: Record<string, string>;
}

type Files = Map<string, { data: Uint8Array | string; mode?: number }>;

export function volumeDir(podDir: string, name: string): string {
  return join(podDir, "volumes", name);
}

/** Path of each volume by name, after making sure it exists. */
export async function setupVolumes(pod: Pod, ctx: VolumeContext): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const v of pod.spec?.volumes ?? []) out.set(v.name, await setupVolume(pod, v, ctx));
  return out;
}

/** `mountpoint -q` without the process (symlinks resolved, as it does). */
function isMountpoint(dir: string, mounts = mountPoints()): boolean {
  try {
    return mounts.has(realpathSync(dir));
  } catch {
    return false;
  }
}

async function setupVolume(pod: Pod, v: Volume, ctx: VolumeContext): Promise<string> {
  const dir = volumeDir(ctx.podDir, v.name);
  if (v.persistentVolumeClaim) return claimVolumePath(pod, v, ctx.refs);
  if (v.hostPath) {
    const p = v.hostPath.path;
    const t = v.hostPath.type ?? "";
    if (t === "DirectoryOrCreate") mkdirSync(p, { recursive: true, mode: 0o755 });
    else if (t === "FileOrCreate" && !existsSync(p)) {
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, "", { mode: 0o644 });
    } else if ((t === "Directory" || t === "File") && !existsSync(p)) throw new ConfigError(`hostPath type check failed: ${p} is not a ${t}`);
    return p;
  }
  mkdirSync(dir, { recursive: true });
  if (v.emptyDir) {
    chmodSync(dir, 0o777);
    if (v.emptyDir.medium === "Memory" && !isMountpoint(dir)) {
      const size = v.emptyDir.sizeLimit ? `,size=${Math.ceil(quantityValue(v.emptyDir.sizeLimit))}` : "";
      await run(["mount", "-t", "tmpfs", "-o", `mode=1777${size}`, "tmpfs", dir]);
    }
    return dir;
  }
  let files: Files | undefined;
  try {
    files = await contentFiles(pod, v, ctx, dir);
  } catch (e) {
    // Offline (or the source went away): keep serving what was written before, as upstream does.
    if (existsSync(join(dir, "..data"))) return dir;
    throw e;
  }
  if (files) {
    writeAtomic(dir, files, defaultMode(v));
    return dir;
  }
  throw new ConfigError(`volume ${v.name}: unsupported volume type`);
}

function defaultMode(v: Volume): number {
  return v.configMap?.defaultMode ?? v.secret?.defaultMode ?? v.downwardAPI?.defaultMode ?? v.projected?.defaultMode ?? 0o644;
}

function pick(items: KeyToPath[] | undefined, data: Record<string, Uint8Array | string>, files: Files, what: string, optional: boolean): void {
  if (!items?.length) {
    for (const [k, val] of Object.entries(data)) files.set(k, { data: val });
    return;
  }
  for (const it of items) {
    if (!(it.key in data)) {
      if (optional) continue;
      throw new ConfigError(`configmap/secret ${what}: key ${it.key} not found`);
    }
    files.set(it.path, { data: data[it.key]!, mode: it.mode });
  }
}

async function contentFiles(pod: Pod, v: Volume, ctx: VolumeContext, dir: string): Promise<Files | undefined> {
  const ns = pod.metadata!.namespace!;
  const files: Files = new Map();
  const configMap = async (name: string, items: KeyToPath[] | undefined, optional: boolean, into: Files) => {
    const cm = await ctx.refs.configMap(ns, name);
    if (!cm) {
      if (optional) return;
      throw new ConfigError(`configmap "${name}" not found`);
    }
    const data: Record<string, Uint8Array | string> = { ...(cm.data ?? {}) };
    for (const [k, b] of Object.entries(cm.binaryData ?? {})) data[k] = decodeSecret(b);
    pick(items, data, into, name, optional);
  };
  const secret = async (name: string, items: KeyToPath[] | undefined, optional: boolean, into: Files) => {
    const s = await ctx.refs.secret(ns, name);
    if (!s) {
      if (optional) return;
      throw new ConfigError(`secret "${name}" not found`);
    }
    const data: Record<string, Uint8Array | string> = {};
    for (const [k, b] of Object.entries(s.data ?? {})) data[k] = decodeSecret(b);
    for (const [k, t] of Object.entries(s.stringData ?? {})) data[k] = t;
    pick(items, data, into, name, optional);
  };
  const downward = (items: { path: string; fieldRef?: any; resourceFieldRef?: any; mode?: number }[], into: Files) => {
    for (const it of items) {
      const val = it.fieldRef ? fieldValue(pod, it.fieldRef) : resourceValue(pod, undefined, it.resourceFieldRef, ctx.nodeAllocatable);
      into.set(it.path, { data: val, mode: it.mode });
    }
  };
  if (v.configMap) await configMap(v.configMap.name!, v.configMap.items, !!v.configMap.optional, files);
  else if (v.secret) await secret(v.secret.secretName!, v.secret.items, !!v.secret.optional, files);
  else if (v.downwardAPI) downward(v.downwardAPI.items ?? [], files);
  else if (v.projected) {
    // The sources' API reads (the ServiceAccount token, kube-root-ca.crt) go out side by side — a pod start
    // waits for one round trip, not one per source — and are merged in source order, as if read one by one.
    const sources = v.projected.sources ?? [];
    const parts = sources.map((): Files => new Map());
    const settled = await Promise.allSettled(
      sources.map(async (src, i) => {
        const into = parts[i]!;
        if (src.configMap) await configMap(src.configMap.name!, src.configMap.items, !!src.configMap.optional, into);
        else if (src.secret) await secret(src.secret.name!, src.secret.items, !!src.secret.optional, into);
        else if (src.downwardAPI) downward(src.downwardAPI.items ?? [], into);
        else if (src.serviceAccountToken) {
          const t = src.serviceAccountToken;
          const ttl = t.expirationSeconds ?? 3607;
          // Rotate at 80% of the token's life (upstream's rule), not on every sync.
          const cur = join(dir, "..data", t.path);
          let token: string | undefined;
          try {
            if (Date.now() - statSync(cur).mtimeMs < ttl * 800) token = readFileSync(cur, "utf8");
          } catch {}
          token ??= await ctx.refs.serviceAccountToken(pod, t.audience, ttl);
          into.set(t.path, { data: token, mode: 0o600 });
        }
      }),
    );
    for (const r of settled) if (r.status === "rejected") throw r.reason; // the first failing source, in order
    for (const part of parts) for (const [path, f] of part) files.set(path, f);
  } else return undefined;
  return files;
}

/**
 * Writes files into dir/..<stamp>, points dir/..data at it, and links each top-level name through ..data.
 * Synchronous on purpose: node:fs/promises' thread pool costs the agent ~5 MiB of RSS once used.
 */
function writeAtomic(dir: string, files: Files, mode: number): void {
  // Unchanged content: nothing to write (refreshes must not wear out SD cards).
  const dataDir = join(dir, "..data");
  if (existsSync(dataDir)) {
    let same = true;
    for (const [p, f] of files) {
      try {
        const cur = readFileSync(join(dataDir, p));
        if (Buffer.compare(cur, Buffer.from(f.data as any)) !== 0) same = false;
      } catch {
        same = false;
      }
      if (!same) break;
    }
    if (same) return;
  }
  const stamp = `..${new Date().toISOString().replace(/[-:.]/g, "_")}`;
  const tsDir = join(dir, stamp);
  mkdirSync(tsDir, { recursive: true });
  for (const [p, f] of files) {
    const full = join(tsDir, p);
    if (p.includes("/")) mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, f.data as any);
    chmodSync(full, f.mode ?? mode);
  }
  const tmpLink = join(dir, "..data_tmp");
  rmSync(tmpLink, { force: true });
  symlinkSync(stamp, tmpLink);
  renameSync(tmpLink, dataDir);
  const top = new Set([...files.keys()].map((p) => p.split("/")[0]!));
  for (const name of top) if (!existsSync(join(dir, name))) symlinkSync(join("..data", name), join(dir, name));
  for (const e of readdirSync(dir)) {
    if (e.startsWith("..") && e !== stamp && e !== "..data") rmSync(join(dir, e), { recursive: true, force: true });
    else if (!e.startsWith("..") && !top.has(e)) rmSync(join(dir, e), { recursive: true, force: true });
  }
}

/** Unmounts tmpfs volumes and removes the pod's volume directories. */
export async function teardownVolumes(podDir: string): Promise<void> {
  const root = join(podDir, "volumes");
  if (!existsSync(root)) return;
  const mounts = mountPoints();
  for (const name of readdirSync(root)) {
    const d = join(root, name);
    if (isMountpoint(d, mounts)) umountLazy(d);
  }
  rmSync(root, { recursive: true, force: true });
}
