// A counting semaphore: at most `size` holders at once, the rest wait in order. Bounds the CPU-heavy part of pod
// starts (CNI setup, container starts) while pod workers that only wait (a termination's grace period, a status
// write) are not counted. Deliberately not p-limit or a semaphore package: a dozen lines, and no new dependency
// in the agent binary.
export class Slots {
  private waiting: (() => void)[] = [];
  private busy = 0;

  constructor(readonly size: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.busy < this.size) this.busy++;
    else await new Promise<void>((r) => this.waiting.push(r)); // the slot is handed over, busy unchanged
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.busy--;
    }
  }

  /** Holders right now (tests). */
  get inUse(): number {
    return this.busy;
  }
}
