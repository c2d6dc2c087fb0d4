// kubun's scheduler entry point: a Scheduler that acts only while holding the `kube-scheduler` Lease.
// Pods and nodes come through internal/client; quantities and selectors from internal/api (ARCHITECTURE.md).

import { createClient } from "../client/client.ts";
import { sleep } from "../client/informer.ts";
import type { ClientConfig } from "../client/types.ts";
import { runLeaderElection } from "../leaderelection/index.ts";
import { logger } from "../log/log.ts";
import { Scheduler, type SchedulerConfig } from "./scheduler.ts";

export { Scheduler, DEFAULT_SCHEDULER_NAME, type SchedulerConfig, type SchedulerStats } from "./scheduler.ts";
export { Algorithm, DEFAULT_PLUGINS, numFeasibleNodesToFind } from "./algorithm.ts";
export { findPreemption } from "./preemption.ts";
export { fitErrorMessage } from "./framework.ts";
export { makePodInfo } from "./podinfo.ts";
export { NodeInfo } from "./nodeinfo.ts";

export interface StartSchedulerOptions extends SchedulerConfig {
  identity: string;
  signal: AbortSignal;
  /** false: schedule without a Lease (single-process tests); otherwise Lease timings (upstream defaults 15/10/2 s). */
  leaderElection?:
    | false
    | {
        namespace?: string;
        name?: string;
        leaseDurationSeconds?: number;
        renewDeadlineSeconds?: number;
        retryPeriodSeconds?: number;
      };
  /** Called with the Scheduler each time this process starts leading (tests and benchmarks read its stats). */
  onLeading?(s: Scheduler): void;
}

/** Runs the scheduler until opts.signal aborts; resolves after stepping down and releasing the Lease. */
export async function startScheduler(cfg: ClientConfig, opts: StartSchedulerOptions): Promise<void> {
  const client = createClient({ userAgent: "kubun-scheduler", ...cfg });
  const log = opts.log ?? logger("scheduler");
  const make = () => {
    const s = new Scheduler(client, { ...opts, identity: opts.identity, log });
    opts.onLeading?.(s);
    return s;
  };
  // Keep scheduling for as long as the signal allows: a run that ends early (an unexpected error) starts afresh
  // rather than leaving a leader that holds the Lease but schedules nothing.
  const runUntil = async (signal: AbortSignal) => {
    while (!signal.aborted) {
      try {
        await make().run(signal);
      } catch (e) {
        log.error("scheduler stopped unexpectedly; restarting", { error: e as Error });
      }
      if (!signal.aborted) await sleep(1000, signal);
    }
  };
  if (opts.leaderElection === false) {
    await runUntil(opts.signal);
    return;
  }
  const le = opts.leaderElection ?? {};
  await runLeaderElection(client, {
    namespace: le.namespace ?? "kube-system",
    name: le.name ?? "kube-scheduler",
    identity: opts.identity,
    leaseDurationSeconds: le.leaseDurationSeconds ?? 15,
    renewDeadlineSeconds: le.renewDeadlineSeconds ?? 10,
    retryPeriodSeconds: le.retryPeriodSeconds ?? 2,
    signal: opts.signal,
    log: log.child("leaderelection"),
    onStartedLeading: (signal) => runUntil(signal),
  });
}
