// Rate limiters for the work queue, as upstream client-go's workqueue: per-item exponential backoff
// combined (max) with an overall token bucket.

export interface RateLimiter<K> {
  /** Milliseconds to wait before the item may be processed again. */
  when(item: K): number;
  forget(item: K): void;
  numRequeues(item: K): number;
}

/** base * 2^failures, capped at max (upstream ItemExponentialFailureRateLimiter). */
export class ItemExponentialRateLimiter<K> implements RateLimiter<K> {
  private failures = new Map<K, number>();
  constructor(
    private baseMs: number,
    private maxMs: number,
  ) {}
  when(item: K): number {
    const n = this.failures.get(item) ?? 0;
    this.failures.set(item, n + 1);
    const d = this.baseMs * Math.pow(2, n);
    return d > this.maxMs || !Number.isFinite(d) ? this.maxMs : d;
  }
  forget(item: K): void {
    this.failures.delete(item);
  }
  numRequeues(item: K): number {
    return this.failures.get(item) ?? 0;
  }
}

/** Token bucket shared by all items (upstream BucketRateLimiter over golang.org/x/time/rate). */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  private tokens: number;
  private last = performance.now();
  constructor(
    private qps: number,
    private burst: number,
  ) {
    this.tokens = burst;
  }
  when(_item: K): number {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    // Reserve a token now; a negative balance is the wait until it exists (as rate.Limiter.Reserve).
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }
  forget(_item: K): void {}
  numRequeues(_item: K): number {
    return 0;
  }
}

/** The slowest of several limiters (upstream MaxOfRateLimiter). */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  private limiters: RateLimiter<K>[];
  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = limiters;
  }
  when(item: K): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.when(item));
    return max;
  }
  forget(item: K): void {
    for (const l of this.limiters) l.forget(item);
  }
  numRequeues(item: K): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.numRequeues(item));
    return max;
  }
}

/** Upstream DefaultControllerRateLimiter: 5 ms → 1000 s per item, 10 qps / 100 burst overall. */
export function defaultControllerRateLimiter<K>(): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(new ItemExponentialRateLimiter<K>(5, 1000_000), new BucketRateLimiter<K>(10, 100));
}
