// A store watch over an etcd watcher: each etcd watch response becomes one batch. The etcd3 client resumes a
// broken stream from the last revision it saw, so batches stay gap-free across reconnects.
import type { Etcd3, Watcher as EtcdWatcher } from "etcd3";
import { prefixEnd } from "../keys.ts";
import { CompactedError, StoreError, type WatchEvent } from "../types.ts";
import { PendingBatches } from "../pending.ts";
import { enc, toEvent } from "./convert.ts";

const MAX_QUEUED = 10_000;

export class EtcdWatch implements AsyncIterable<WatchEvent[]> {
  private pending = new PendingBatches();
  private error: Error | undefined;
  private done = false;
  private watcher: Promise<EtcdWatcher | undefined>;

  constructor(
    client: Etcd3,
    prefix: string,
    afterRevision: number | undefined,
    /** Throws CompactedError if afterRevision is older than retained history. */
    precheck: (afterRevision: number) => Promise<void>,
    signal?: AbortSignal,
  ) {
    signal?.addEventListener("abort", () => this.stop(), { once: true });
    this.watcher = this.start(client, prefix, afterRevision, precheck).catch((e) => {
      this.fail(e);
      return undefined;
    });
  }

  private async start(
    client: Etcd3,
    prefix: string,
    afterRevision: number | undefined,
    precheck: (afterRevision: number) => Promise<void>,
  ): Promise<EtcdWatcher | undefined> {
    if (afterRevision && afterRevision > 0) await precheck(afterRevision);
    if (this.done) return undefined;
    let b = client.watch().withPreviousKV().inRange({ start: enc(prefix), end: enc(prefixEnd(prefix)) });
    if (afterRevision && afterRevision > 0) b = b.startRevision(String(afterRevision + 1));
    const w = await b.create();
    w.on("data", (res) => {
      if (res.events.length === 0 || this.error) return;
      this.pending.push(res.events.map(toEvent));
      // A consumer this far behind would hold unbounded memory: end the watch, the client re-watches from its
      // last revision (the SQLite backend instead re-reads its log; etcd's client offers no pause).
      if (this.pending.size > MAX_QUEUED) this.fail(new StoreError(`watch on ${prefix} fell more than ${MAX_QUEUED} events behind`));
      this.notify();
    });
    w.on("error", (e: Error) => {
      // etcd cancels a watch whose start revision was compacted (often with an empty reason).
      const compacted = /compact|canceled: $/.test(e.message);
      this.fail(compacted ? new CompactedError(afterRevision ?? 0, afterRevision ?? 0) : new StoreError(e.message));
    });
    if (this.done) void w.cancel();
    return w;
  }

  private fail(e: Error): void {
    this.error ??= e;
    this.notify();
  }

  private notify(): void {
    this.pending.notify();
  }

  private stop(): void {
    this.done = true;
    this.notify();
    void this.watcher.then((w) => w?.cancel()).catch(() => {});
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent[]> {
    try {
      while (!this.done) {
        const batch = this.pending.take();
        if (batch) {
          yield batch;
          continue;
        }
        if (this.error) throw this.error;
        await this.pending.wait();
      }
    } finally {
      this.stop();
    }
  }
}
