// Server-side apply (application/apply-patch+yaml), after structured-merge-diff's Updater.Apply: merge the
// applied configuration into the live object, prune what this manager applied before but no longer applies
// (unless someone else owns it), and refuse to change fields other managers own unless forced.
import { ApplyConflictError, badRequest } from "./errors.ts";
import { FieldSet, pathString, type Path } from "./fieldpath.ts";
import { clone, deepEqual, isObject, type JSONObject } from "./json.ts";
import {
  apiVersionOf,
  decodeManagedFields,
  ignoredFields,
  managerKey,
  STRIPPED,
  timestamp,
  withManagedFields,
  withoutManagedFields,
  type ManagerEntry,
} from "./managed-fields.ts";
import { allowedConflicts, buildLastApplied, hasLastApplied, KUBECTL_MANAGER, setLastApplied } from "./last-applied.ts";
import { normalizeTyped } from "./normalize.ts";
import { rootType, type GVK } from "./schema/index.ts";
import { compare, emptyObject, ensureNamedFieldsAreMembers, mergeTyped, removePath, structRef, toFieldSet, type Ref } from "./typed.ts";

export interface ServerSideApplyOptions {
  /** The stored object; undefined/null when the apply creates it. */
  live?: object | null;
  /** The applied configuration (the request body, parsed from YAML/JSON). */
  applied: object;
  /** fieldManager query parameter (required for apply). */
  manager: string;
  /** force=true (kubectl --force-conflicts): take ownership of conflicting fields. */
  force?: boolean;
  gvk: GVK;
  subresource?: string;
  now?: Date;
}

/**
 * Returns the new object with metadata.managedFields updated. Throws ApplyConflictError (409) when the
 * apply would change fields owned by other managers, PatchError 400 for malformed configurations.
 */
export function serverSideApply(opts: ServerSideApplyOptions): object {
  const { gvk, manager, subresource } = opts;
  if (!isObject(opts.applied)) throw badRequest("applied configuration must be an object");
  const appliedMeta = (opts.applied as JSONObject).metadata;
  if (isObject(appliedMeta) && appliedMeta.managedFields != null) {
    throw badRequest("metadata.managedFields must be nil");
  }
  const type = rootType(gvk);
  const ref = structRef(type);
  const applied = clone(opts.applied) as JSONObject;
  const liveObj = isObject(opts.live) ? (opts.live as JSONObject) : undefined;
  const live = liveObj ? withoutManagedFields(liveObj) : undefined;
  const apiVersion = apiVersionOf(gvk);

  const managers = decodeManagedFields(liveObj);
  if (liveObj && managers.size === 0) {
    // Objects written before any ownership was tracked: their fields belong to "before-first-apply",
    // so the first apply conflicts instead of silently taking them (upstream's skipNonApplied logic).
    const c = compare(emptyObject(type), live!, ref);
    const set = c.added.union(c.modified).difference(STRIPPED).recursiveDifference(ignoredFields(gvk, subresource));
    const e: ManagerEntry = { manager: "before-first-apply", operation: "Update", apiVersion, set };
    if (!set.empty()) managers.set(managerKey(e), e);
  }

  const ignored = ignoredFields(gvk, subresource);
  const self: ManagerEntry = { manager, operation: "Apply", apiVersion, set: new FieldSet() };
  if (subresource) self.subresource = subresource;
  const key = managerKey(self);
  const previous = managers.get(key);
  const lastSet = previous?.set.recursiveDifference(ignored);
  self.set = toFieldSet(applied, ref).recursiveDifference(ignored);
  if (previous?.time) self.time = previous.time;
  managers.set(key, self);

  let merged = (mergeTyped(live ?? {}, applied, ref) ?? {}) as JSONObject;
  if (lastSet) merged = prune(merged, lastSet, managers, ref);

  // Conflicts: fields this apply adds or changes that other managers own.
  const base = live ?? emptyObject(type);
  const c = compare(base, merged, ref);
  const changed = c.modified.union(c.added).recursiveDifference(ignored);
  const removed = c.removed.recursiveDifference(ignored);
  // kubectl moving from client-side apply: fields still at their last-applied value are not conflicts.
  const allowed = !opts.force && manager === KUBECTL_MANAGER && live ? allowedConflicts(live, ref) : undefined;
  let conflicts: { manager: string; apiVersion: string; field: string; path: Path }[] = [];
  for (const [k, m] of managers) {
    if (k === key) continue;
    for (const path of m.set.intersection(changed).paths()) {
      conflicts.push({
        manager: m.manager,
        apiVersion: m.operation === "Update" ? m.apiVersion : "",
        field: pathString(path),
        path,
      });
    }
  }
  if (allowed) conflicts = conflicts.filter((c) => !allowed.has(c.path));
  if (conflicts.length > 0 && !opts.force) {
    conflicts.sort((a, b) => (a.manager < b.manager ? -1 : a.manager > b.manager ? 1 : 0));
    throw new ApplyConflictError(
      conflicts.map(({ manager: m, apiVersion: v, field, path }) => ({
        manager: m,
        apiVersion: v,
        field,
        subresource: subresourceOf(managers, m, path),
      })),
    );
  }
  for (const [k, m] of managers) {
    if (k === key) continue;
    m.set = m.set.difference(changed).difference(removed);
    if (m.set.empty()) managers.delete(k);
  }
  self.set = self.set.difference(STRIPPED);
  const noop = live !== undefined && deepEqual(live, merged);
  if (!noop || !self.time) self.time = timestamp(opts.now);
  if (self.set.empty()) managers.delete(key);
  normalizeTyped(merged, type);
  dropNulls(merged);
  if (manager === KUBECTL_MANAGER && hasLastApplied(live)) setLastApplied(merged, buildLastApplied(applied));
  return withManagedFields(merged, managers.values());
}

/** Nulls in an applied configuration leave no value behind (Go decodes them to unset fields). */
function dropNulls(v: unknown): void {
  if (Array.isArray(v)) v.forEach(dropNulls);
  else if (isObject(v)) {
    for (const [k, cv] of Object.entries(v)) {
      if (cv === null) delete v[k];
      else dropNulls(cv);
    }
  }
}

function subresourceOf(managers: Map<string, ManagerEntry>, manager: string, path: Path): string | undefined {
  for (const m of managers.values()) if (m.manager === manager && m.set.has(path)) return m.subresource;
  return undefined;
}

/**
 * Removes what the manager applied last time but not this time, unless a manager (this apply included)
 * still owns it: SMD's prune + addBackOwnedItems + addBackDanglingItems, which together remove the paths
 * of the last applied set (named struct fields on the way counting as members) that nobody owns now.
 */
function prune(merged: JSONObject, lastSet: FieldSet, managers: Map<string, ManagerEntry>, ref: Ref): JSONObject {
  let owned = new FieldSet();
  for (const m of managers.values()) owned = owned.union(m.set);
  owned = ensureNamedFieldsAreMembers(owned, ref);
  const out = clone(merged);
  const removed: Path[] = [];
  for (const path of ensureNamedFieldsAreMembers(lastSet, ref).paths()) {
    if (removed.some((r) => r.length <= path.length && r.every((pe, i) => pe === path[i]))) continue;
    if (owned.has(path)) continue;
    removePath(out, path, ref);
    removed.push(path);
  }
  return out;
}
