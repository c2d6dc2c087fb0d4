// Event-loop stall watcher for the hollow kubelets: 1,000 nodes share one JS thread, so anything that holds it (a
// garbage collection, a large JSON parse, the machine's run queue) delays every node's heartbeat timer at once. A
// short interval timer measures how late it fires; stalls are kept (bounded) so a late Lease renewal can say whether
// the thread was held meanwhile, and whether the JS heap shrank across the stall (a collection ran in it).
import { heapSize } from "bun:jsc";

export interface Stall {
  /** performance.now() when the stall ended (the late tick ran). */
  end: number;
  /** How much later than due the tick ran. */
  ms: number;
  /** JS heap bytes just before and just after the stall. */
  heapBefore: number;
  heapAfter: number;
}

const TICK_MS = 50;
const KEEP = 256;

export class LoopWatch {
  stalls: Stall[] = [];
  /** The longest stall seen. */
  worst?: Stall;
  private timer?: ReturnType<typeof setInterval>;

  /** Stalls shorter than minMs are not kept; onStall is called for those at least reportMs long. */
  constructor(
    private minMs = 100,
    private reportMs = 500,
    private onStall?: (s: Stall) => void,
  ) {}

  start(): void {
    let last = performance.now();
    let heap = heapSize();
    this.timer = setInterval(() => {
      const now = performance.now();
      const ms = now - last - TICK_MS;
      const heapAfter = heapSize();
      if (ms >= this.minMs) {
        const s: Stall = { end: now, ms, heapBefore: heap, heapAfter };
        this.stalls.push(s);
        if (this.stalls.length > KEEP) this.stalls.shift();
        if (!this.worst || ms > this.worst.ms) this.worst = s;
        if (ms >= this.reportMs) this.onStall?.(s);
      }
      last = now;
      heap = heapAfter;
    }, TICK_MS);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The longest stall that ended in (from, to], in ms (0 when none). */
  worstBetween(from: number, to: number): number {
    let worst = 0;
    for (let i = this.stalls.length - 1; i >= 0; i--) {
      const s = this.stalls[i]!;
      if (s.end <= from) break;
      if (s.end <= to) worst = Math.max(worst, s.ms);
    }
    return worst;
  }
}
