// Field selectors: "metadata.name=x,spec.nodeName!=", restricted per kind to the fields upstream indexes.
import { badRequest } from "../status.ts";
import type { ResourceInfo } from "../resources.ts";

export interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}
export type FieldSelector = FieldRequirement[];

type Getter = (o: any) => string;
const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));

const COMMON: Record<string, Getter> = {
  "metadata.name": (o) => str(o.metadata?.name),
  "metadata.namespace": (o) => str(o.metadata?.namespace),
};

const eventFields: Record<string, Getter> = {
  "involvedObject.kind": (o) => str(o.involvedObject?.kind ?? o.regarding?.kind),
  "involvedObject.namespace": (o) => str(o.involvedObject?.namespace ?? o.regarding?.namespace),
  "involvedObject.name": (o) => str(o.involvedObject?.name ?? o.regarding?.name),
  "involvedObject.uid": (o) => str(o.involvedObject?.uid ?? o.regarding?.uid),
  "involvedObject.apiVersion": (o) => str(o.involvedObject?.apiVersion ?? o.regarding?.apiVersion),
  "involvedObject.resourceVersion": (o) => str(o.involvedObject?.resourceVersion ?? o.regarding?.resourceVersion),
  "involvedObject.fieldPath": (o) => str(o.involvedObject?.fieldPath ?? o.regarding?.fieldPath),
  reason: (o) => str(o.reason),
  reportingComponent: (o) => str(o.reportingComponent ?? o.reportingController),
  source: (o) => str(o.source?.component ?? o.deprecatedSource?.component),
  type: (o) => str(o.type),
};

/** Per "group/resource": the extra fields upstream supports. */
const PER_KIND: Record<string, Record<string, Getter>> = {
  "/pods": {
    "spec.nodeName": (o) => str(o.spec?.nodeName),
    "spec.restartPolicy": (o) => str(o.spec?.restartPolicy),
    "spec.schedulerName": (o) => str(o.spec?.schedulerName),
    "spec.serviceAccountName": (o) => str(o.spec?.serviceAccountName),
    "spec.hostNetwork": (o) => str(Boolean(o.spec?.hostNetwork)),
    "status.phase": (o) => str(o.status?.phase),
    "status.podIP": (o) => str(o.status?.podIP),
    "status.nominatedNodeName": (o) => str(o.status?.nominatedNodeName),
  },
  "/events": eventFields,
  // events.k8s.io names the same stored fields after its own schema (upstream's field label conversion).
  "events.k8s.io/events": {
    reason: eventFields.reason!,
    type: eventFields.type!,
    reportingController: eventFields.reportingComponent!,
    ...Object.fromEntries(
      ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"].map((f) => [`regarding.${f}`, eventFields[`involvedObject.${f}`]!]),
    ),
  },
  "/secrets": { type: (o) => str(o.type) },
  "/nodes": { "spec.unschedulable": (o) => str(Boolean(o.spec?.unschedulable)) },
  "/namespaces": { "status.phase": (o) => str(o.status?.phase) },
  "/services": { "spec.clusterIP": (o) => str(o.spec?.clusterIP), "spec.type": (o) => str(o.spec?.type) },
  "/replicationcontrollers": { "status.replicas": (o) => str(o.status?.replicas ?? 0) },
  "apps/replicasets": { "status.replicas": (o) => str(o.status?.replicas ?? 0) },
  "batch/jobs": { "status.successful": (o) => str(o.status?.succeeded ?? 0) },
};

export type FieldGetter = Getter;
/** Custom resources' fields (a CRD version's selectableFields), set by internal/apiextensions; undefined for built-ins. */
let customFields: ((ri: Pick<ResourceInfo, "group" | "resource"> & { version?: string }) => Record<string, Getter> | undefined) | undefined;

export function setCustomFieldSelectors(fn: typeof customFields): void {
  customFields = fn;
}

function gettersFor(ri: Pick<ResourceInfo, "group" | "resource">): Record<string, Getter> {
  const custom = customFields?.(ri);
  if (custom) return { ...COMMON, ...custom };
  return { ...COMMON, ...(PER_KIND[`${ri.group}/${ri.resource}`] ?? {}) };
}

export function parseFieldSelector(
  sel: string | undefined | null,
  ri: Pick<ResourceInfo, "group" | "resource">,
): FieldSelector {
  if (!sel || !sel.trim()) return [];
  const getters = gettersFor(ri);
  const reqs: FieldRequirement[] = [];
  for (const raw of sel.split(",")) {
    const part = raw.trim();
    const m = part.match(/^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${sel}'; can't understand '${part}'`);
    const field = m[1]!;
    // Own properties only: "constructor" or "__proto__" is an unsupported label, not Object's member.
    if (!Object.hasOwn(getters, field)) {
      // Custom resources answer with the list of what they support (upstream's DefaultMetaV1FieldSelectorConversion).
      if (customFields?.(ri)) throw badRequest(`${JSON.stringify(field)} is not a known field selector: only ${Object.keys(getters).map((k) => JSON.stringify(k)).join(", ")}`);
      throw badRequest(`field label not supported: ${field}`);
    }
    reqs.push({ field, op: m[2] === "!=" ? "!=" : "=", value: m[3]!.trim() });
  }
  return reqs;
}

export function matchFields(
  sel: FieldSelector,
  ri: Pick<ResourceInfo, "group" | "resource">,
  obj: any,
): boolean {
  if (sel.length === 0) return true;
  const getters = gettersFor(ri);
  return matchFieldValues(sel, (field) => (Object.hasOwn(getters, field) ? getters[field]!(obj) : undefined));
}

/** matchFields over values looked up by field name (undefined: not a field of the kind, which never matches). */
export function matchFieldValues(sel: FieldSelector, valueOf: (field: string) => string | undefined): boolean {
  for (const r of sel) {
    const v = valueOf(r.field);
    if (v === undefined) return false;
    if (r.op === "=" ? v !== r.value : v === r.value) return false;
  }
  return true;
}

/** The value of every field a selector may name for the kind (prototype-free: field names are request data). */
export function selectableFieldValues(ri: Pick<ResourceInfo, "group" | "resource">, obj: any): Record<string, string> {
  const getters = gettersFor(ri);
  const out: Record<string, string> = Object.create(null);
  for (const field of Object.keys(getters)) out[field] = getters[field]!(obj);
  return out;
}

/** When the selector pins metadata.name, the list can read one key instead of scanning. */
export function pinnedName(sel: FieldSelector): string | undefined {
  return sel.find((r) => r.field === "metadata.name" && r.op === "=")?.value;
}
