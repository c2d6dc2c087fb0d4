// VolumeBinding's PreBind: before a pod that uses unbound WaitForFirstConsumer claims is bound, its node is written
// on each claim (volume.kubernetes.io/selected-node, as upstream) and the scheduler waits until the PV controller
// has bound them (provisioning on that node if needed), so the kubelet finds its volumes. On failure or timeout
// the annotations are taken back and the pod is retried.
import type { PersistentVolumeClaim } from "kubernetes-types/core/v1";
import type { Client } from "../client/client.ts";
import type { Informer } from "../client/informer.ts";
import { refs } from "../client/refs.ts";
import { ApiError } from "../client/types.ts";
import { ANN_SELECTED_NODE } from "../api/volumes.ts";

/** Upstream's bind timeout is 600 s; kubun's provisioner is local, so a shorter wait suffices. */
export const VOLUME_BIND_TIMEOUT_MS = 120_000;

/** `wanted()` false (the pod was deleted meanwhile) ends the wait early. */
export async function preBindVolumes(
  client: Client,
  claims: Informer<PersistentVolumeClaim>,
  delayed: PersistentVolumeClaim[],
  node: string,
  wanted: () => boolean,
  timeoutMs = VOLUME_BIND_TIMEOUT_MS,
): Promise<void> {
  const annotate = async (pvc: PersistentVolumeClaim, value: string | null) => {
    const { namespace, name } = pvc.metadata!;
    await client.resource<PersistentVolumeClaim>(refs.persistentvolumeclaims, namespace).patch(name!, "merge", { metadata: { annotations: { [ANN_SELECTED_NODE]: value } } });
  };
  try {
    for (const pvc of delayed) if (pvc.metadata?.annotations?.[ANN_SELECTED_NODE] !== node) await annotate(pvc, node);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Fully bound: volumeName set and the claim's phase Bound, which is what the kubelet checks.
      const pending = delayed.filter((c) => {
        const cur = claims.getByName(c.metadata!.namespace, c.metadata!.name!);
        return !cur?.spec?.volumeName || cur.status?.phase !== "Bound";
      });
      if (pending.length === 0) return;
      const gone = pending.find((c) => !claims.getByName(c.metadata!.namespace, c.metadata!.name!));
      if (gone) throw new Error(`persistentvolumeclaim "${gone.metadata!.name}" not found`);
      if (!wanted()) throw new Error("pod deleted while its volumes were being bound");
      if (Date.now() > deadline) throw new Error(`binding volumes: timed out waiting for the condition`);
      await Bun.sleep(100);
    }
  } catch (e) {
    // Let the next attempt choose freely (upstream revertAssumedPVCs).
    for (const pvc of delayed) {
      const cur = claims.getByName(pvc.metadata!.namespace, pvc.metadata!.name!);
      if (cur && !cur.spec?.volumeName) await annotate(pvc, null).catch((err) => void (err instanceof ApiError));
    }
    throw e;
  }
}
