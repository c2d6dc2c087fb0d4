// List-then-watch for the authorizers' in-memory indexes (RBAC cache, node graph): `load` lists the prefix and
// rebuilds the index, returning the list's revision; every watch event after it goes to `onEvent`. A compacted
// watch relists at once, any other watch failure is logged and relisted after a second; a failed relist keeps
// the old revision and tries again. (Admission's WatchedPrefix differs on purpose: it reports `synced`, stops
// when the store closes and never rejects `ready`.)
import type { Logger } from "../log/log.ts";
import { CompactedError, type Store, type WatchEvent } from "../store/types.ts";

export interface FollowPrefixOptions {
  load(): Promise<number>;
  onEvent(ev: WatchEvent): void;
  signal: AbortSignal;
  log: Logger;
  /** Names the watch in the warning, e.g. "pod". */
  what: string;
}

/** Resolves after the first list (rejects if it fails); the watch then runs until `signal` aborts. */
export async function followPrefix(store: Store, prefix: string, opts: FollowPrefixOptions): Promise<void> {
  const rev = await opts.load();
  void watchLoop(store, prefix, opts, rev);
}

async function watchLoop(store: Store, prefix: string, opts: FollowPrefixOptions, fromRev: number): Promise<void> {
  let rev = fromRev;
  while (!opts.signal.aborted) {
    try {
      for await (const batch of store.watch(prefix, { afterRevision: rev, signal: opts.signal })) {
        for (const ev of batch) {
          opts.onEvent(ev);
          rev = Math.max(rev, ev.kv.modRevision);
        }
      }
    } catch (err) {
      if (opts.signal.aborted) return;
      if (!(err instanceof CompactedError)) {
        opts.log.warn(`${opts.what} watch failed, relisting`, { err: err as Error });
        await Bun.sleep(1000);
      }
      rev = await opts.load().catch(() => rev);
    }
  }
}
