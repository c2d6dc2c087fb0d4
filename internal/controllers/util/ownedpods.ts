// Pod events for a controller that owns its pods directly (DaemonSet, Job): a pod is routed to the owner named
// by its controller ownerReference — only if that owner still exists with the same uid — and its create/delete
// is counted against the owner's expectations.

import type { Pod } from "kubernetes-types/core/v1";
import type { Informer } from "../../client/informer.ts";
import type { WorkQueue } from "../../client/workqueue.ts";
import type { Expectations } from "./expectations.ts";
import { controllerOf } from "../../api/meta.ts";
import { keyOf } from "../../client/informer.ts";

export function enqueueOwnerOfPods(
  podInf: Informer<Pod>,
  ownerInf: Informer,
  kind: string,
  expectations: Expectations,
  queue: WorkQueue<string>,
): void {
  const ownerKey = (p: Pod): string | undefined => {
    const ref = controllerOf(p);
    if (ref?.kind !== kind) return undefined;
    const owner = ownerInf.getByName(p.metadata?.namespace, ref.name);
    return owner?.metadata?.uid === ref.uid ? keyOf(owner) : undefined;
  };
  podInf.addEventHandler({
    onAdd: (p) => {
      const k = ownerKey(p);
      if (k) (expectations.creationObserved(k), queue.add(k));
    },
    onUpdate: (_o, p) => {
      const k = ownerKey(p);
      if (k) queue.add(k);
    },
    onDelete: (p) => {
      const k = ownerKey(p);
      if (k) (expectations.deletionObserved(k, p.metadata?.uid), queue.add(k));
    },
  });
}
