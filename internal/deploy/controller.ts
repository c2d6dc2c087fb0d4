// k3s's deploy controller: the manifests directory is applied at start, whenever a file changes (fs.watch) and on a
// periodic check (which also retries files that failed). A file is applied again only when its content changed
// (SHA-256). Objects are written with server-side apply, field manager "kubun-deploy", force (the directory is the
// source of truth for the fields it sets); CRDs first and Established before the objects that need them, then
// Namespaces, then the rest; namespaced objects without a namespace go to kube-system, as k3s. Progress and errors
// are Events on the file's Addon (addon.ts) and log lines. Removing a file leaves its objects (and its Addon) alone.
import { watch, readFileSync, statSync, mkdirSync, type FSWatcher } from "node:fs";
import { createHash } from "node:crypto";
import type { Client } from "../client/client.ts";
import { ApiError } from "../client/types.ts";
import { createEventRecorder, type EventRecorder } from "../client/events.ts";
import { logger, type Logger } from "../log/log.ts";
import { ADDON_NAMESPACE, FIELD_MANAGER, addonName, ensureAddonCRD, waitEstablished, writeAddon, type AddonState } from "./addon.ts";
import { KindResolver, objectPath } from "./discovery.ts";
import { MAX_MANIFEST_BYTES, applyOrder, isCRD, manifestFiles, parseManifest, type ManifestFile, type ManifestObject } from "./manifests.ts";

export interface DeployOptions {
  /** An admin client of the API server. */
  client: Client;
  /** <data-dir>/server/manifests. */
  dir: string;
  /** File names without extension not to apply (k3s's --disable). */
  disable?: string[];
  /** Periodic check (default 15 s). */
  resyncMs?: number;
  /** How long a file's CRDs may take to become Established (default 60 s). */
  crdTimeoutMs?: number;
  log?: Logger;
  signal?: AbortSignal;
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class DeployController {
  private client: Client;
  private log: Logger;
  private events: EventRecorder;
  private resolver: KindResolver;
  private disabled: Set<string>;
  /** path → checksum of the content last applied without error. */
  private applied = new Map<string, string>();
  private running: Promise<void> | undefined;
  private pending = false;
  private watcher: FSWatcher | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private debounce: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private opts: DeployOptions) {
    this.client = opts.client;
    this.log = opts.log ?? logger("deploy");
    this.events = createEventRecorder(opts.client, { component: FIELD_MANAGER, log: this.log });
    this.resolver = new KindResolver(opts.client);
    this.disabled = new Set(opts.disable ?? []);
    opts.signal?.addEventListener("abort", () => this.stop(), { once: true });
  }

  /** Installs the Addon kind, applies the directory once, then follows changes. */
  async start(): Promise<void> {
    mkdirSync(this.opts.dir, { recursive: true, mode: 0o700 });
    try {
      await ensureAddonCRD(this.client, this.opts.crdTimeoutMs ?? 60_000, this.opts.signal);
    } catch (err) {
      // Manifests still apply; only their Addon status (and the Events on it) is missing.
      this.log.warn("cannot install the Addon kind; manifests are applied without Addon status", { err: errText(err) });
    }
    try {
      this.watcher = watch(this.opts.dir, () => this.soon());
      this.watcher.on("error", (err) => this.log.warn("watching the manifests directory failed; relying on the periodic check", { err: errText(err) }));
    } catch (err) {
      this.log.warn("cannot watch the manifests directory; relying on the periodic check", { dir: this.opts.dir, err: errText(err) });
    }
    this.timer = setInterval(() => void this.sync(), this.opts.resyncMs ?? 15_000);
    await this.sync();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
  }

