// The built-in local-path storage, as k3s's local-storage add-on: the default StorageClass `local-path` and the
// kube-system/local-path-config ConfigMap (local-path-provisioner's format) that tells the provisioner where volume
// directories go on each node. Written through the normal write path at every start: the class is created when
// missing (a deleted class comes back on restart, as k3s re-applies its manifest); the ConfigMap follows
// --default-local-storage-path, while per-node entries an admin added to it are kept.
import { resolve } from "node:path";
import type { UserInfo } from "../auth/types.ts";
import type { ApiServerDeps } from "../apiserver/deps.ts";
import { findResource } from "../api/resources.ts";
import { StatusError } from "../api/status.ts";
import { createObject, updateObject, type WriteCtx } from "../apiserver/writes.ts";
import { DEFAULT_NODE_KEY, LOCAL_PATH_CLASS, LOCAL_PATH_CONFIG, LOCAL_PATH_PROVISIONER } from "../api/localpath.ts";

interface NodePathMap {
  nodePathMap?: { node?: string; paths?: string[] }[];
}

function ctx(deps: ApiServerDeps, user: UserInfo, resource: string, group: string, namespace?: string): WriteCtx {
  const ri = findResource(group, "v1", resource)!;
  return { deps, ri, user, namespace, dryRun: false, fieldManager: "kubun", fieldValidation: "Ignore", warnings: [] };
}

/** The config.json with the default path set to `path` (other nodes' entries kept). */
export function withDefaultPath(current: string | undefined, path: string): string {
  let cfg: NodePathMap = {};
  try {
    cfg = current ? (JSON.parse(current) as NodePathMap) : {};
  } catch {
    cfg = {};
  }
  const others = (Array.isArray(cfg.nodePathMap) ? cfg.nodePathMap : []).filter((e) => e?.node !== DEFAULT_NODE_KEY);
  return JSON.stringify({ ...cfg, nodePathMap: [{ node: DEFAULT_NODE_KEY, paths: [path] }, ...others] }, null, 2);
}

export async function ensureLocalStorage(deps: ApiServerDeps, user: UserInfo, storagePath: string): Promise<void> {
  try {
    await createObject(ctx(deps, user, "storageclasses", "storage.k8s.io"), {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: {
        name: LOCAL_PATH_CLASS,
        annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        labels: { "app.kubernetes.io/managed-by": "kubun" },
      },
      provisioner: LOCAL_PATH_PROVISIONER,
      reclaimPolicy: "Delete",
      volumeBindingMode: "WaitForFirstConsumer",
    });
  } catch (err) {
    if (!(err instanceof StatusError && err.reason === "AlreadyExists")) throw err;
  }
  await updateObject(
    ctx(deps, user, "configmaps", "", "kube-system"),
    LOCAL_PATH_CONFIG,
    (live) => {
      const cm = live ?? { apiVersion: "v1", kind: "ConfigMap", metadata: { name: LOCAL_PATH_CONFIG, namespace: "kube-system" } };
      // An absolute path: the provisioner writes it into volumes that other nodes mount.
      cm.data = { ...(cm.data ?? {}), "config.json": withDefaultPath(cm.data?.["config.json"], resolve(storagePath)) };
      return cm;
    },
    { allowCreate: true },
  );
}
