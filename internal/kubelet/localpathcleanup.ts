// The node's half of the local-path provisioner: watches PersistentVolumes and, for a local-path volume on this node
// that is being deleted, removes its directory (reclaimPolicy Delete; Retain keeps the data) and then drops the
// kubun.io/local-path-cleanup finalizer so the object goes. It runs on the node because the server may not be there.
import type { PersistentVolume } from "kubernetes-types/core/v1";
import { existsSync, rmSync } from "node:fs";
import { basename, isAbsolute, normalize } from "node:path";
import type { Client } from "../client/client.ts";
import { Informer } from "../client/informer.ts";
import { refs } from "../client/refs.ts";
import { ApiError } from "../client/types.ts";
import { ANN_LOCAL_PATH_NODE, LOCAL_PATH_FINALIZER, volumeDirName } from "../api/localpath.ts";
import type { Logger } from "../log/log.ts";

/** The directory to delete for a volume, or undefined when the path is not one the provisioner made. */
export function provisionedDir(pv: PersistentVolume): string | undefined {
  const p = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
  const ref = pv.spec?.claimRef;
  if (!p || !isAbsolute(p) || normalize(p) !== p.replace(/\/+$/, "") || !ref?.namespace || !ref.name) return undefined;
  // Only <root>/pvc-<uid>_<ns>_<claim>: a hand-made volume carrying the finalizer never gets a host path removed.
  return basename(p) === volumeDirName(pv.metadata!.name!, ref.namespace, ref.name) && p !== "/" ? p : undefined;
}

export function runLocalPathCleanup(client: Client, nodeName: string, log: Logger, signal: AbortSignal): Promise<void> {
  const pvs = client.resource<PersistentVolume>(refs.persistentvolumes);
  const informer = new Informer<PersistentVolume>(pvs, { name: "local-path-cleanup", maxBackoffMs: 10_000 });
  const busy = new Set<string>();
  const handle = async (pv: PersistentVolume) => {
    const name = pv.metadata!.name!;
    if (!pv.metadata?.deletionTimestamp || !pv.metadata.finalizers?.includes(LOCAL_PATH_FINALIZER)) return;
    if (pv.metadata.annotations?.[ANN_LOCAL_PATH_NODE] !== nodeName || busy.has(name)) return;
    busy.add(name);
    let retry = false;
    try {
      const dir = provisionedDir(pv);
      if ((pv.spec?.persistentVolumeReclaimPolicy ?? "Retain") === "Delete" && dir && existsSync(dir)) {
        rmSync(dir, { recursive: true, force: true });
        log.info("removed local-path volume directory", { pv: name, dir });
      }
      const finalizers = pv.metadata.finalizers.filter((f) => f !== LOCAL_PATH_FINALIZER);
      await pvs.patch(name, "merge", { metadata: { finalizers, resourceVersion: pv.metadata.resourceVersion } });
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return;
      // A conflict (another finalizer went meanwhile): again with the newer object; other failures: the timer retries.
      if (e instanceof ApiError && e.code === 409) retry = true;
      else log.warn("local-path cleanup failed", { pv: name, error: e as Error });
    } finally {
      busy.delete(name);
    }
    if (retry) setTimeout(() => {
      const latest = informer.get(name);
      if (latest) void handle(latest);
    }, 200);
  };
  informer.addEventHandler({ onAdd: (pv) => void handle(pv), onUpdate: (_o, pv) => void handle(pv) });
  // A retry for volumes whose first attempt failed (e.g. a conflict) without a later update.
  const timer = setInterval(() => {
    for (const pv of informer.values()) void handle(pv);
  }, 30_000);
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
  return informer.run(signal);
}
