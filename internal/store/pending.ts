// What a watch has received but its consumer has not read yet, plus the consumer's wake-up: shared by the SQLite
// and etcd watches, which differ in where events come from and what they do when a consumer falls behind.
import type { WatchEvent } from "./types.ts";

export class PendingBatches {
  private batches: WatchEvent[][] = [];
  private wake: (() => void) | undefined;
  /** Events held, for the backends' bound on a slow consumer. */
  size = 0;

  push(batch: WatchEvent[]): void {
    this.batches.push(batch);
    this.size += batch.length;
  }

  /** Everything held as one batch (in order), emptying the queue; undefined when nothing is held. */
  take(): WatchEvent[] | undefined {
    if (this.batches.length === 0) return undefined;
    const batches = this.batches;
    this.batches = [];
    this.size = 0;
    return batches.length === 1 ? batches[0]! : batches.flat();
  }

  /** Wakes the consumer waiting in wait(), if any. */
  notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves at the next notify(). */
  wait(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }
}
