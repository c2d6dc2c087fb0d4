// Tables of the storage.k8s.io kinds (upstream printers.go: printStorageClass, printCSIDriver, printCSINode,
// printVolumeAttachment, printCSIStorageCapacity).
import { isDefaultStorageClass } from "../../api/defaultclass.ts";
import { AGE, NAME, age, col, type Printer } from "./columns.ts";


export const storageclasses: Printer = {
  columns: [
    NAME,
    col("Provisioner", "string", "provisioner indicates the type of the provisioner."),
    col("ReclaimPolicy", "string", "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete."),
    col("VolumeBindingMode", "string", "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature."),
    col("AllowVolumeExpansion", "string", "allowVolumeExpansion shows whether the storage class allow volume expand."),
    AGE,
  ],
  cells: (sc, now) => [
    isDefaultStorageClass(sc) ? `${sc.metadata?.name} (default)` : sc.metadata?.name,
    sc.provisioner ?? "",
    sc.reclaimPolicy ?? "Delete",
    sc.volumeBindingMode ?? "Immediate",
    sc.allowVolumeExpansion === true,
    age(sc, now),
  ],
};

export const csidrivers: Printer = {
  columns: [
    NAME,
    col("AttachRequired", "boolean", "attachRequired indicates this CSI volume driver requires an attach operation."),
    col("PodInfoOnMount", "boolean", "podInfoOnMount indicates this CSI volume driver requires additional pod information (like podName, podUID, etc.) during mount operations."),
    col("StorageCapacity", "boolean", "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity."),
    col("TokenRequests", "string", "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting volume for to do necessary authentication."),
    col("RequiresRepublish", "boolean", "requiresRepublish indicates the CSI driver wants `NodePublishVolume` being periodically called to reflect any possible change in the mounted volume."),
    col("Modes", "string", "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports."),
    AGE,
  ],
  cells: (d, now) => {
    const tokens = ((d.spec?.tokenRequests ?? []) as { audience?: string }[]).map((t) => t.audience || "<api-server-audience>");
    const modes = (d.spec?.volumeLifecycleModes ?? []) as string[];
    return [
      d.metadata?.name,
      d.spec?.attachRequired ?? true,
      d.spec?.podInfoOnMount === true,
      d.spec?.storageCapacity === true,
      tokens.length ? tokens.join(",") : "<unset>",
      d.spec?.requiresRepublish === true,
      modes.length ? modes.join(",") : "<none>",
      age(d, now),
    ];
  },
};

export const csinodes: Printer = {
  columns: [NAME, col("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node"), AGE],
  cells: (n, now) => [n.metadata?.name, (n.spec?.drivers ?? []).length, age(n, now)],
};

export const volumeattachments: Printer = {
  columns: [
    NAME,
    col("Attacher", "string", "attacher indicates the name of the volume driver that MUST handle this request. This is the name returned by GetPluginName()."),
    col("PV", "string", "Name of the persistent volume to attach."),
    col("Node", "string", "nodeName represents the node that the volume should be attached to."),
    col("Attached", "boolean", "attached indicates the volume is successfully attached. This field must only be set by the entity completing the attach operation, i.e. the external-attacher."),
    AGE,
  ],
  cells: (va, now) => [
    va.metadata?.name,
    va.spec?.attacher ?? "",
    va.spec?.source?.persistentVolumeName ?? "",
    va.spec?.nodeName ?? "",
    va.status?.attached === true,
    age(va, now),
  ],
};

export const csistoragecapacities: Printer = {
  columns: [
    NAME,
    col("StorageClassName", "string", "storageClassName represents the name of the StorageClass that the reported capacity applies to."),
    col("Capacity", "string", "capacity is the value reported by the CSI driver in its GetCapacityResponse."),
    AGE,
  ],
  cells: (c, now) => [c.metadata?.name, c.storageClassName ?? "", c.capacity ?? "<unset>", age(c, now)],
};
