// The controller manager: every controller in one process under one leader election (Lease
// kube-system/kube-controller-manager), sharing one set of informers, as upstream kube-controller-manager.
// Controllers reach the API only through internal/client and take shared vocabulary (registry, quantities,
// selectors, owner references) from internal/api, never from the API server's files (ARCHITECTURE.md).

import { createClient } from "../client/client.ts";
import { SharedInformerFactory } from "../client/factory.ts";
import type { ClientConfig } from "../client/types.ts";
import { runLeaderElection } from "../leaderelection/index.ts";
import { logger } from "../log/log.ts";
import { enabledControllers } from "./registry.ts";
import { publishEndpoints } from "./kubernetesservice/publisher.ts";
import { makeRecorderFactory, type ControllerContext, type ControllerManagerOptions } from "./context.ts";

export type { ControllerManagerOptions } from "./context.ts";
export { CONTROLLERS } from "./registry.ts";

const log = logger("controller-manager");

/** Runs the controllers (only while leader, unless leaderElection is false) until opts.signal aborts. */
export async function startControllerManager(cfg: ClientConfig, opts: ControllerManagerOptions): Promise<void> {
  const base = createClient({ ...cfg, userAgent: cfg.userAgent ?? "kube-controller-manager" });
  const client = opts.wrapClient ? opts.wrapClient(base) : base;
  const runControllers = async (signal: AbortSignal) => {
    const informers = new SharedInformerFactory(client, { log: log.child("informer") });
    const ctx: ControllerContext = {
      cfg,
      client,
      informers,
      options: opts,
      signal,
      recorder: makeRecorderFactory(client, opts.identity.split("_")[0] ?? opts.identity),
      log,
    };
    const enabled = enabledControllers(opts);
    const running = enabled.map((c) => ({ name: c.name, ctl: c.create(ctx) }));
    informers.start(signal);
    log.info("controllers starting", { controllers: running.map((r) => r.name) });
    await Promise.all(
      running.map(({ name, ctl }) =>
        ctl.run().catch((e) => {
          if (!signal.aborted) log.error("controller stopped with an error", { controller: name, error: e as Error });
        }),
      ),
    );
  };

  // Every server advertises its API endpoint, leader or not (the leader publishes the union).
  const publishing = publishEndpoints(client, opts.apiServerEndpoints ?? [], opts.identity, opts.signal).catch((e) =>
    log.warn("API endpoint publishing stopped", { error: e as Error }),
  );
  if (opts.leaderElection === false) {
    await runControllers(opts.signal);
    await publishing;
    return;
  }
  await runLeaderElection(client, {
    namespace: "kube-system",
    name: "kube-controller-manager",
    identity: opts.identity,
    leaseDurationSeconds: opts.leaseDurationSeconds,
    renewDeadlineSeconds: opts.renewDeadlineSeconds,
    retryPeriodSeconds: opts.retryPeriodSeconds,
    signal: opts.signal,
    onStartedLeading: (signal) => {
      log.info("became leader", { identity: opts.identity });
      return runControllers(signal);
    },
    onStoppedLeading: () => log.info("stopped leading", { identity: opts.identity }),
  });
  await publishing;
}
