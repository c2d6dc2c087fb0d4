// An in-memory copy of every object under one store prefix, kept fresh by a store watch from the list's revision
// (relist on CompactedError or a broken watch) — what upstream's admission plugins get from informer listers.
// While it is not synced (before the first list, and between a broken watch and its relist) it answers nothing and
// callers read the store instead, so a cache problem can only cost speed, never correctness.
import { CompactedError, StoreError, type Store, type WatchEvent } from "../store/types.ts";
import { logger } from "../log/log.ts";

const log = logger("admission-cache");

export class WatchedPrefix<T = any> {
  /** store key → parsed object. Shared with callers: never mutate what get() returns. */
  private objects = new Map<string, T>();
  private _synced = false;
  private stopped = false;
  private abort = new AbortController();
  /** Resolves after the first list (or when that list failed and the loop gave up). */
  readonly ready: Promise<void>;

  constructor(
    private store: Store,
    readonly prefix: string,
    signal?: AbortSignal,
  ) {
    signal?.addEventListener("abort", () => this.close(), { once: true });
    if (signal?.aborted) this.close();
    this.ready = this.run();
  }

  /** True while the copy reflects the store up to the watch's position. */
  get synced(): boolean {
    return this._synced && !this.stopped;
  }

  get size(): number {
    return this.objects.size;
  }

  close(): void {
    this.stopped = true;
    this._synced = false;
    this.abort.abort();
  }

  /** The object at key: undefined when absent or not synced (check `synced` to tell the two apart). */
  get(key: string): T | undefined {
    return this.synced ? this.objects.get(key) : undefined;
  }

  /** Objects whose key starts with prefix (a sub-prefix of this one), in no particular order. */
  list(prefix: string = this.prefix): T[] {
    const out: T[] = [];
    for (const [k, v] of this.objects) if (k.startsWith(prefix)) out.push(v);
    return out;
  }

  private async load(): Promise<number> {
    const res = await this.store.list(this.prefix);
    const next = new Map<string, T>();
    for (const kv of res.items) {
      const obj = parse<T>(kv.value);
      if (obj !== undefined) next.set(kv.key, obj);
    }
    this.objects = next;
    this._synced = true;
    return res.revision;
  }

  private apply(ev: WatchEvent): void {
    if (ev.type === "DELETE") {
      this.objects.delete(ev.kv.key);
      return;
    }
    const obj = parse<T>(ev.kv.value);
    if (obj === undefined) this.objects.delete(ev.kv.key);
    else this.objects.set(ev.kv.key, obj);
  }

  private async run(): Promise<void> {
    let rev: number | undefined;
    let readyDone: (() => void) | undefined;
    const ready = new Promise<void>((r) => (readyDone = r));
    const loop = async () => {
      while (!this.stopped) {
        try {
          if (rev === undefined) rev = await this.load();
          readyDone?.();
          for await (const batch of this.store.watch(this.prefix, { afterRevision: rev, signal: this.abort.signal })) {
            for (const ev of batch) {
              this.apply(ev);
              rev = Math.max(rev, ev.kv.modRevision);
            }
          }
          // A watch only ends on its own when the store closes; relist (which then tells us so) to find out.
          if (this.stopped) return;
          this._synced = false;
          rev = undefined;
        } catch (err) {
          this._synced = false;
          rev = undefined;
          if (this.stopped) return;
          if (isStoreClosed(err)) {
            this.close();
            break;
          }
          if (!(err instanceof CompactedError)) {
            log.warn("watch failed, relisting", { prefix: this.prefix, err: err as Error });
            await Bun.sleep(1000);
          }
        }
      }
      readyDone?.();
    };
    void loop();
    return ready;
  }
}

function isStoreClosed(err: unknown): boolean {
  return err instanceof StoreError && /closed/.test(err.message);
}

function parse<T>(v: string): T | undefined {
  try {
    return JSON.parse(v) as T;
  } catch {
    return undefined;
  }
}
