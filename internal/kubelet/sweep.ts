// What a previous run left on the node for pods that no longer exist — network namespaces and IP leases, volume
// mounts and pod directories, log directories, pod cgroups — removed once the kubelet knows which pods are its own (its
// checkpoints, then the API's full list). Pods deleted while the agent was stopped, or a crash half-way through a
// teardown, would otherwise leak a netns, an IP and mounts per pod for ever.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Network } from "../cni/types.ts";
import type { Logger } from "../log/log.ts";
import { podCgroupUids, removePodCgroup } from "./podcgroups.ts";
import { teardownVolumes } from "./volumes.ts";

export interface SweepOptions {
  /** uids of the pods this node still has (records). */
  keep: Set<string>;
  network: Network;
  /** <agent-dir>/pods: one directory per pod uid. */
  podsDir: string;
  /** /var/log/pods: <namespace>_<name>_<uid> per pod. */
  podLogDir: string;
  /** Parent of the pod cgroups (<cgroupRoot>/pod<uid>). */
  cgroupRoot: string;
  /** Where cgroup filesystems are mounted (default /sys/fs/cgroup). */
  cgroupFs?: string;
  log: Logger;
}

/** Removes every leftover; returns the uids it cleaned. */
export async function sweepLeftovers(o: SweepOptions): Promise<string[]> {
  const cleaned = new Set<string>();
  for (const uid of o.network.list()) {
    if (o.keep.has(uid)) continue;
    await o.network.teardown(uid).catch((e) => o.log.warn("leftover network teardown failed", { uid, error: e }));
    cleaned.add(uid);
  }
  if (existsSync(o.podsDir))
    for (const uid of readdirSync(o.podsDir)) {
      if (o.keep.has(uid)) continue;
      await teardownVolumes(join(o.podsDir, uid)).catch((e) => o.log.warn("leftover volume teardown failed", { uid, error: e }));
      rmSync(join(o.podsDir, uid), { recursive: true, force: true });
      cleaned.add(uid);
    }
  if (existsSync(o.podLogDir))
    for (const d of readdirSync(o.podLogDir)) {
      const uid = d.split("_").pop()!;
      if (o.keep.has(uid) || !/^[0-9a-f-]{36}$/.test(uid)) continue;
      rmSync(join(o.podLogDir, d), { recursive: true, force: true });
      cleaned.add(uid);
    }
  // After the containers: a pod cgroup goes only once the relist has removed the orphans inside it.
  for (const uid of podCgroupUids(o.cgroupRoot, o.cgroupFs)) {
    if (o.keep.has(uid)) continue;
    if (removePodCgroup(o.cgroupRoot, uid, o.cgroupFs)) cleaned.add(uid);
  }
  if (cleaned.size) o.log.info("removed what pods that no longer exist left behind", { pods: [...cleaned] });
  return [...cleaned];
}
