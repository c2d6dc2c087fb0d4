// A node's Lease controller, as upstream's (k8s.io/component-helpers/apimachinery/lease controller, run by the
// kubelet's pkg/kubelet/nodelease): every renewInterval (jittered by up to 4 %, timed from the end of the previous
// pass: wait.JitterUntil(sync, renewInterval, 0.04, sliding)) it renews from the Lease it last wrote, retrying a
// failed renewal at once a few times, and falls back to ensuring the Lease (get, else create) with backoff. Its
// calls go through a client with a per-call timeout (upstream's heartbeat client: min(nodeStatusUpdateFrequency,
// lease duration)), so a server that stops answering costs one timeout, never the node's Lease.
// Used by the real kubelet (internal/kubelet/node.ts) and by every hollow node (internal/hollow).

import type { Lease } from "kubernetes-types/coordination/v1";
import { sleep } from "../client/informer.ts";
import { ApiError, type ResourceClient } from "../client/types.ts";
import type { Logger } from "../log/log.ts";

/** Upstream maxUpdateRetries: immediate renewals per pass before waiting for the next period. */
export const LEASE_UPDATE_RETRIES = 5;
/** Upstream maxBackoff of backoffEnsureLease (the wait starts at 200 ms and doubles). */
const MAX_BACKOFF_MS = 7000;
/** wait.JitterUntil's factor for the lease loop. */
export const LEASE_JITTER = 0.04;
/** The kubelet's renewInterval (nodeLeaseDurationSeconds 40 × renewIntervalFraction 0.25). */
export const RENEW_INTERVAL_MS = 10_000;

/**
 * The kubelet's heartbeat client timeout: nodeStatusUpdateFrequency (10 s), capped at the lease duration
 * (upstream cmd/kubelet/app/server.go, heartbeatClientConfig.Timeout).
 */
export function heartbeatTimeoutMs(statusUpdateMs: number, leaseDurationSeconds: number): number {
  return Math.min(statusUpdateMs, leaseDurationSeconds * 1000);
}

/** renewTime: RFC 3339 with microseconds (metav1.MicroTime). */
export function microTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export interface NodeLeaseOptions {
  /** The node's name: the Lease's name and holderIdentity. */
  name: string;
  /** kube-node-lease's Lease API, through the heartbeat client. */
  leases: () => ResourceClient<Lease>;
  durationSeconds: number;
  log: Logger;
  /** True once the node is stopped: no more calls. */
  stopped?: () => boolean;
  /** The Lease to create (upstream newLease + newLeasePostProcessFunc, e.g. the Node as owner); default bare. */
  newLease?: () => Lease;
}

export interface RunOptions {
  renewIntervalMs?: number;
  /** First pass at once (a restarted node), else one jittered period after start. */
  syncNow?: boolean;
  /** The longest stall of the caller's event loop between two instants (performance.now()), for the late-renewal log. */
  stallBetween?: (from: number, to: number) => number;
}

export class NodeLease {
  /** The Lease as last written or read by this node; renewals start from it (no GET per renewal). */
  lease?: Lease;
  /** performance.now() when the last accepted renewal stamped its renewTime, and when the server answered it. */
  stampedAt = 0;
  answeredAt = 0;
  /** Renewals whose renewTime came later than one interval + 1 s after the previous one. */
  late = 0;

  private name: string;
  private stopped: () => boolean;

  constructor(private o: NodeLeaseOptions) {
    this.name = o.name;
    this.stopped = o.stopped ?? (() => false);
  }

  /**
   * Renews until the signal aborts: a pass, then a jittered interval timed from the pass's end (upstream sliding
   * JitterUntil). A renewal later than interval + 1 s is logged with where its time went.
   */
  async run(signal: AbortSignal, ro: RunOptions = {}): Promise<void> {
    const every = ro.renewIntervalMs ?? RENEW_INTERVAL_MS;
    let sleepMs = ro.syncNow ? 0 : jitter(every);
    let failing = false;
    while (!signal.aborted && !this.stopped()) {
      const setAt = performance.now();
      await sleep(sleepMs, signal);
      if (signal.aborted || this.stopped()) return;
      const fired = performance.now();
      const prev = { stamped: this.stampedAt, answered: this.answeredAt };
      try {
        await this.sync(signal);
        failing = false;
      } catch (e) {
        // Once per run of failures: a server away for a while must not flood the log (every pass retries anyway).
        if (!failing) this.o.log.warn("lease renewal failed; retrying every interval", { node: this.name, error: e as Error });
        failing = true;
      }
      const stamped = this.stampedAt;
      if (prev.stamped && stamped > prev.stamped && stamped - prev.stamped > every + 1000) {
        this.late++;
        // renewTime gap = the previous call + the sleep + the timer's lateness + what came before this stamp
        // (retries, failovers): each part says where a late renewal lost its time.
        this.o.log.warn("node lease renewed late", {
          node: this.name,
          gapMs: Math.round(stamped - prev.stamped),
          prevCallMs: Math.round(prev.answered - prev.stamped),
          sleepMs: Math.round(sleepMs),
          timerLateMs: Math.round(fired - setAt - sleepMs),
          beforeStampMs: Math.round(stamped - fired),
          ...(ro.stallBetween ? { loopStallMs: Math.round(ro.stallBetween(prev.stamped, stamped)) } : {}),
        });
      }
      sleepMs = jitter(every);
    }
  }

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
        this.o.log.debug("lease update failed, ensuring the lease", { node: this.name, error: e as Error });
      }
    }
    const { lease, created } = await this.backoffEnsure(signal);
    this.lease = lease;
    if (lease && created) this.stampedAt = this.answeredAt = performance.now();
    if (lease && !created) await this.retryUpdate(lease, signal);
  }

  /**
   * Up to LEASE_UPDATE_RETRIES renewals in a row (upstream retryUpdateLease), so one failed call costs a round trip,
   * not a whole period. A conflict re-reads the Lease; a 404 stops at once, as only re-creating it can help
   * (upstream spends its remaining retries first, then does the same). Each try stamps a fresh renewTime.
   */
  private async retryUpdate(base: Lease, signal: AbortSignal): Promise<void> {
    let last: unknown;
    for (let i = 0; i < LEASE_UPDATE_RETRIES && !signal.aborted && !this.stopped(); i++) {
      try {
        const stamped = performance.now();
        const spec = { ...base.spec, holderIdentity: this.name, leaseDurationSeconds: this.o.durationSeconds, renewTime: microTime() };
        this.lease = await this.o.leases().update({ ...base, spec });
        this.stampedAt = stamped;
        this.answeredAt = performance.now();
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
      const leases = this.o.leases();
      try {
        try {
          return { lease: await leases.get(this.name), created: false };
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
          return { lease: await leases.create(this.o.newLease?.() ?? bareLease(this.name, this.o.durationSeconds)), created: true };
        }
      } catch (e) {
        wait = Math.min(wait * 2, MAX_BACKOFF_MS);
        this.o.log.debug("ensuring lease failed, retrying", { node: this.name, waitMs: wait, error: e as Error });
        await sleep(wait, signal);
      }
    }
    return { created: false };
  }
}

/** A period jittered up by to LEASE_JITTER (wait.Jitter). */
export function jitter(ms: number, factor = LEASE_JITTER): number {
  return ms * (1 + factor * Math.random());
}

/** A node's Lease in kube-node-lease, renewed now. */
export function bareLease(name: string, durationSeconds: number): Lease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name, namespace: "kube-node-lease" },
    spec: { holderIdentity: name, leaseDurationSeconds: durationSeconds, renewTime: microTime() },
  };
}
