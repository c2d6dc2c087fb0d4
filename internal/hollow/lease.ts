// A node's Lease controller, as upstream's (k8s.io/component-helpers/apimachinery/lease controller): each pass
// renews from the Lease it last wrote, retrying a failed renewal at once a few times, and falls back to ensuring
// the Lease (get, else create) with backoff. One per hollow node.

import type { Lease } from "kubernetes-types/coordination/v1";
import { sleep } from "../client/informer.ts";
import { ApiError, type ResourceClient } from "../client/types.ts";
import type { Logger } from "../log/log.ts";
import { leaseObject, microTime } from "./objects.ts";

/** Upstream maxUpdateRetries: immediate renewals per pass before waiting for the next period. */
export const LEASE_UPDATE_RETRIES = 5;
/** Upstream maxBackoff of backoffEnsureLease (the wait starts at 200 ms and doubles). */
const MAX_BACKOFF_MS = 7000;

export class NodeLease {
  /** The Lease as last written or read by this node; renewals start from it (no GET per renewal). */
  lease?: Lease;

  constructor(
    private name: string,
    private leases: () => ResourceClient<Lease>,
    private durationSeconds: number,
    private log: Logger,
    /** True once the node is stopped: no more calls. */
    private stopped: () => boolean = () => false,
  ) {}

  /**
   * One pass (upstream sync). A Lease can vanish at any time — a single server keeps Leases in memory only, so they
   * are gone after a restart — and a node must recreate it on the next pass, whatever the previous one failed with.
   */
  async sync(signal: AbortSignal): Promise<void> {
    if (this.lease) {
      try {
        await this.retryUpdate(this.lease, signal);
        return;
      } catch (e) {
        this.log.debug("lease update failed, ensuring the lease", { node: this.name, error: e as Error });
      }
    }
    const { lease, created } = await this.backoffEnsure(signal);
    this.lease = lease;
    if (lease && !created) await this.retryUpdate(lease, signal);
  }

  /**
   * Up to LEASE_UPDATE_RETRIES renewals in a row (upstream retryUpdateLease), so one failed call costs a round trip,
   * not a whole period. A conflict re-reads the Lease; a 404 stops at once, as only re-creating it can help
   * (upstream spends its remaining retries first, then does the same).
   */
  private async retryUpdate(base: Lease, signal: AbortSignal): Promise<void> {
    let last: unknown;
    for (let i = 0; i < LEASE_UPDATE_RETRIES && !signal.aborted && !this.stopped(); i++) {
      try {
        const spec = { ...base.spec, holderIdentity: this.name, leaseDurationSeconds: this.durationSeconds, renewTime: microTime() };
        this.lease = await this.leases().update({ ...base, spec });
        return;
      } catch (e) {
        last = e;
        if (e instanceof ApiError && e.code === 404) break;
        if (e instanceof ApiError && e.code === 409) {
          const { lease } = await this.backoffEnsure(signal);
          if (lease) base = lease;
        }
      }
    }
    this.lease = undefined;
    throw last ?? new Error(`lease ${this.name} not renewed`);
  }

  /** Get the Lease, else create it; retried with exponential backoff until it works or the node stops. */
  private async backoffEnsure(signal: AbortSignal): Promise<{ lease?: Lease; created: boolean }> {
    let wait = 100;
    while (!signal.aborted && !this.stopped()) {
      const leases = this.leases();
      try {
        try {
          return { lease: await leases.get(this.name), created: false };
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
          return { lease: await leases.create(leaseObject(this.name, this.durationSeconds)), created: true };
        }
      } catch (e) {
        wait = Math.min(wait * 2, MAX_BACKOFF_MS);
        this.log.debug("ensuring lease failed, retrying", { node: this.name, waitMs: wait, error: e as Error });
        await sleep(wait, signal);
      }
    }
    return { created: false };
  }
}
