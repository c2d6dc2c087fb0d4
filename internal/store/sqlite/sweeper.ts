// Expires TTL'd keys (Events): a single timer set for the next due expiry deletes them through the log, so
// watchers see a DELETE. With no TTL'd keys there is no timer at all (no idle wake-ups, no idle writes).
// Reads already treat an expired key as absent, so the sweep's timing only affects when the DELETE is emitted.
import type { Logger } from "../../log/log.ts";
import type { WatchEvent } from "../types.ts";
import type { Queries } from "./queries.ts";
import type { VolatileLog } from "./volatile.ts";
import type { Writer } from "./writer.ts";

const BATCH = 500;
// setTimeout's limit (~24.8 days); longer expiries re-arm when it fires.
const MAX_DELAY = 2 ** 31 - 1;

export class Sweeper {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private due = Infinity;
  private running = false;
  private closed = false;

  constructor(
    private q: Queries,
    private volatile: VolatileLog,
    private writer: Writer,
    private log: Logger,
  ) {}

  /** Looks up the next expiry in the log and among volatile keys, and arms the timer for it. */
  recheck(): void {
    const next = Math.min(this.q.nextExpiry.get()?.expiresAt ?? Infinity, this.volatile.nextExpiry() ?? Infinity);
    this.arm(next, true);
  }

  /** Events just delivered: arm earlier if one carries an earlier expiry. No events = something changed elsewhere. */
  observe(events: WatchEvent[]): void {
    if (events.length === 0) return this.recheck();
    for (const e of events) {
      const at = e.type === "PUT" ? e.kv.expiresAt : undefined;
      if (at !== undefined && at < this.due) this.arm(at, false);
    }
  }

  private arm(at: number, replace: boolean): void {
    if (this.closed || this.running) return;
    if (!replace && at >= this.due) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = at;
    if (at === Infinity) return;
    const delay = Math.min(Math.max(0, at - Date.now()) + 5, MAX_DELAY);
    this.timer = setTimeout(() => void this.sweep(), delay);
    this.timer.unref?.();
  }

  /** Sweeps now, unless a sweep is under way (it re-checks for more when done). */
  async sweepNow(): Promise<void> {
    if (this.closed || this.running) return;
    clearTimeout(this.timer);
    await this.sweep();
  }

  private async sweep(): Promise<void> {
    this.timer = undefined;
    this.due = Infinity;
    this.running = true;
    try {
      for (;;) {
        const n = await this.writer.submit((tx) => {
          const rows = this.q.expired.all({ now: tx.now, limit: BATCH });
          for (const r of rows) tx.del(r);
          for (const r of this.volatile.expired(tx.now)) {
            // Re-read through the transaction: an earlier write of the batch may have changed the key.
            const cur = tx.latest(r.name);
            if (cur && !cur.deleted && tx.isExpired(cur)) tx.del(cur);
          }
          return rows.length;
        });
        if (n > 0) this.log.debug("expired keys deleted", { count: n });
        if (n < BATCH || this.closed) break;
      }
    } catch (e) {
      if (!this.closed) this.log.warn("ttl sweep failed", { error: e });
    } finally {
      this.running = false;
    }
    if (!this.closed) this.recheck();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
