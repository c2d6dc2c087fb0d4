// One priority level's seats and queues: upstream's fair queuing for server requests, in a simplified form
// (k8s.io/apiserver pkg/util/flowcontrol/fairqueuing/queueset). What is kept: a fixed number of seats (the level's
// concurrency limit), `queues` FIFO queues, shuffle sharding (each flow is dealt a hand of `handSize` queues from a
// hash of its FlowSchema and distinguisher, and a request joins the shortest queue of its hand), `queueLengthLimit`,
// a bounded wait in queue, and dispatch that favours the queue with the fewest requests executing (so a flow whose
// requests hold seats long — slow bodies — is served less often, the effect of upstream's virtual-time accounting).
// What is simplified: every request occupies one seat (no work estimation of lists/watches), and the next queue is
// chosen by executing count with round-robin ties rather than by virtual finish time.
import { StatusError } from "../../api/status.ts";

export const TOO_MANY = "Too many requests, please try again later.";

/** Why a request was refused, as upstream's apiserver_flowcontrol_rejected_requests_total "reason" label. */
export type RejectReason = "queue-full" | "time-out" | "concurrency-limit";

/** Upstream's 429 TooManyRequests with Retry-After, knowing why. */
export class RejectedError extends StatusError {
  constructor(readonly why: RejectReason) {
    super(429, "TooManyRequests", TOO_MANY, { retryAfterSeconds: 1 }, { "Retry-After": "1" });
  }
}

export interface LevelConfig {
  /** Seats; Infinity for exempt levels. */
  concurrencyLimit: number;
  /** undefined: the level rejects instead of queuing (limitResponse.type Reject). */
  queuing?: { queues: number; handSize: number; queueLengthLimit: number };
}

interface Waiter {
  flowHash: bigint;
  queue: Queue;
  resolve(release: () => void): void;
  reject(err: unknown): void;
  timer?: Timer;
}

interface Queue {
  index: number;
  waiting: Waiter[];
  executing: number;
}

/**
 * Seats and queues of one priority level. Queues exist only while they hold or run requests (a level may declare up
 * to 10^7 of them; memory follows the active flows, not the configuration).
 */
export class QueueSet {
  private executing = 0;
  /** Requests waiting in all queues (kept, not counted, since every request asks). */
  private nWaiting = 0;
  private nQueues = 0;
  private queues = new Map<number, Queue>();
  /** Queues with requests waiting, the only ones dispatch looks at. */
  private backlogged = new Set<Queue>();
  /** Round-robin position among equally loaded queues. */
  private rr = 0;

  constructor(
    private cfg: LevelConfig,
    private queueWaitMs: number,
  ) {
    this.setConfig(cfg);
  }

  get inUse(): number {
    return this.executing;
  }

  get waiting(): number {
    return this.nWaiting;
  }

  get config(): LevelConfig {
    return this.cfg;
  }

  /** A new limit or queue shape: waiting requests move to the queues their flow is now dealt. */
  setConfig(cfg: LevelConfig): void {
    const n = cfg.queuing?.queues ?? 0;
    const sameShape = n > 0 && n === this.nQueues && cfg.queuing?.handSize === this.cfg.queuing?.handSize;
    this.cfg = cfg;
    if (!sameShape) {
      const old = [...this.backlogged].flatMap((q) => q.waiting);
      this.nQueues = n;
      this.queues = new Map();
      this.backlogged.clear();
      this.rr = 0;
      for (const w of old) {
        if (!n) {
          this.nWaiting--;
          clearTimeout(w.timer);
          w.reject(new RejectedError("concurrency-limit"));
          continue;
        }
        w.queue = this.queue(this.chooseQueue(w.flowHash));
        w.queue.waiting.push(w);
        this.backlogged.add(w.queue);
      }
    }
    this.dispatch();
  }