  /** Editors write files in several steps: wait for a quiet moment. */
  private soon(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.sync(), 300);
  }

  /** One pass over the directory; calls during a pass fold into one more pass. */
  sync(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.pending = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.pending = false;
          for (const f of manifestFiles(this.opts.dir, this.disabled)) {
            if (this.stopped) return;
            await this.syncFile(f);
          }
        } while (this.pending && !this.stopped);
      } catch (err) {
        this.log.error("manifests pass failed", { err: errText(err) });
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async syncFile(f: ManifestFile): Promise<void> {
    let text: string;
    try {
      if (statSync(f.path).size > MAX_MANIFEST_BYTES) throw new Error(`the file is larger than ${MAX_MANIFEST_BYTES} bytes`);
      text = readFileSync(f.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // removed meanwhile
      return this.report(f, "", { error: errText(err) });
    }
    const checksum = createHash("sha256").update(text).digest("hex");
    if (this.applied.get(f.path) === checksum) return;
    const addon = await this.addon(addonName(f.base), { source: f.path, checksum, phase: "Applying" });
    this.log.info("applying manifest", { file: f.path });
    if (addon) await this.events.event(addon, "Normal", "ApplyingManifest", `Applying manifest at "${f.path}"`);
    const result = await this.applyFile(f, text);
    if (result.error === undefined) this.applied.set(f.path, checksum);
    else this.applied.delete(f.path);
    await this.report(f, checksum, result);
  }

  private async report(f: ManifestFile, checksum: string, r: { error?: string; objects?: string[] }): Promise<void> {
    const ok = r.error === undefined;
    const addon = await this.addon(addonName(f.base), { source: f.path, checksum, phase: ok ? "Applied" : "Failed", message: r.error, objects: r.objects });
    if (ok) {
      this.log.info("applied manifest", { file: f.path, objects: r.objects?.length ?? 0 });
      if (addon) await this.events.event(addon, "Normal", "AppliedManifest", `Applied manifest at "${f.path}"`);
    } else {
      this.log.warn("applying manifest failed", { file: f.path, err: r.error });
      if (addon) await this.events.event(addon, "Warning", "ApplyManifestFailed", `Error applying manifest at "${f.path}": ${r.error}`);
    }
  }

  private async addon(name: string, s: AddonState): Promise<any> {
    try {
      return await writeAddon(this.client, name, s);
    } catch (err) {
      this.log.warn("cannot write the manifest's Addon", { addon: `${ADDON_NAMESPACE}/${name}`, err: errText(err) });
      return undefined;
    }
  }

  /** Applies every object of the file; an object that fails does not stop the others. */
  private async applyFile(f: ManifestFile, text: string): Promise<{ error?: string; objects: string[] }> {
    let objs: ManifestObject[];
    try {
      objs = applyOrder(parseManifest(text, f.path));
    } catch (err) {
      return { error: `cannot parse the file: ${errText(err)}`, objects: [] };
    }
    const errors: string[] = [];
    const written: string[] = [];
    const crds = objs.filter(isCRD);
    for (const o of crds) await this.applyObject(o, written, errors);
    if (crds.length) {
      for (const o of crds) {
        try {
          await waitEstablished(this.client, o.metadata.name!, this.opts.crdTimeoutMs ?? 60_000, this.opts.signal);
        } catch (err) {
          errors.push(errText(err));
        }
      }
      this.resolver.forget();
    }
    for (const o of objs) if (!isCRD(o)) await this.applyObject(o, written, errors);
    return { error: errors.length ? errors.join("; ") : undefined, objects: written };
  }

  private async applyObject(o: ManifestObject, written: string[], errors: string[]): Promise<void> {
    const name = o.metadata.name!;
    try {
      const r = await this.resolver.resolve(o.apiVersion, o.kind);
      if (!r) throw new Error(`no matches for kind "${o.kind}" in version "${o.apiVersion}"`);
      const ns = r.namespaced ? o.metadata.namespace || ADDON_NAMESPACE : undefined;
      const metadata: Record<string, unknown> = { ...o.metadata };
      if (ns) metadata.namespace = ns;
      else delete metadata.namespace;
      const query = `?fieldManager=${FIELD_MANAGER}&force=true`;
      await this.client.request("PATCH", objectPath(r, ns, name) + query, { ...o, metadata }, { "Content-Type": "application/apply-patch+yaml" });
      written.push(ns ? `${o.kind}/${ns}/${name}` : `${o.kind}/${name}`);
    } catch (err) {
      const why = err instanceof ApiError ? err.message : errText(err);
      errors.push(`${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${name}: ${why}`);
    }
  }
}

/** Starts the deploy controller; resolves once the directory was applied the first time. */
export async function startDeployController(opts: DeployOptions): Promise<DeployController> {
  const c = new DeployController(opts);
  await c.start();
  return c;
}
