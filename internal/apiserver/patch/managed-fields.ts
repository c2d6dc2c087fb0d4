// metadata.managedFields: decoding into per-manager field sets and encoding back in upstream's shape and
// order, plus the fields no manager ever owns (StripMeta) and the fields a write to the main resource or to
// a subresource does not own (the strategy's reset fields).
import type { ManagedFieldsEntry } from "kubernetes-types/meta/v1";
import { findKind } from "../../api/resources.ts";
import { fieldPE, FieldSet, type Path } from "./fieldpath.ts";
import { isObject, type JSONObject } from "./json.ts";
import type { GVK } from "./schema/index.ts";

export type Operation = "Apply" | "Update";

export interface ManagerEntry {
  manager: string;
  operation: Operation;
  apiVersion: string;
  time?: string;
  subresource?: string;
  set: FieldSet;
}

/**
 * Manager identity as upstream's BuildManagerIdentifier: name, operation and subresource, plus the
 * apiVersion for Update (appliers keep one entry whatever version they apply with).
 */
export function managerKey(e: { manager: string; operation: Operation; apiVersion: string; subresource?: string }): string {
  return JSON.stringify([e.manager, e.operation, e.operation === "Update" ? e.apiVersion : "", e.subresource ?? ""]);
}

export function decodeManagedFields(obj: unknown): Map<string, ManagerEntry> {
  const out = new Map<string, ManagerEntry>();
  const list = isObject(obj) && isObject(obj.metadata) ? obj.metadata.managedFields : undefined;
  if (!Array.isArray(list)) return out;
  for (const raw of list as ManagedFieldsEntry[]) {
    if (!raw || (raw.operation !== "Apply" && raw.operation !== "Update")) continue;
    const e: ManagerEntry = {
      manager: raw.manager ?? "",
      operation: raw.operation,
      apiVersion: raw.apiVersion ?? "",
      set: FieldSet.fromFieldsV1(raw.fieldsV1),
    };
    if (raw.time) e.time = raw.time;
    if (raw.subresource) e.subresource = raw.subresource;
    const key = managerKey(e);
    const prev = out.get(key);
    if (prev) prev.set = prev.set.union(e.set);
    else out.set(key, e);
  }
  return out;
}

/** Entries in upstream's order: operation, time, manager, apiVersion, subresource. */
export function encodeManagedFields(entries: Iterable<ManagerEntry>): ManagedFieldsEntry[] {
  const list = [...entries].filter((e) => !e.set.empty());
  const seconds = (t?: string) => (t ? Math.floor(Date.parse(t) / 1000) : 0);
  list.sort(
    (a, b) =>
      cmp(a.operation, b.operation) ||
      seconds(a.time) - seconds(b.time) ||
      cmp(a.manager, b.manager) ||
      cmp(a.apiVersion, b.apiVersion) ||
      cmp(a.subresource ?? "", b.subresource ?? ""),
  );
  return list.map((e) => {
    const out: ManagedFieldsEntry = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion };
    if (e.time) out.time = e.time;
    out.fieldsType = "FieldsV1";
    out.fieldsV1 = e.set.toFieldsV1();
    if (e.subresource) out.subresource = e.subresource;
    return out;
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** RFC 3339 with seconds, as metav1.Time serializes. */
export function timestamp(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** "apps/v1", or "v1" for core. */
export function apiVersionOf(gvk: GVK): string {
  return gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
}

const p = (...names: string[]): Path => names.map(fieldPE);

/** Fields no manager owns (upstream's stripMetaManager); removed exactly, not recursively. */
export const STRIPPED = FieldSet.fromPaths([
  p("apiVersion"),
  p("kind"),
  p("metadata"),
  p("metadata", "name"),
  p("metadata", "namespace"),
  p("metadata", "creationTimestamp"),
  p("metadata", "selfLink"),
  p("metadata", "uid"),
  p("metadata", "clusterName"),
  p("metadata", "generation"),
  p("metadata", "managedFields"),
  p("metadata", "resourceVersion"),
]);

/**
 * Fields a write through this endpoint does not own, because the strategy resets them: the main resource
 * ignores status (for kinds with a status subresource), the status subresource ignores spec.
 */
export function ignoredFields(gvk: GVK, subresource?: string): FieldSet {
  if (subresource === "status") return FieldSet.fromPaths([p("spec")]);
  if (!subresource && findKind(gvk.group, gvk.kind)?.subresources?.includes("status")) {
    return FieldSet.fromPaths([p("status")]);
  }
  return new FieldSet();
}

/** The object without metadata.managedFields (shallow copies along the way). */
export function withoutManagedFields(obj: JSONObject): JSONObject {
  if (!isObject(obj.metadata) || !("managedFields" in obj.metadata)) return obj;
  const { managedFields: _, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** Sets metadata.managedFields (omitted when empty). */
export function withManagedFields(obj: JSONObject, entries: Iterable<ManagerEntry>): JSONObject {
  return withEncodedManagedFields(obj, encodeManagedFields(entries));
}

/** Sets metadata.managedFields to entries already encoded (omitted when empty). */
export function withEncodedManagedFields(obj: JSONObject, encoded: ManagedFieldsEntry[]): JSONObject {
  const metadata: JSONObject = { ...(isObject(obj.metadata) ? obj.metadata : {}) };
  if (encoded.length > 0) metadata.managedFields = encoded as unknown as JSONObject[];
  else delete metadata.managedFields;
  return { ...obj, metadata };
}
