// The built-in local-path provisioner (k3s ships rancher/local-path-provisioner; kubun does the same work without
// an extra pod): a claim of a class whose provisioner is rancher.io/local-path, once the scheduler has chosen its
// node, gets a hostPath PersistentVolume at <path>/pvc-<uid>_<namespace>_<claim> pinned to that node. The node's
// agent creates the directory when a pod mounts it (DirectoryOrCreate) and removes it when the volume is deleted
// with reclaimPolicy Delete (internal/agent/localpath.ts), then drops LOCAL_PATH_FINALIZER.
import type { Node, PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1";
import type { StorageClass } from "kubernetes-types/storage/v1";
import { ANN_LOCAL_PATH_NODE, LOCAL_PATH_FINALIZER, volumeDirName } from "../../api/localpath.ts";
import { ANN_PROVISIONED_BY } from "../../api/volumes.ts";

export function volumeName(pvc: PersistentVolumeClaim): string {
  return `pvc-${pvc.metadata!.uid}`;
}

export function localPathVolume(pvc: PersistentVolumeClaim, sc: StorageClass, node: Node, base: string): PersistentVolume {
  const name = volumeName(pvc);
  const ns = pvc.metadata!.namespace!;
  const nodeName = node.metadata!.name!;
  const hostname = node.metadata?.labels?.["kubernetes.io/hostname"];
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: {
      name,
      annotations: { [ANN_PROVISIONED_BY]: sc.provisioner, [ANN_LOCAL_PATH_NODE]: nodeName },
      finalizers: [LOCAL_PATH_FINALIZER],
    },
    spec: {
      capacity: { storage: String(pvc.spec?.resources?.requests?.storage ?? "0") },
      accessModes: pvc.spec?.accessModes ?? ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? "Delete",
      storageClassName: sc.metadata!.name,
      volumeMode: pvc.spec?.volumeMode ?? "Filesystem",
      mountOptions: sc.mountOptions,
      hostPath: { path: `${base}/${volumeDirName(name, ns, pvc.metadata!.name!)}`, type: "DirectoryOrCreate" },
      claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: ns, name: pvc.metadata!.name, uid: pvc.metadata!.uid, resourceVersion: pvc.metadata!.resourceVersion },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            hostname
              ? { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [hostname] }] }
              : { matchFields: [{ key: "metadata.name", operator: "In", values: [nodeName] }] },
          ],
        },
      },
    },
  };
}
