// Compaction keeps the log bounded: history older than `retainRevisions` revisions or `retainMs` is dropped
// (live values always stay). The watermark (compact revision) is recorded first, then superseded rows and
// tombstones at or below it are deleted in small transactions, yielding to writers between them.
// Disk-wear rule: a pass that would delete nothing writes nothing — an idle store never touches the disk.
// Volatile history (volatile.ts) is compacted to the same target by every pass, in memory; the store's compact
// revision is the higher of the two watermarks (store.ts).
import type { Database } from "bun:sqlite";
import type { Logger } from "../../log/log.ts";
import { StoreError } from "../types.ts";
import { type Queries, changes } from "./queries.ts";

export interface CompactionOptions {
  /** Keep at most this many revisions of history (default 1000). */
  retainRevisions?: number;
  /** Keep at most this much history by age, ms (default 5 min). */
  retainMs?: number;
  /** How often the background pass looks, ms (default: min(retainMs / 5, 60 s)). */
  intervalMs?: number;
  /** Revisions (log rows) deleted per transaction (default 500). */
  batchRevisions?: number;
}

const WATERMARK = "compact_revision";
const DONE = "compacted_through";

export class Compactor {
  private retainRevisions: number;
  private retainMs: number;
  private batch: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** (revision, time) samples: revision r was current at time t, to find the revision at (now - retainMs). */
  private samples: { rev: number; t: number }[] = [];
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private db: Database,
    private q: Queries,
    private currentRevision: () => number,
    private log: Logger,
    opts: CompactionOptions = {},
    /** Compacts the in-memory (volatile) history to the same target. */
    private compactMemory: (revision: number) => void = () => {},
  ) {
    this.retainRevisions = opts.retainRevisions ?? 1000;
    this.retainMs = opts.retainMs ?? 5 * 60_000;
    this.batch = opts.batchRevisions ?? 500;
    const interval = opts.intervalMs ?? Math.min(this.retainMs / 5, 60_000);
    this.timer = setInterval(() => void this.tick(), Math.max(10, interval));
    this.timer.unref?.();
    // Finish a pass that a crash interrupted.
    if (this.meta(DONE) < this.watermark()) this.running = this.deleteRows(this.watermark()).finally(() => (this.running = undefined));
  }

  private meta(key: string): number {
    return this.q.getMeta.get({ key })?.value ?? 0;
  }

  watermark(): number {
    return this.meta(WATERMARK);
  }

  /** Background pass: compact to the retention target, if that deletes anything. */
  async tick(): Promise<void> {
    if (this.closed || this.running) return;
    const now = Date.now();
    const rev = this.currentRevision();
    this.samples.push({ rev, t: now });
    const cutoff = now - this.retainMs;
    // Newest sample taken before the cutoff: everything up to its revision is older than retainMs.
    let old: { rev: number; t: number } | undefined;
    while (this.samples.length > 0 && this.samples[0]!.t <= cutoff) old = this.samples.shift();
    if (old) this.samples.unshift(old);
    const byAge = old?.rev ?? 0;
    const target = Math.min(rev, Math.max(rev - this.retainRevisions, byAge));
    this.compactMemory(target);
    const done = this.meta(DONE);
    if (target <= this.watermark() || target <= done) return;
    if (!this.q.compactable.get({ from: done, to: target })) return;
    await this.compact(target);
  }

  /** Drops history at or below revision. */
  async compact(revision: number): Promise<void> {
    const current = this.currentRevision();
    if (revision > current) throw new StoreError(`cannot compact to revision ${revision}: current revision is ${current}`);
    while (this.running) await this.running;
    if (revision <= this.watermark()) return;
    // Readers check the watermark, so it is written (durably) before any row goes.
    this.db.transaction(() => this.q.setMeta.run({ key: WATERMARK, value: revision })).immediate();
    this.running = this.deleteRows(revision).finally(() => (this.running = undefined));
    await this.running;
  }

  private async deleteRows(revision: number): Promise<void> {
    let from = this.meta(DONE);
    let deleted = 0;
    while (from < revision && !this.closed) {
      const to = Math.min(revision, from + this.batch);
      // Skip (without writing) id ranges that hold nothing to delete.
      if (!this.q.compactable.get({ from, to })) {
        from = to;
        continue;
      }
      this.db
        .transaction(() => {
          deleted += changes(this.q.deleteSuperseded.run({ from, to })).changes;
          deleted += changes(this.q.deleteTombstones.run({ from, to })).changes;
          this.q.setMeta.run({ key: DONE, value: to });
        })
        .immediate();
      from = to;
      // Let queued writes commit between batches.
      await new Promise((r) => setImmediate(r));
    }
    this.log.debug("compacted", { revision, rowsDeleted: deleted });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
  }
}
