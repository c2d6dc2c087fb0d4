// Leader election over a coordination.k8s.io/v1 Lease, with upstream client-go leaderelection semantics:
// a candidate takes the Lease when it is free or its holder has not renewed it for leaseDuration (measured on the
// candidate's own clock from when it last saw the record change, so clock skew between servers does not matter);
// the leader renews every retryPeriod and steps down when it cannot renew within renewDeadline; on clean shutdown
// it clears holderIdentity so a standby takes over at once. Updates carry resourceVersion (optimistic concurrency).

import type { Lease } from "kubernetes-types/coordination/v1";
import { createClient, type Client } from "../client/client.ts";
import { sleep } from "../client/informer.ts";
import { refs } from "../client/refs.ts";
import { ApiError, type ClientConfig } from "../client/types.ts";
import { logger, type Logger } from "../log/log.ts";

export interface LeaderElectionConfig {
  namespace?: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  /** Called when this candidate becomes leader; the signal aborts when leadership is lost or on shutdown. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called after leadership is lost or given up. */
  onStoppedLeading?(): void;
  /** Called whenever the observed leader changes (including to this candidate). */
  onNewLeader?(identity: string): void;
  /** Stops the election; a leader releases the Lease before runLeaderElection resolves. */
  signal: AbortSignal;
  /** Keep contending after losing leadership (default true); upstream processes exit instead. */
  reacquire?: boolean;
  log?: Logger;
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/**
 * Runs the election until cfg.signal aborts. While leading, onStartedLeading runs with a signal that aborts when
 * leadership ends. Resolves after the Lease has been released (on abort while leading).
 */
export async function runLeaderElection(clientOrConfig: Client | ClientConfig, cfg: LeaderElectionConfig): Promise<void> {
  const client = "resource" in clientOrConfig ? clientOrConfig : createClient(clientOrConfig);
  const ns = cfg.namespace ?? "kube-system";
  const leaseDuration = (cfg.leaseDurationSeconds ?? 15) * 1000;
  const renewDeadline = (cfg.renewDeadlineSeconds ?? 10) * 1000;
  const retryPeriod = (cfg.retryPeriodSeconds ?? 2) * 1000;
  if (leaseDuration <= renewDeadline) throw new Error("leaseDuration must be greater than renewDeadline");
  if (renewDeadline <= retryPeriod * 1.2) throw new Error("renewDeadline must be greater than retryPeriod*1.2");
  const log = cfg.log ?? logger(`leaderelection.${cfg.name}`);
  const leases = client.resource<Lease>(refs.leases, ns);

  let observedRaw = "";
  let observedTime = 0;
  let observed: Lease | undefined;
  let reportedLeader = "";

  function observe(l: Lease | undefined) {
    const raw = JSON.stringify(l?.spec ?? {});
    if (raw !== observedRaw) {
      observedRaw = raw;
      observedTime = Date.now();
    }
    observed = l;
    const holder = l?.spec?.holderIdentity ?? "";
    if (holder && holder !== reportedLeader) {
      reportedLeader = holder;
      cfg.onNewLeader?.(holder);
    }
  }

  /** One attempt to acquire or renew; true when this candidate holds the Lease afterwards. */
  async function tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    let cur: Lease | undefined;
    try {
      cur = await leases.get(cfg.name);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
    if (!cur) {
      const created = await leases.create({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: cfg.name, namespace: ns },
        spec: {
          holderIdentity: cfg.identity,
          leaseDurationSeconds: leaseDuration / 1000,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      });
      observe(created);
      return true;
    }
    observe(cur);
    const spec = cur.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const iHold = holder === cfg.identity;
    // Someone else holds it and we have seen it change within their lease duration: not ours to take.
    if (holder && !iHold && observedTime + (spec.leaseDurationSeconds ?? leaseDuration / 1000) * 1000 > Date.now()) {
      return false;
    }
    const next: Lease = {
      ...cur,
      spec: {
        ...spec,
        holderIdentity: cfg.identity,
        leaseDurationSeconds: leaseDuration / 1000,
        renewTime: microTime(now),
        acquireTime: iHold ? spec.acquireTime : microTime(now),
        // Upstream counts a transition whenever the holder changes, including taking a released (empty) lease.
        leaseTransitions: iHold ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    const updated = await leases.update(next); // carries metadata.resourceVersion → 409 if someone else won
    observe(updated);
    return true;
  }

  async function attempt(): Promise<boolean> {
    try {
      return await tryAcquireOrRenew();
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) log.warn("lease update failed", { error: e as Error });
      return false;
    }
  }

  async function release(): Promise<void> {
    // Two tries: the cached Lease may be one renewal behind (409), then re-read it.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const cur = attempt === 0 && observed?.metadata?.resourceVersion ? observed : await leases.get(cfg.name);
        if (cur?.spec?.holderIdentity !== cfg.identity) return;
        const now = microTime();
        const updated = await leases.update({
          ...cur,
          spec: { ...cur.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
        });
        observe(updated);
        log.info("released lease");
        return;
      } catch (e) {
        if (attempt === 0 && e instanceof ApiError && e.code === 409) continue;
        log.warn("could not release lease", { error: e as Error });
        return;
      }
    }
  }

  const jitter = (ms: number) => ms * (1 + Math.random() * 0.2);
  const signal = cfg.signal;

  while (!signal.aborted) {
    // Acquire.
    while (!signal.aborted && !(await attempt())) await sleep(jitter(retryPeriod), signal);
    if (signal.aborted) break;
    log.info("became leader", { identity: cfg.identity });
    const lead = new AbortController();
    const stopLead = () => lead.abort();
    signal.addEventListener("abort", stopLead, { once: true });
    const work = Promise.resolve()
      .then(() => cfg.onStartedLeading(lead.signal))
      .catch((e) => log.error("leader work failed", { error: e as Error }));

    // Renew every retryPeriod; give up when no renewal succeeded within renewDeadline.
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await sleep(retryPeriod, signal);
      if (signal.aborted) break;
      // A renewal that hangs past the deadline counts as failed: acting on a lease that may have expired
      // elsewhere would let two leaders act at once.
      const left = Math.max(0, renewDeadline - (Date.now() - lastRenew));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const ok = await Promise.race([attempt(), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), left)))]);
      clearTimeout(timer);
      if (ok) {
        lastRenew = Date.now();
        continue;
      }
      if (observed?.spec?.holderIdentity && observed.spec.holderIdentity !== cfg.identity) break; // someone else took it
      if (Date.now() - lastRenew >= renewDeadline) break;
    }
    signal.removeEventListener("abort", stopLead);
    lead.abort();
    log.info(signal.aborted ? "stepping down" : "lost leadership", { identity: cfg.identity });
    await work;
    if (signal.aborted) await release();
    cfg.onStoppedLeading?.();
    if (cfg.reacquire === false) break;
  }
}
