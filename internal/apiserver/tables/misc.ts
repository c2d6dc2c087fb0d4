// The remaining tables: RBAC, priority classes, volumes, disruption budgets, controller revisions,
// quotas, and upstream's default Name/Created At table.
import { rfc3339 } from "./format.ts";
import { AGE, AGE_DOC, NAME, age, col, num, type Obj, type Printer } from "./columns.ts";

const CREATED_AT = col("Created At", "date", AGE_DOC);
export const createdAt: Printer = {
  columns: [NAME, CREATED_AT],
  cells: (o) => [o.metadata?.name, rfc3339(o.metadata?.creationTimestamp)],
};

export const bindings: Printer = {
  columns: [
    NAME,
    col("Role", "string", "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace."),
    AGE,
    col("Users", "string", "Users in the roleBinding", 1),
    col("Groups", "string", "Groups in the roleBinding", 1),
    col("ServiceAccounts", "string", "ServiceAccounts in the roleBinding", 1),
  ],
  cells(b, now) {
    const subs: Obj[] = b.subjects ?? [];
    const of = (kind: string) => subs.filter((s) => s.kind === kind);
    return [
      b.metadata?.name,
      `${b.roleRef?.kind ?? ""}/${b.roleRef?.name ?? ""}`,
      age(b, now),
      of("User").map((s) => s.name).join(", "),
      of("Group").map((s) => s.name).join(", "),
      of("ServiceAccount").map((s) => `${s.namespace ?? ""}/${s.name}`).join(", "),
    ];
  },
};

export const priorityclasses: Printer = {
  columns: [
    NAME,
    col("Value", "integer", "value represents the integer value of this priority class."),
    col("Global-Default", "boolean", "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class."),
    AGE,
    col("PreemptionPolicy", "string", "preemptionPolicy is the Policy for preempting pods with lower priority."),
  ],
  cells: (pc, now) => [pc.metadata?.name, num(pc.value), pc.globalDefault === true, age(pc, now), pc.preemptionPolicy ?? ""],
};

const ACCESS_MODES: Record<string, string> = { ReadWriteOnce: "RWO", ReadOnlyMany: "ROX", ReadWriteMany: "RWX", ReadWriteOncePod: "RWOP" };
const accessModes = (modes: string[] | undefined) => {
  const seen = new Set(modes ?? []);
  return Object.keys(ACCESS_MODES).filter((m) => seen.has(m)).map((m) => ACCESS_MODES[m]).join(",");
};

export const pvcs: Printer = {
  columns: [
    NAME,
    col("Status", "string", "phase represents the current phase of PersistentVolumeClaim."),
    col("Volume", "string", "volumeName is the binding reference to the PersistentVolume backing this claim."),
    col("Capacity", "string", "capacity represents the actual resources of the underlying volume."),
    col("Access Modes", "string", "accessModes contains the desired access modes the volume should have."),
    col("StorageClass", "string", "StorageClass of the pvc"),
    col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
    AGE,
    col("VolumeMode", "string", "volumeMode defines what type of volume is required by the claim.", 1),
  ],
  cells(pvc, now) {
    const phase = pvc.metadata?.deletionTimestamp ? "Terminating" : pvc.status?.phase ?? "";
    const bound = !!pvc.spec?.volumeName;
    return [
      pvc.metadata?.name,
      phase,
      pvc.spec?.volumeName ?? "",
      bound ? pvc.status?.capacity?.storage ?? "" : "",
      bound ? accessModes(pvc.status?.accessModes) : "",
      pvc.spec?.storageClassName ?? "",
      pvc.spec?.volumeAttributesClassName ?? "<unset>",
      age(pvc, now),
      pvc.spec?.volumeMode ?? "<unset>",
    ];
  },
};

export const pvs: Printer = {
  columns: [
    NAME,
    col("Capacity", "string", "capacity is the description of the persistent volume's resources and capacity."),
    col("Access Modes", "string", "accessModes contains all ways the volume can be mounted."),
    col("Reclaim Policy", "string", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim."),
    col("Status", "string", "phase indicates if a volume is available, bound to a claim, or released by a claim."),
    col("Claim", "string", "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim."),
    col("StorageClass", "string", "StorageClass of the pv"),
    col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
    col("Reason", "string", "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI."),
    AGE,
    col("VolumeMode", "string", "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.", 1),
  ],
  cells(pv, now) {
    const claim = pv.spec?.claimRef ? `${pv.spec.claimRef.namespace}/${pv.spec.claimRef.name}` : "";
    return [
      pv.metadata?.name,
      pv.spec?.capacity?.storage ?? "",
      accessModes(pv.spec?.accessModes),
      pv.spec?.persistentVolumeReclaimPolicy ?? "",
      pv.metadata?.deletionTimestamp ? "Terminating" : pv.status?.phase ?? "",
      claim,
      pv.spec?.storageClassName ?? "",
      pv.spec?.volumeAttributesClassName ?? "<unset>",
      pv.status?.reason ?? "",
      age(pv, now),
      pv.spec?.volumeMode ?? "<unset>",
    ];
  },
};

export const pdbs: Printer = {
  columns: [
    NAME,
    col("Min Available", "string", "The minimum number of pods that must be available."),
    col("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
    col("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
    AGE,
  ],
  cells(p, now) {
    const v = (x: unknown) => (x === undefined || x === null ? "N/A" : String(x));
    return [p.metadata?.name, v(p.spec?.minAvailable), v(p.spec?.maxUnavailable), num(p.status?.disruptionsAllowed), age(p, now)];
  },
};

export const controllerrevisions: Printer = {
  columns: [NAME, col("Controller", "string", "Controller of the object"), col("Revision", "integer", "Revision indicates the revision of the state represented by Data."), AGE],
  cells(cr, now) {
    const ref = (cr.metadata?.ownerReferences ?? []).find((o: Obj) => o.controller === true);
    let controller = "<none>";
    if (ref) {
      const group = String(ref.apiVersion ?? "").includes("/") ? String(ref.apiVersion).split("/")[0] : "";
      controller = `${String(ref.kind).toLowerCase()}${group ? `.${group}` : ""}/${ref.name}`;
    }
    return [cr.metadata?.name, controller, num(cr.revision), age(cr, now)];
  },
};

export const resourcequotas: Printer = {
  columns: [NAME, AGE, col("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."), col("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.")],
  cells(q, now) {
    const hard = q.status?.hard ?? q.spec?.hard ?? {};
    const used = q.status?.used ?? {};
    const req: string[] = [];
    const lim: string[] = [];
    for (const k of Object.keys(hard).sort()) {
      const text = `${k}: ${used[k] ?? "0"}/${hard[k]}`;
      (k.startsWith("limits.") ? lim : req).push(text);
    }
    return [q.metadata?.name, age(q, now), req.join(", "), lim.join(", ")];
  },
};

