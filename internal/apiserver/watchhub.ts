// One store watch per resource prefix, fanned out to every API watcher of that resource.
// Each hub keeps a short window of recent events so that a watcher starting from a recent
// resourceVersion (the usual list-then-watch) is served from memory; older starting points get their own
// store watch, which reports compaction (410) exactly as the store sees it.
import type { Store, WatchEvent } from "../store/types.ts";
import { CompactedError } from "../store/types.ts";
import type { Logger } from "../log/log.ts";

// Events kept per resource for watchers that start slightly in the past (upstream's cacher keeps ~100+).
const WINDOW = 512;

export interface Subscriber {
  /** Called with events of revision > the subscriber's start, in order. */
  push(events: WatchEvent[]): void;
  /** Called once when the underlying watch ends: err is a CompactedError, another failure, or undefined (closed). */
  fail(err: unknown): void;
}

export interface Subscription {
  close(): void;
  /** Highest revision delivered to this subscriber so far (for bookmarks). */
  progress(): number;
}

const revOf = (e: WatchEvent) => e.kv.modRevision;

class Hub {
  private subs = new Set<{ s: Subscriber; after: number; delivered: number }>();
  private window: WatchEvent[] = [];
  /** All events with revision > floor are in window (or not yet arrived). */
  private floor = 0;
  /** Highest revision the hub has seen delivered by the store. */
  private last = 0;
  private started: Promise<void> | undefined;
  private abort = new AbortController();

  constructor(
    private store: Store,
    private prefix: string,
    private log: Logger,
    private onGone: () => void,
  ) {}

  private start(): Promise<void> {
    this.started ??= (async () => {
      const rev = await this.store.currentRevision();
      this.floor = rev;
      this.last = rev;
      void this.run(rev);
    })();
    return this.started;
  }

  private async run(after: number): Promise<void> {
    try {
      for await (const batch of this.store.watch(this.prefix, { afterRevision: after, signal: this.abort.signal })) {
        if (batch.length === 0) continue;
        for (const e of batch) this.window.push(e);
        if (this.window.length > WINDOW) {
          const drop = this.window.length - WINDOW;
          this.floor = revOf(this.window[drop - 1]!);
          this.window.splice(0, drop);
        }
        this.last = revOf(batch[batch.length - 1]!);
        for (const sub of this.subs) {
          const evs = batch.filter((e) => revOf(e) > sub.after);
          if (evs.length) {
            sub.delivered = revOf(evs[evs.length - 1]!);
            sub.s.push(evs);
          }
        }
      }
    } catch (err) {
      if (!this.abort.signal.aborted) {
        this.log.error("store watch failed; closing watchers", { prefix: this.prefix, err });
        for (const sub of this.subs) sub.s.fail(err);
        this.subs.clear();
      }
    }
    // The hub is dead either way: end its watchers' streams (clients re-watch from their last
    // resourceVersion) and let the next subscriber start a fresh hub.
    for (const sub of this.subs) sub.s.fail(undefined);
    this.subs.clear();
    this.onGone();
  }

  /** Subscribe from revision `after`; returns undefined when that point is older than the window. */
  async subscribe(after: number, s: Subscriber): Promise<Subscription | undefined> {
    await this.start();
    if (after < this.floor) return undefined;
    const entry = { s, after, delivered: after };
    const backlog = this.window.filter((e) => revOf(e) > after);
    if (backlog.length) {
      entry.delivered = revOf(backlog[backlog.length - 1]!);
      s.push(backlog);
    }
    this.subs.add(entry);
    return {
      close: () => this.subs.delete(entry),
      // Every event up to `last` has been dispatched, so the subscriber is current up to there.
      progress: () => Math.max(entry.after, this.last),
    };
  }

  get watchers(): number {
    return this.subs.size;
  }

  stop(): void {
    this.abort.abort();
  }
}

export class WatchCache {
  private hubs = new Map<string, Hub>();
  private direct = 0;

  constructor(
    private store: Store,
    private log: Logger,
  ) {}

  /**
   * Deliver events for keys under prefix with revision > after. Throws CompactedError (before any
   * event) when `after` has been compacted away.
   */
  async watch(prefix: string, after: number, s: Subscriber): Promise<Subscription> {
    // History the store has compacted is gone for watchers too, even if a hub still holds it in memory,
    // so that a forced compaction makes informers relist as it would upstream.
    const compacted = await this.store.compactRevision();
    if (after > 0 && after < compacted) throw new CompactedError(after, compacted);
    let hub = this.hubs.get(prefix);
    if (!hub) {
      hub = new Hub(this.store, prefix, this.log, () => {
        if (this.hubs.get(prefix) === hub) this.hubs.delete(prefix);
      });
      this.hubs.set(prefix, hub);
    }
    const sub = await hub.subscribe(after, s);
    if (sub) return sub;
    return this.directWatch(prefix, after, s);
  }

  /** A dedicated store watch for a watcher starting before the hub's window. */
  private async directWatch(prefix: string, after: number, s: Subscriber): Promise<Subscription> {
    const compacted = await this.store.compactRevision();
    if (after > 0 && after < compacted) throw new CompactedError(after, compacted);
    const abort = new AbortController();
    let delivered = after;
    const it = this.store.watch(prefix, { afterRevision: after, signal: abort.signal })[Symbol.asyncIterator]();
    // Pull the first batch eagerly so compaction errors surface before the HTTP response starts.
    const firstP = it.next();
    firstP.catch(() => {}); // observed below; avoid an unhandled rejection meanwhile
    const first = await Promise.race([firstP, Bun.sleep(50).then(() => undefined)]);
    this.direct++;
    const handle = (batch: WatchEvent[]) => {
      if (batch.length) {
        delivered = revOf(batch[batch.length - 1]!);
        s.push(batch);
      }
    };
    void (async () => {
      try {
        let r = first ?? (await firstP);
        while (!r.done) {
          handle(r.value);
          r = await it.next();
        }
        if (!abort.signal.aborted) s.fail(undefined);
      } catch (err) {
        if (!abort.signal.aborted) s.fail(err);
      } finally {
        this.direct--;
      }
    })();
    return { close: () => abort.abort(), progress: () => delivered };
  }

  /** Number of active API watchers (for /metrics). */
  counts(): { watchers: number; hubs: number; direct: number } {
    let watchers = 0;
    for (const h of this.hubs.values()) watchers += h.watchers;
    return { watchers: watchers + this.direct, hubs: this.hubs.size, direct: this.direct };
  }

  private streams = new Set<() => void>();

  /** Registers an open watch stream so that stop() ends it; returns the unregister function. */
  track(close: () => void): () => void {
    this.streams.add(close);
    return () => this.streams.delete(close);
  }

  stop(): void {
    for (const close of [...this.streams]) close();
    this.streams.clear();
    for (const h of this.hubs.values()) h.stop();
    this.hubs.clear();
  }
}
