// persistentVolumeClaim volumes on the node: claim → bound PersistentVolume → a directory on this node
// (hostPath, as the local-path provisioner makes them, or local). The kubelet creates a local-path directory on
// first mount (DirectoryOrCreate), world-writable as local-path-provisioner's, so non-root pods can use it.
import type { PersistentVolume, Pod, Volume } from "kubernetes-types/core/v1";
import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
import { ConfigError } from "./env.ts";
import type { PodRefs } from "./refs.ts";

/** Where the claim's volume lives on this node; throws ConfigError while it cannot be mounted (retried). */
export async function claimVolumePath(pod: Pod, v: Volume, refs: PodRefs): Promise<string> {
  const ns = pod.metadata!.namespace!;
  const claimName = v.persistentVolumeClaim!.claimName;
  if (!refs.persistentVolumeClaim || !refs.persistentVolume) throw new ConfigError(`volume ${v.name}: persistentVolumeClaim volumes are not supported by this node`);
  const pvc = await refs.persistentVolumeClaim(ns, claimName);
  if (!pvc) throw new ConfigError(`persistentvolumeclaim "${claimName}" not found`);
  const volumeName = pvc.spec?.volumeName;
  if (!volumeName || pvc.status?.phase !== "Bound") {
    throw new ConfigError(`PVC ${ns}/${claimName} has non-bound phase (${JSON.stringify(pvc.status?.phase ?? "")}) or empty pvc.Spec.VolumeName (${JSON.stringify(volumeName ?? "")})`);
  }
  const pv = await refs.persistentVolume(volumeName);
  if (!pv) throw new ConfigError(`persistentvolume "${volumeName}" not found`);
  if (pv.spec?.claimRef?.uid && pv.spec.claimRef.uid !== pvc.metadata?.uid) throw new ConfigError(`persistentvolume "${volumeName}" is bound to another claim`);
  return volumePath(pv);
}

function volumePath(pv: PersistentVolume): string {
  const name = pv.metadata?.name;
  if (pv.spec?.hostPath) {
    const p = pv.spec.hostPath.path;
    const t = pv.spec.hostPath.type ?? "";
    if (t === "DirectoryOrCreate" && !existsSync(p)) {
      mkdirSync(p, { recursive: true });
      chmodSync(p, 0o777);
    } else if (t === "Directory" && !isDir(p)) throw new ConfigError(`hostPath type check failed: ${p} is not a directory`);
    return p;
  }
  if (pv.spec?.local) {
    const p = pv.spec.local.path;
    if (!existsSync(p)) throw new ConfigError(`persistentvolume "${name}": local path ${p} does not exist`);
    return p;
  }
  throw new ConfigError(`persistentvolume "${name}": only hostPath and local volumes can be mounted by this node`);
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
