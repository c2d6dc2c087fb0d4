// Field ownership for non-apply writes (create, update, patch), after structured-merge-diff's Updater.Update
// and kube's managedFieldsUpdater: fields this write added or changed become owned by the manager and are
// taken from every other manager; fields it removed are dropped from every manager.
import type { ManagedFieldsEntry } from "kubernetes-types/meta/v1";
import { cachedCreateFields, keepCreateFields, shapeOf } from "./createshape.ts";
import { FieldSet } from "./fieldpath.ts";
import { clone, isObject, type JSONObject } from "./json.ts";
import {
  apiVersionOf,
  decodeManagedFields,
  ignoredFields,
  managerKey,
  STRIPPED,
  timestamp,
  withEncodedManagedFields,
  withManagedFields,
  withoutManagedFields,
  type ManagerEntry,
} from "./managed-fields.ts";
import { isBuiltinType, rootType, type GVK } from "./schema/index.ts";
import { compare, emptyObject, structRef } from "./typed.ts";

export interface UpdateManagedFieldsOptions {
  /** The stored object before the write; undefined/null for a create. */
  old?: object | null;
  /** The object about to be stored (after patching, defaulting and the strategy). */
  updated: object;
  /** fieldManager query parameter, or upstream's default derived from the User-Agent (e.g. "kubectl-edit"). */
  manager: string;
  /** Always recorded as "Update" (apply writes record ownership through serverSideApply). */
  operation?: "Update" | "Apply";
  /** "status", "scale", … when the write goes through a subresource. */
  subresource?: string;
  gvk: GVK;
  now?: Date;
  /** The caller gives `updated` away (the write pipeline): the result may share its sub-trees instead of a copy. */
  handOver?: boolean;
}

/** Returns a copy of `updated` with metadata.managedFields recording this write. */
export function updateManagedFields(opts: UpdateManagedFieldsOptions): object {
  const { gvk, manager, subresource } = opts;
  const type = rootType(gvk);
  const ref = structRef(type);
  const updated = (opts.handOver ? opts.updated : clone(opts.updated)) as JSONObject;
  const old = isObject(opts.old) ? (opts.old as JSONObject) : undefined;

  // Managers: those sent with the object (clients may edit managedFields directly), else the stored ones.
  let managers = decodeManagedFields(updated);
  if (managers.size === 0 || subresource) managers = decodeManagedFields(old);
  // Upstream tracks every create, but an existing object without ownership data stays untracked until an
  // apply (skipNonAppliedManager); the apply then records its fields as "before-first-apply".
  if (old && managers.size === 0) return withManagedFields(withoutManagedFields(updated), []);

  const after = withoutManagedFields(updated);
  const apiVersion = apiVersionOf(gvk);
  // A create without ownership data in its body: the fields it owns are those of any earlier create of this shape.
  const shape = !old && managers.size === 0 && !subresource && isBuiltinType(type) ? `${apiVersion}/${gvk.kind}\n${shapeOf(after)}` : undefined;
  const known = shape === undefined ? undefined : cachedCreateFields(shape);
  if (known) {
    const owns = Object.keys(known).length > 0;
    const entry: ManagedFieldsEntry = { manager, operation: "Update", apiVersion, time: timestamp(opts.now), fieldsType: "FieldsV1", fieldsV1: known };
    return withEncodedManagedFields(after, owns ? [entry] : []);
  }

  const before = old ? withoutManagedFields(old) : emptyOf(type);
  const ignored = ignoredFields(gvk, subresource);
  const c = compare(before, after, ref);
  const removed = c.removed.recursiveDifference(ignored);
  const changed = c.modified.union(c.added).recursiveDifference(ignored);

  const self: ManagerEntry = { manager, operation: "Update", apiVersion, set: new FieldSet() };
  if (subresource) self.subresource = subresource;
  const key = managerKey(self);
  const prev = managers.get(key);

  for (const [k, m] of managers) {
    m.set = m.set.difference(changed).difference(removed);
    if (m.set.empty() && k !== key) managers.delete(k);
  }
  const owned = changed.difference(STRIPPED);
  const entry: ManagerEntry = prev ?? self;
  entry.set = entry.set.union(owned);
  if (!owned.empty()) entry.time = timestamp(opts.now);
  if (entry.set.empty()) managers.delete(key);
  else managers.set(key, entry);
  capUpdateManagers(managers);

  if (shape !== undefined) keepCreateFields(shape, owned.toFieldsV1());
  return withManagedFields(after, managers.values());
}

// What a create is compared against, made once per built-in type (compare only reads it): building it walks every
// field of the type's schema. Custom resources' types can change, so theirs is built each time.
const empties = new Map<string, JSONObject>();
function emptyOf(type: string | undefined): JSONObject {
  if (!isBuiltinType(type)) return emptyObject(type);
  let e = empties.get(type!);
  if (!e) empties.set(type!, (e = emptyObject(type)));
  return e;
}

/** Upstream keeps at most 10 Update entries; older ones are merged into "ancient-changes" per apiVersion. */
const MAX_UPDATE_MANAGERS = 10;
const ANCIENT = "ancient-changes";

function capUpdateManagers(managers: Map<string, ManagerEntry>): void {
  const updaters = [...managers.entries()].filter(([, e]) => e.operation === "Update");
  if (updaters.length <= MAX_UPDATE_MANAGERS) return;
  updaters.sort(([, a], [, b]) => (a.time ?? "").localeCompare(b.time ?? ""));
  let count = updaters.length;
  for (const [k, e] of updaters) {
    if (count <= MAX_UPDATE_MANAGERS) break;
    if (e.manager === ANCIENT && !e.subresource) continue;
    const bucket: ManagerEntry = { manager: ANCIENT, operation: "Update", apiVersion: e.apiVersion, set: e.set };
    const bucketKey = managerKey(bucket);
    const existing = managers.get(bucketKey);
    if (existing) bucket.set = existing.set.union(e.set);
    else count++;
    if (e.time) bucket.time = e.time;
    managers.delete(k);
    count--;
    managers.set(bucketKey, bucket);
  }
}
