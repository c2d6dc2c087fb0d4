// One process's API calls for all its hollow kubelets, with heartbeats first. Upstream's kubemark runs each hollow
// kubelet as its own process with its own connection, so one node's status report never holds another's Lease
// renewal; here 1,000 nodes share one fetch client, which keeps at most 64 idle keep-alive connections and opens at
// most 256 at once (Bun 1.4, measured): when the server slows down, calls beyond 64 open new TLS connections to the
// busy server and calls beyond 256 wait in fetch's own queue, in no order — bench:scale saw Lease renewals wait up to
// 6 s there behind the 5-minute NodeStatus wave (1,000 reports in 9 s). So calls wait here instead, in two classes:
// bulk work (node status reports, pod status, registration) gets at most BULK_MAX in flight, heartbeats (Lease
// renewals) may use the rest up to TOTAL_MAX, below fetch's keep-alive pool, and a freed slot goes to a waiting
// heartbeat first.
import type { Client } from "../client/client.ts";
import type { ResourceClient, ResourceRef } from "../client/types.ts";

export const TOTAL_MAX = 56;
export const BULK_MAX = 32;

export type CallClass = "heartbeat" | "bulk";

export class CallLimiter {
  private inflight = { heartbeat: 0, bulk: 0 };
  private waiting: Record<CallClass, (() => void)[]> = { heartbeat: [], bulk: [] };

  constructor(
    private totalMax = TOTAL_MAX,
    private bulkMax = BULK_MAX,
  ) {}

  /** Calls in flight and waiting, per class. */
  stats(): { inflight: Record<CallClass, number>; waiting: Record<CallClass, number> } {
    return { inflight: { ...this.inflight }, waiting: { heartbeat: this.waiting.heartbeat.length, bulk: this.waiting.bulk.length } };
  }

  async run<R>(cls: CallClass, call: () => Promise<R>): Promise<R> {
    // A waiter is counted in flight by whoever hands it the slot, so no newcomer can take that slot meanwhile.
    if (this.mayStart(cls)) this.inflight[cls]++;
    else await new Promise<void>((r) => this.waiting[cls].push(r));
    try {
      return await call();
    } finally {
      this.inflight[cls]--;
      this.wake();
    }
  }

  private mayStart(cls: CallClass): boolean {
    if (this.inflight.heartbeat + this.inflight.bulk >= this.totalMax) return false;
    return cls === "heartbeat" || this.inflight.bulk < this.bulkMax;
  }

  /** Hands free slots to waiters, heartbeats first. */
  private wake(): void {
    for (const cls of ["heartbeat", "bulk"] as const) {
      while (this.waiting[cls].length && this.mayStart(cls)) {
        this.inflight[cls]++;
        this.waiting[cls].shift()!();
      }
    }
  }
}

/** `client` with its calls (not its watches or streams) taken through the limiter as `cls`. */
export function limitedClient(client: Client, limiter: CallLimiter, cls: CallClass): Client {
  const run = <R>(f: () => Promise<R>) => limiter.run(cls, f);
  return {
    config: client.config,
    request: (method, path, body, headers) => run(() => client.request(method, path, body, headers)),
    stream: client.stream,
    resource<T = any>(ref: ResourceRef, namespace?: string): ResourceClient<T> {
      const r = client.resource<T>(ref, namespace);
      return {
        get: (name) => run(() => r.get(name)),
        list: (opts) => run(() => r.list(opts)),
        create: (obj, opts) => run(() => r.create(obj, opts)),
        update: (obj, opts) => run(() => r.update(obj, opts)),
        updateStatus: (obj) => run(() => r.updateStatus(obj)),
        patch: (name, type, patch, opts) => run(() => r.patch(name, type, patch, opts)),
        delete: (name, opts) => run(() => r.delete(name, opts)),
        watch: (opts) => r.watch(opts),
        createSubresource: (name, sub, body) => run(() => r.createSubresource(name, sub, body)),
      };
    },
  };
}