  /**
   * Waits for a seat. Resolves with the function that gives it back; rejects with 429 when the level rejects,
   * the flow's queues are full, or the wait in queue times out.
   */
  acquire(flowHash: bigint): Promise<() => void> {
    if (this.executing < this.cfg.concurrencyLimit && this.nWaiting === 0) {
      return Promise.resolve(this.start(this.nQueues ? this.queue(this.chooseQueue(flowHash)) : undefined));
    }
    const qc = this.cfg.queuing;
    if (!qc || !this.nQueues) return Promise.reject(new RejectedError("concurrency-limit"));
    const queue = this.queue(this.chooseQueue(flowHash));
    if (queue.waiting.length >= qc.queueLengthLimit) {
      this.forget(queue);
      return Promise.reject(new RejectedError("queue-full"));
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { flowHash, queue, resolve, reject };
      w.timer = setTimeout(() => {
        const q = w.queue;
        const i = q.waiting.indexOf(w);
        if (i >= 0) {
          q.waiting.splice(i, 1);
          this.nWaiting--;
          if (!q.waiting.length) this.backlogged.delete(q);
          this.forget(q);
        }
        reject(new RejectedError("time-out"));
      }, this.queueWaitMs);
      queue.waiting.push(w);
      this.backlogged.add(queue);
      this.nWaiting++;
    });
  }

  /** Queue number i, created on first use. */
  private queue(i: number): Queue {
    let q = this.queues.get(i);
    if (!q) this.queues.set(i, (q = { index: i, waiting: [], executing: 0 }));
    return q;
  }

  /** Drops a queue that holds and runs nothing (it is recreated, empty, when dealt again). */
  private forget(q: Queue): void {
    if (!q.waiting.length && q.executing === 0 && this.queues.get(q.index) === q) this.queues.delete(q.index);
  }

  private start(q: Queue | undefined): () => void {
    this.executing++;
    if (q) q.executing++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.executing--;
      if (q) {
        q.executing--;
        this.forget(q);
      }
      this.dispatch();
    };
  }

  /** Hands free seats to waiting requests, fewest-executing queue first (round-robin among equals). */
  private dispatch(): void {
    while (this.nWaiting > 0 && this.executing < this.cfg.concurrencyLimit) {
      let best: Queue | undefined;
      let bestDistance = Infinity;
      const n = this.nQueues;
      for (const q of this.backlogged) {
        const distance = (q.index - this.rr + n) % n;
        if (!best || q.executing < best.executing || (q.executing === best.executing && distance < bestDistance)) {
          best = q;
          bestDistance = distance;
        }
      }
      if (!best) return;
      this.rr = (best.index + 1) % n;
      const w = best.waiting.shift()!;
      this.nWaiting--;
      if (!best.waiting.length) this.backlogged.delete(best);
      clearTimeout(w.timer);
      w.resolve(this.start(best));
    }
  }

  /** Shuffle sharding: deal handSize distinct queues from the hash, pick the one with the least work. */
  private chooseQueue(hash: bigint): number {
    const n = this.nQueues;
    const hand = Math.min(this.cfg.queuing?.handSize ?? 1, n);
    const dealt: number[] = [];
    let best = -1;
    let bestLoad = Infinity;
    let h = hash;
    for (let i = 0; i < hand; i++) {
      const span = BigInt(n - i);
      // The r-th queue not dealt yet (dealt is kept sorted).
      let card = Number(h % span);
      h /= span;
      for (const d of dealt) if (card >= d) card++;
      dealt.splice(sortedIndex(dealt, card), 0, card);
      const q = this.queues.get(card);
      const load = q ? q.waiting.length + q.executing : 0;
      if (load < bestLoad) {
        bestLoad = load;
        best = card;
      }
    }
    return best;
  }
}

function sortedIndex(list: number[], v: number): number {
  let i = 0;
  while (i < list.length && list[i]! < v) i++;
  return i;
}

/** 64-bit hash of a flow (FlowSchema name + distinguisher), the input of shuffle sharding. */
export function flowHash(schema: string, distinguisher: string): bigint {
  return BigInt.asUintN(64, BigInt(Bun.hash(`${schema}\u0000${distinguisher}`)));
}
