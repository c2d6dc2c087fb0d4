// A work queue with upstream client-go semantics: an item is queued at most once (dirty set), never handed to two
// workers at once (processing set), and an item re-added while being processed is queued again when it is done.

import { logger, type Logger } from "../log/log.ts";
import { defaultControllerRateLimiter, type RateLimiter } from "./ratelimit.ts";

export interface WorkQueueOptions<K> {
  name?: string;
  rateLimiter?: RateLimiter<K>;
  log?: Logger;
}

export class WorkQueue<K = string> {
  readonly name: string;
  private items: K[] = [];
  private head = 0;
  private dirty = new Set<K>();
  private processing = new Set<K>();
  private waiters: ((k: K | undefined) => void)[] = [];
  private delayed = new Map<K, { at: number; timer: ReturnType<typeof setTimeout> }>();
  private rateLimiter: RateLimiter<K>;
  private log: Logger;
  private shutdown = false;
  private drained?: () => void;

  constructor(opts: WorkQueueOptions<K> = {}) {
    this.name = opts.name ?? "queue";
    this.rateLimiter = opts.rateLimiter ?? defaultControllerRateLimiter<K>();
    this.log = opts.log ?? logger(`workqueue.${this.name}`);
  }

  get shuttingDown(): boolean {
    return this.shutdown;
  }

  /** Items waiting (not counting the ones being processed or delayed). */
  len(): number {
    return this.items.length - this.head;
  }

  add(item: K): void {
    if (this.shutdown || this.dirty.has(item)) return;
    this.dirty.add(item);
    if (this.processing.has(item)) return; // requeued by done()
    this.push(item);
  }

  private push(item: K): void {
    const w = this.waiters.shift();
    if (w) {
      // Hand it straight to a waiting worker.
      this.dirty.delete(item);
      this.processing.add(item);
      w(item);
      return;
    }
    this.items.push(item);
  }

  /** Next item, or undefined once the queue is shut down and empty. Call done(item) when finished. */
  get(): Promise<K | undefined> {
    if (this.len() > 0) {
      const item = this.items[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      this.dirty.delete(item);
      this.processing.add(item);
      return Promise.resolve(item);
    }
    if (this.shutdown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(item: K): void {
    this.processing.delete(item);
    if (this.dirty.has(item) && !this.shutdown) this.push(item);
    else if (this.dirty.has(item)) this.items.push(item);
    if (this.shutdown && this.processing.size === 0) this.drained?.();
  }

  /** Adds the item after a delay; an earlier pending delay for the same item wins. */
  addAfter(item: K, ms: number): void {
    if (this.shutdown) return;
    if (ms <= 0) return this.add(item);
    const at = Date.now() + ms;
    const prev = this.delayed.get(item);
    if (prev) {
      if (prev.at <= at) return;
      clearTimeout(prev.timer);
    }
    const timer = setTimeout(() => {
      this.delayed.delete(item);
      this.add(item);
    }, ms);
    // Delayed retries must not keep a process alive on their own.
    (timer as any).unref?.();
    this.delayed.set(item, { at, timer });
  }

  /** Adds the item after the rate limiter says it may be retried (per-item backoff, overall bucket). */
  addRateLimited(item: K): void {
    this.addAfter(item, this.rateLimiter.when(item));
  }

  /** Resets the item's backoff (call after a successful sync). */
  forget(item: K): void {
    this.rateLimiter.forget(item);
  }

  numRequeues(item: K): number {
    return this.rateLimiter.numRequeues(item);
  }

  /** Stops handing out new work; waiting get() calls return undefined. Items already queued are still drained. */
  shutDown(): void {
    if (this.shutdown) return;
    this.shutdown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w(undefined);
  }

  /** Shuts down and resolves when no item is being processed. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.drained = resolve));
  }

  /**
   * Runs n workers calling sync(key) until the queue shuts down (or the signal aborts).
   * Success forgets the key's backoff; an error requeues it rate-limited, as upstream controllers do.
   */
  async runWorkers(n: number, sync: (item: K) => Promise<void>, signal?: AbortSignal): Promise<void> {
    if (signal) {
      if (signal.aborted) this.shutDown();
      else signal.addEventListener("abort", () => this.shutDown(), { once: true });
    }
    const worker = async () => {
      while (true) {
        const item = await this.get();
        if (item === undefined) return;
        try {
          await sync(item);
          this.forget(item);
        } catch (e) {
          this.log.warn("sync failed, requeued", { item: String(item), error: e as Error, requeues: this.numRequeues(item) });
          this.addRateLimited(item);
        } finally {
          this.done(item);
        }
      }
    };
    await Promise.all(Array.from({ length: n }, worker));
  }
}
