// NodeVolumeLimits, after upstream's CSI limits plugin: a node's CSINode says how many volumes of each CSI driver it
// can attach (spec.drivers[].allocatable.count); a pod whose new unique volumes (bound CSI volumes, and unbound
// claims whose class provisions through a CSI driver) would push a driver over that count on a node is refused
// there. Volumes without a CSI driver (hostPath, local, local-path) have no such limit, as upstream.

import type { Pod } from "kubernetes-types/core/v1";
import { claimClass } from "../../api/volumes.ts";
import { SKIP, unschedulable, type Plugin, type PluginState, type Snapshot } from "../framework.ts";

const NAME = "NodeVolumeLimits";
export const ERR_MAX_VOLUME_COUNT = "node(s) exceed max volume count";

/** driver → unique volume ids a pod uses. */
type Volumes = Map<string, Set<string>>;

function csiVolumes(pod: Pod, snap: Snapshot, out: Volumes = new Map()): Volumes {
  const ns = pod.metadata?.namespace ?? "";
  for (const v of pod.spec?.volumes ?? []) {
    const claimName = v.persistentVolumeClaim?.claimName ?? (v.ephemeral ? `${pod.metadata?.name}-${v.name}` : undefined);
    if (!claimName) continue;
    const pvc = snap.pvc?.(ns, claimName);
    if (!pvc) continue;
    let driver: string | undefined;
    let id: string;
    const pv = pvc.spec?.volumeName ? snap.pv?.(pvc.spec.volumeName) : undefined;
    if (pv) {
      driver = pv.spec?.csi?.driver;
      id = `${driver}/${pv.spec?.csi?.volumeHandle}`;
    } else {
      // Not bound yet: the class's provisioner will make one volume for the claim.
      driver = snap.storageClass?.(claimClass(pvc))?.provisioner;
      id = `claim/${ns}/${claimName}`;
    }
    if (!driver) continue;
    let set = out.get(driver);
    if (!set) out.set(driver, (set = new Set()));
    set.add(id);
  }
  return out;
}

class State implements PluginState {
  constructor(
    readonly wanted: Volumes,
    readonly snap: Snapshot,
  ) {}
  clone(): State {
    return this;
  }
}

export const nodeVolumeLimits: Plugin = {
  name: NAME,
  preFilter(state, pi, snap) {
    if (!snap.csiNode || !snap.pvc) return SKIP;
    const wanted = csiVolumes(pi.pod, snap);
    if (!wanted.size) return SKIP;
    state.set(NAME, new State(wanted, snap));
    return undefined;
  },
  filter(state, _pi, node) {
    const s = state.get<State>(NAME);
    if (!s) return undefined;
    const csiNode = s.snap.csiNode!(node.name);
    if (!csiNode) return undefined;
    let attached: Volumes | undefined;
    for (const [driver, ids] of s.wanted) {
      const limit = csiNode.spec?.drivers?.find((d) => d.name === driver)?.allocatable?.count;
      if (limit === undefined || limit === null) continue;
      attached ??= (() => {
        const m: Volumes = new Map();
        for (const other of node.pods.values()) csiVolumes(other.pod, s.snap, m);
        return m;
      })();
      const have = attached.get(driver) ?? new Set<string>();
      let count = have.size;
      for (const id of ids) if (!have.has(id)) count++;
      if (count > limit) return unschedulable(NAME, ERR_MAX_VOLUME_COUNT);
    }
    return undefined;
  },
};
