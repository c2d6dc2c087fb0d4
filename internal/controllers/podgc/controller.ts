// Pod garbage collector (upstream podgc): force-deletes pods bound to nodes that no longer exist (after a short
// quarantine, in case the node is just being re-registered), terminating pods that are not bound to any node,
// and the oldest finished pods beyond a threshold.

import type { Node, Pod } from "kubernetes-types/core/v1";
import { sleep, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import type { Controller, ControllerContext } from "../context.ts";

export interface PodGCOptions {
  /** Finished (Succeeded/Failed) pods kept cluster-wide (upstream --terminated-pod-gc-threshold 12500). */
  terminatedThreshold?: number;
  /** How long a node must be missing before its pods are collected (upstream 40 s). */
  quarantineMs?: number;
  periodMs?: number;
}

export function newPodGCController(ctx: ControllerContext, opts: PodGCOptions = {}): Controller {
  const log = ctx.log.child("podgc");
  const threshold = opts.terminatedThreshold ?? 12500;
  const quarantine = opts.quarantineMs ?? 40_000;
  const period = opts.periodMs ?? 20_000;
  const podInf: Informer<Pod> = ctx.informers.informerFor<Pod>(refs.pods);
  const nodeInf: Informer<Node> = ctx.informers.informerFor<Node>(refs.nodes);
  /** node name → when we first saw it missing */
  const missingSince = new Map<string, number>();

  async function forceDelete(p: Pod, why: string): Promise<void> {
    try {
      await ctx.client.resource<Pod>(refs.pods, p.metadata!.namespace!).delete(p.metadata!.name!, { gracePeriodSeconds: 0, preconditions: { uid: p.metadata!.uid } });
      log.info("garbage collected pod", { pod: `${p.metadata!.namespace}/${p.metadata!.name}`, why });
    } catch (e) {
      if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
    }
  }

  async function pass(): Promise<void> {
    const now = Date.now();
    const pods = podInf.list();
    // Pods on vanished nodes.
    const missing = new Set<string>();
    for (const p of pods) {
      const n = p.spec?.nodeName;
      if (n && !nodeInf.get(n)) missing.add(n);
    }
    for (const n of [...missingSince.keys()]) if (!missing.has(n)) missingSince.delete(n);
    for (const n of missing) if (!missingSince.has(n)) missingSince.set(n, now);
    for (const p of pods) {
      const n = p.spec?.nodeName;
      if (n && missing.has(n) && now - missingSince.get(n)! >= quarantine) await forceDelete(p, `node ${n} no longer exists`);
      else if (!n && p.metadata?.deletionTimestamp) await forceDelete(p, "terminating and never scheduled");
    }
    // Too many finished pods: oldest first.
    const finished = pods.filter((p) => (p.status?.phase === "Succeeded" || p.status?.phase === "Failed") && !p.metadata?.deletionTimestamp);
    if (finished.length > threshold) {
      finished.sort((a, b) => Date.parse(a.metadata?.creationTimestamp ?? "") - Date.parse(b.metadata?.creationTimestamp ?? ""));
      for (const p of finished.slice(0, finished.length - threshold)) await forceDelete(p, "terminated pod threshold exceeded");
    }
  }

  return {
    name: "podgc",
    async run() {
      if (!(await ctx.informers.waitForSync(ctx.signal))) return;
      while (!ctx.signal.aborted) {
        await pass().catch((e) => log.warn("pod gc pass failed", { error: e as Error }));
        await sleep(period, ctx.signal);
      }
    },
  };
}
