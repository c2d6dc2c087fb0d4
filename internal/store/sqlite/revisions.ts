// The global revision counter. Volatile writes have no row to take an id from, so revisions come from memory and
// durable rows are inserted with an explicit id. Inside the write transaction (which holds SQLite's write lock) the
// next revision is max(counter, max(id)) + 1, so writers in other processes never collide on a durable id.
//
// Volatile revisions are not in the file, yet must never be handed out again after a restart or crash. A persisted
// floor (a row in kine_meta) stays above every volatile revision handed out: when a volatile write would pass it,
// the same transaction raises it by FLOOR_STEP — one small write per ~10^6 volatile writes (weeks of Lease renewals),
// and it is durable before the write that needed it is acknowledged. On open the counter starts at
// max(max(id), floor), so revisions after a restart are greater than any revision handed out before it.
import type { Queries } from "./queries.ts";

const FLOOR = "revision_floor";
export const FLOOR_STEP = 1_000_000;

export class Revisions {
  /** Highest revision handed out or seen in the database. */
  current: number;
  /** Persisted floor: no volatile revision above it has been handed out. */
  floor: number;

  constructor(
    private q: Queries,
    private step = FLOOR_STEP,
  ) {
    this.floor = this.persistedFloor();
    this.current = Math.max(q.currentRevision.get()?.seq ?? 0, this.floor);
  }

  private persistedFloor(): number {
    return this.q.getMeta.get({ key: FLOOR })?.value ?? 0;
  }

  /** The next revision. Call inside the write transaction; dbMax = max(id) read under its lock. */
  next(dbMax: number, volatile: boolean): number {
    const rev = Math.max(this.current, dbMax) + 1;
    if (volatile && rev > this.floor) {
      // Another process may have raised it meanwhile: never lower it.
      const persisted = this.persistedFloor();
      if (persisted >= rev) this.floor = persisted;
      else this.reserve(rev + this.step);
    }
    this.current = rev;
    return rev;
  }

  /** Persists floor >= upTo (inside a write transaction). */
  reserve(upTo: number): void {
    if (upTo <= this.floor) return;
    this.floor = upTo;
    this.q.setMeta.run({ key: FLOOR, value: upTo });
  }

  /** A revision seen in the database (written by another process). */
  observe(rev: number): void {
    if (rev > this.current) this.current = rev;
  }

  /** The write transaction rolled back: so did its floor update, if any. */
  rolledBack(): void {
    this.floor = this.persistedFloor();
  }
}
