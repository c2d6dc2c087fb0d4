// What every controller gets from the controller manager: the API client, the shared informers,
// an event recorder, the manager's options, and the signal that stops it.

import type { Client } from "../client/client.ts";
import { createEventRecorder, type EventRecorder } from "../client/events.ts";
import type { SharedInformerFactory } from "../client/factory.ts";
import type { ClientConfig } from "../client/types.ts";
import { WorkQueue } from "../client/workqueue.ts";
import { ApiError } from "../client/types.ts";
import { logger, type Logger } from "../log/log.ts";

export interface ControllerManagerOptions {
  identity: string;
  serviceCIDR: string;
  clusterCIDR: string;
  nodeMonitorGracePeriodSeconds?: number;
  defaultEvictionSeconds?: number;
  apiServerEndpoints?: { ip: string; port: number }[];
  signal: AbortSignal;
  /** Only these controllers (names as in CONTROLLERS); all when unset. For tests. */
  controllers?: string[];
  /** Controllers not to run (`--disable servicelb`, as k3s). */
  disabled?: string[];
  /** Skip leader election (tests that run one instance). */
  leaderElection?: boolean;
  /** Lease timings (upstream: 15 s / 10 s / 2 s). */
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  /** Workers per controller queue. */
  workers?: number;
  /** Nodes per second per zone that may get NoExecute taints (upstream --node-eviction-rate 0.1). */
  nodeEvictionRate?: number;
  /** Node lifecycle check period in ms (upstream nodeMonitorPeriod 5 s). */
  nodeMonitorPeriodMs?: number;
  /** How long a node must be gone before pod GC removes its pods (upstream 40 s). */
  podGCQuarantineMs?: number;
  /** How often the CSR cleaner looks for expired requests (upstream: hourly). For tests. */
  csrCleanerPeriodMs?: number;
  /** How often each HorizontalPodAutoscaler is evaluated (upstream --horizontal-pod-autoscaler-sync-period 15 s). */
  hpaSyncPeriodMs?: number;
  /** The cluster CA the CSR signer issues certificates with (upstream --cluster-signing-cert-file/-key-file). */
  signingCA?: { certPEM: string; keyPEM: string };
  /** Tests: wrap the API client (e.g. to slow down a watch). */
  wrapClient?: (c: Client) => Client;
}

export interface ControllerContext {
  cfg: ClientConfig;
  client: Client;
  informers: SharedInformerFactory;
  options: ControllerManagerOptions;
  signal: AbortSignal;
  /** Event recorder reporting as `component` (upstream names, e.g. "replicaset-controller"). */
  recorder(component: string): EventRecorder;
  log: Logger;
}

export interface Controller {
  name: string;
  /** Runs until ctx.signal aborts. Informers are registered before it is called and started right after. */
  run(): Promise<void>;
}

export function makeRecorderFactory(client: Client, host: string): (component: string) => EventRecorder {
  const cache = new Map<string, EventRecorder>();
  return (component) => {
    let r = cache.get(component);
    if (!r) cache.set(component, (r = createEventRecorder(client, { component, host })));
    return r;
  };
}

/** A work queue named after its controller, plus a runner that waits for the caches first. */
export function controllerQueue(ctx: ControllerContext, name: string) {
  const queue = new WorkQueue<string>({ name, log: logger(`controller.${name}`) });
  return {
    queue,
    async run(sync: (key: string) => Promise<void>, workers = ctx.options.workers ?? 2): Promise<void> {
      const ok = await ctx.informers.waitForSync(ctx.signal);
      if (!ok) return;
      await queue.runWorkers(workers, (key) => quietly(queue, key, sync), ctx.signal);
    },
  };
}

/**
 * Runs sync(key) treating the routine outcomes of optimistic concurrency quietly: a conflict (our cache was
 * behind) is retried shortly, a 404 means the object went away and its deletion event will follow, and a
 * namespace being terminated refuses new content by design. Anything else propagates (logged, backed off).
 */
export async function quietly(queue: WorkQueue<string>, key: string, sync: (key: string) => Promise<void>): Promise<void> {
  try {
    await sync(key);
  } catch (e) {
    const cause = e instanceof ApiError ? e : (e as any)?.cause instanceof ApiError ? (e as any).cause : undefined;
    if (cause?.code === 409 && cause.reason === "Conflict") return queue.addAfter(key, 50 + Math.random() * 100);
    if (cause?.code === 404) return;
    if (cause?.code === 403 && /being terminated/.test(cause.message)) return;
    throw e;
  }
}
