// Kubernetes strategic merge patch (application/strategic-merge-patch+json), as upstream's
// apimachinery/pkg/util/strategicpatch applies it on the server (MergeParallelList and IgnoreUnmatchedNulls on):
// lists with patchStrategy "merge" merge by their patchMergeKey, others are replaced; directives
// $patch (replace|delete on maps and list items), $retainKeys, $deleteFromPrimitiveList/<f>,
// $setElementOrder/<f>; null deletes. List order follows upstream's normalizeElementOrder.
// Merge keys and strategies come from the generated schema (schema/types.generated.ts).
import { badRequest, internalPatchError, unprocessable } from "./errors.ts";
import { clone, deepEqual, isObject, own, setOwn, type JSONObject, type JSONValue } from "./json.ts";
import { normalizeTyped } from "./normalize.ts";
import { fieldSchema, rootType, type FieldSchema, type GVK } from "./schema/index.ts";

const PATCH = "$patch";
const RETAIN_KEYS = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/";
const SET_ELEMENT_ORDER = "$setElementOrder/";

// Upstream's mergepatch error texts.
const ERR_BAD_JSON_DOC = "invalid JSON document";
const ERR_RETAIN_KEYS = "invalid patch format of retainKeys";
const ERR_LIST_OF_LISTS = "lists of lists are not supported";

/** Where we are in the schema: the struct type of the current map (undefined = schemaless, plain merge). */
type Ctx = string | undefined;

/**
 * Applies a strategic merge patch to a copy of obj, for an object of the given kind. Throws PatchError:
 * 400 for a non-object patch or a bad $retainKeys, 422 for lists of lists, 500 with upstream's message (as
 * upstream, which returns these as plain errors) for list items without their merge key, unknown $patch
 * values and inconsistent $setElementOrder lists.
 */
export function applyStrategicMergePatch<T>(obj: T, patch: unknown, gvk: GVK): T {
  if (!isObject(patch)) throw badRequest(ERR_BAD_JSON_DOC);
  const original = isObject(obj) ? (clone(obj) as JSONObject) : {};
  const type = rootType(gvk);
  return normalizeTyped(mergeMap(original, clone(patch), type), type) as T;
}

function mergeMap(original: JSONObject, patch: JSONObject, type: Ctx): JSONObject {
  if (PATCH in patch) {
    const directive = patch[PATCH];
    if (directive === "replace") {
      delete patch[PATCH];
      return stripDirectives(patch, type);
    }
    if (directive === "delete") return {};
    // Upstream accepts only replace and delete on maps ("merge" included in the error).
    throw internalPatchError(`unknown patch type: ${String(directive)} in map: ${goMap(patch)}`);
  }
  if (RETAIN_KEYS in patch) applyRetainKeys(original, patch);

  // $setElementOrder and $deleteFromPrimitiveList are processed together with the list they refer to.
  const handled = new Set<string>();
  for (const key of Object.keys(patch)) {
    let field: string | undefined;
    if (key.startsWith(SET_ELEMENT_ORDER)) field = key.slice(SET_ELEMENT_ORDER.length);
    else if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) field = key.slice(DELETE_FROM_PRIMITIVE_LIST.length);
    if (field === undefined || handled.has(field)) continue;
    handled.add(field);
    mergeParallelLists(original, patch, field, type);
  }

  for (const [k, pv] of Object.entries(patch)) {
    if (k.startsWith("$") || handled.has(k)) continue;
    if (pv === null) {
      delete original[k];
      continue;
    }
    // A key missing from the original merges into nothing: the patch value minus directives and nulls.
    const childFs = fieldSchema(type, k);
    const ov = own(original, k);
    setOwn(original, k, mergeValue(ov === null ? undefined : ov, pv, childFs, childFs?.type));
  }
  return original;
}

function mergeValue(ov: JSONValue | undefined, pv: JSONValue, fs: FieldSchema | undefined, type: Ctx): JSONValue {
  if (isObject(pv)) {
    if (fs?.map && !fs.atomic) {
      // map[string]T: keys are data, values of type fs.type.
      if (fs.strategy === "replace") return stripMapValues(pv, fs.type);
      return mergeDataMap(isObject(ov) ? ov : {}, pv, fs.type);
    }
    if (fs?.strategy === "replace") return stripDirectives(pv, type);
    return mergeMap(isObject(ov) ? ov : {}, pv, type);
  }
  if (Array.isArray(pv)) {
    const merge = fs?.strategy?.split(",").includes("merge");
    if (!merge) return stripListDirectives(pv, fs);
    return mergeList(Array.isArray(ov) ? ov : [], pv, fs!, type);
  }
  return pv;
}

/** Merges a map[string]T patch: keys are data (no field schema); values may be structs of type elemType. */
function mergeDataMap(original: JSONObject, patch: JSONObject, elemType: Ctx): JSONObject {
  if (own(patch, PATCH) === "replace") {
    delete patch[PATCH];
    return stripMapValues(patch, elemType);
  }
  if (own(patch, PATCH) === "delete") return {};
  for (const [k, pv] of Object.entries(patch)) {
    if (k.startsWith("$")) continue;
    const ov = own(original, k);
    if (pv === null) delete original[k];
    else if (isObject(pv) && elemType) setOwn(original, k, mergeMap(isObject(ov) ? ov : {}, pv, elemType));
    else setOwn(original, k, clone(pv));
  }
  return original;
}

function stripMapValues(m: JSONObject, elemType: Ctx): JSONObject {
  const out: JSONObject = {};
  for (const [k, v] of Object.entries(m)) {
    if (k.startsWith("$") || v === null) continue;
    setOwn(out, k, isObject(v) && elemType ? stripDirectives(v, elemType) : v);
  }
  return out;
}

/** A value taken verbatim from the patch (no original to merge with): drop directives and nulls. */
function stripDirectives(m: JSONObject, type: Ctx): JSONObject {
  return mergeMap({}, m, type);
}

function stripListDirectives(list: JSONValue[], fs: FieldSchema | undefined): JSONValue[] {
  if (list.some(Array.isArray)) throw unprocessable(ERR_LIST_OF_LISTS);
  return list
    .filter((v) => !(isObject(v) && PATCH in v && Object.keys(v).length === 1))
    .map((v) => (isObject(v) ? stripDirectives(v, fs?.type) : v));
}

/** Lists with patchStrategy "merge": maps merge by mergeKey, scalars are a set. */
function mergeList(original: JSONValue[], patch: JSONValue[], fs: FieldSchema, type: Ctx): JSONValue[] {
  if (patch.some(Array.isArray) || original.some(Array.isArray)) throw unprocessable(ERR_LIST_OF_LISTS);
  const { merged, order } = mergeListItems(original, patch, fs, type);
  if (!order) return merged;
  return orderMerged(merged, patch, original, fs.mergeKey ?? "");
}

/**
 * Merges the items, returning the merged list and whether it still needs upstream's ordering
 * (false after "$patch: replace", where the patch is the result).
 */
function mergeListItems(
  original: JSONValue[],
  patch: JSONValue[],
  fs: FieldSchema,
  type: Ctx,
): { merged: JSONValue[]; order: boolean } {
  const isMapList = patch.some(isObject) || original.some(isObject);
  if (!isMapList) {
    // Set of scalars: union without duplicates.
    return { merged: dedupe([...original, ...patch]), order: true };
  }
  const key = fs.mergeKey;
  if (!key) throw internalPatchError(`cannot merge lists without merge key for ${type ?? "type"}`);
  let work = original.map((v) => clone(v));
  const items: JSONObject[] = [];
  // Lookups by merge-key value go through maps: a patch of many list items must not cost items × list.
  const deletes = new Set<string>();
  let replace = false;
  for (const v of patch) {
    if (!isObject(v)) throw internalPatchError(`${ERR_BAD_JSON_DOC}: list item is not a map`);
    if (!(PATCH in v)) {
      items.push(v);
      continue;
    }
    const directive = v[PATCH];
    if (directive === "delete") {
      if (!(key in v)) throw internalPatchError(`map: ${goMap(v)} does not contain declared merge key: ${key}`);
      deletes.add(canon(own(v, key)));
    } else if (directive === "replace") {
      replace = true;
    } else if (directive === "merge") {
      throw internalPatchError("merging lists cannot yet be specified in the patch");
    } else {
      throw internalPatchError(`unknown patch type: ${String(directive)} in map: ${goMap(v)}`);
    }
  }
  if (deletes.size) work = work.filter((o) => !(isObject(o) && deletes.has(canon(own(o, key)))));
  if (replace) return { merged: items.map((v) => stripDirectives(v, fs.type)), order: false };
  const at = new ListIndex(work, key);
  for (const item of items) {
    if (!(key in item)) throw internalPatchError(`map: ${goMap(item)} does not contain declared merge key: ${key}`);
    const i = at.indexOf(item);
    if (i >= 0) work[i] = mergeMap(work[i] as JSONObject, item, fs.type);
    else at.add(work.push(stripDirectives(item, fs.type)) - 1, work[work.length - 1]!);
  }
  return { merged: work, order: true };
}

function dedupe(list: JSONValue[]): JSONValue[] {
  const seen = new Set<string>();
  return list.filter((v) => {
    const c = canon(v);
    return seen.has(c) ? false : (seen.add(c), true);
  });
}

/** A canonical text of a JSON value (object keys sorted): equal texts exactly when deepEqual. */
function canon(v: JSONValue | undefined): string {
  if (v === undefined) return "~";
  if (Array.isArray(v)) return `[${v.map(canon).join(",")}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(",")}}`;
  return JSON.stringify(v);
}

/**
 * First position of each item of a list by merge-key value (map items) and by whole value (built on first use),
 * so lookups are O(1) instead of a scan: upstream's element lookups are linear, but here one request's quadratic
 * merge would stall every other request on the event loop.
 */
class ListIndex {
  private byKey = new Map<string, number>();
  private byValue?: Map<string, number>;
  constructor(
    private readonly list: JSONValue[],
    private readonly key: string,
  ) {
    list.forEach((o, i) => this.addKey(i, o));
  }

  private addKey(i: number, o: JSONValue): void {
    if (!this.key || !isObject(o)) return;
    const k = canon(own(o, this.key));
    if (!this.byKey.has(k)) this.byKey.set(k, i);
  }

  add(i: number, o: JSONValue): void {
    this.addKey(i, o);
    const c = canon(o);
    if (this.byValue && !this.byValue.has(c)) this.byValue.set(c, i);
  }

  /** As a scan would find it: by merge key for map items (when the list has a key), else by value. */
  indexOf(item: JSONValue): number {
    if (this.key && isObject(item)) return this.byKey.get(canon(own(item, this.key))) ?? -1;
    if (!this.byValue) {
      this.byValue = new Map();
      this.list.forEach((o, i) => {
        const c = canon(o);
        if (!this.byValue!.has(c)) this.byValue!.set(c, i);
      });
    }
    return this.byValue.get(canon(item)) ?? -1;
  }
}

/**
 * Upstream's final ordering: items present in `patchOrder` come in that order; the others (server-only) keep
 * their live order and are interleaved by their position in the live list (normalizeElementOrder).
 */
function orderMerged(merged: JSONValue[], patchOrder: JSONValue[], serverOrder: JSONValue[], key: string): JSONValue[] {
  const inPatch = new ListIndex(patchOrder, key);
  const inServer = new ListIndex(serverOrder, key);
  // Each item with its position in the patch order and in the live order, computed once.
  const items = merged.map((v) => ({ v, p: inPatch.indexOf(v), s: inServer.indexOf(v) }));
  const byOrder = (pos: "p" | "s") => (a: (typeof items)[number], b: (typeof items)[number]) => (a[pos] >= 0 && b[pos] >= 0 ? a[pos] - b[pos] : 0);
  const patchItems = items.filter((x) => x.p >= 0).sort(byOrder("p"));
  const serverOnly = items.filter((x) => x.p < 0).sort(byOrder("s"));
  // mergeSortedSlice: insert server-only items into the patch-ordered list using the live order.
  const out: JSONValue[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < patchItems.length) {
    if (i >= serverOnly.length) out.push(patchItems[j++]!.v);
    else if (j >= patchItems.length) out.push(serverOnly[i++]!.v);
    else {
      const li = serverOnly[i]!.s;
      const ri = patchItems[j]!.s;
      if (li >= 0 && ri >= 0 && li < ri) out.push(serverOnly[i++]!.v);
      else out.push(patchItems[j++]!.v);
    }
  }
  return out;
}

/** $retainKeys: keys of the original not listed are cleared; patch keys must all be listed. */
function applyRetainKeys(original: JSONObject, patch: JSONObject): void {
  const retain = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(retain)) throw badRequest(ERR_RETAIN_KEYS);
  const keep = new Set(retain.map(String));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER) || k === PATCH) continue;
    if (!keep.has(k)) throw badRequest(ERR_RETAIN_KEYS);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** Processes field `field` together with its $setElementOrder / $deleteFromPrimitiveList directives. */
function mergeParallelLists(original: JSONObject, patch: JSONObject, field: string, type: Ctx): void {
  const orderKey = SET_ELEMENT_ORDER + field;
  const deleteKey = DELETE_FROM_PRIMITIVE_LIST + field;
  const order = own(patch, orderKey);
  const toDelete = own(patch, deleteKey);
  const patchList = own(patch, field);
  delete patch[orderKey];
  delete patch[deleteKey];
  if (order !== undefined && !Array.isArray(order)) {
    throw internalPatchError(`expected a []interface {}, but received a ${goType(order)}`);
  }
  // Upstream silently skips a delete list that is not a list.
  const deletions = Array.isArray(toDelete) ? toDelete : undefined;
  if (patchList === null) {
    delete original[field];
    delete patch[field];
    return;
  }
  if (patchList !== undefined && !Array.isArray(patchList)) throw badRequest(ERR_BAD_JSON_DOC);
  const fs = fieldSchema(type, field) ?? { strategy: "merge" };
  const strategyMerge = fs.strategy?.split(",").includes("merge");
  const ov = own(original, field);
  const originalList = Array.isArray(ov) ? ov : [];
  let merged: JSONValue[];
  let needsOrder = true;
  if (!strategyMerge) {
    // A replace-strategy list: the patch list (if any) replaces; the order directive is ignored.
    if (patchList === undefined) return;
    merged = stripListDirectives(patchList, fs);
    needsOrder = false;
  } else {
    const r = mergeListItems(originalList, (patchList as JSONValue[] | undefined) ?? [], fs, type);
    merged = r.merged;
    needsOrder = r.order;
  }
  if (deletions) {
    const gone = new Set(deletions.map(canon));
    merged = merged.filter((v) => !gone.has(canon(v)));
  }
  if (needsOrder && order) {
    const key = fs.mergeKey ?? "";
    if (key) {
      for (const o of order) {
        if (!isObject(o)) throw internalPatchError(`expected a map[string]interface {}, but received a ${goType(o)}`);
        if (!(key in o)) throw internalPatchError(`map: ${goMap(o)} does not contain declared merge key: ${key}`);
      }
    }
    if (Array.isArray(patchList)) checkOrderMatches(patchList, order, key);
    merged = orderMerged(merged, order, originalList, key);
  } else if (needsOrder && Array.isArray(patchList)) {
    merged = orderMerged(merged, patchList, originalList, fs.mergeKey ?? "");
  }
  if (merged.length === 0 && ov === undefined) {
    delete patch[field];
    return;
  }
  setOwn(original, field, merged);
  delete patch[field];
}

/**
 * The patch list must follow the $setElementOrder list (upstream's validatePatchWithSetOrderList); kubectl
 * always sends them consistent, a hand-written patch may not.
 */
function checkOrderMatches(patchList: JSONValue[], order: JSONValue[], key: string): void {
  const items = key ? patchList.filter((v) => !(isObject(v) && v[PATCH] === "delete")) : patchList;
  if (order.length === 0 || items.length === 0) return;
  let pi = 0;
  let oi = 0;
  while (pi < items.length && oi < order.length) {
    const item = items[pi]!;
    if (isObject(item) && PATCH in item) {
      pi++;
      continue;
    }
    const same = key ? isObject(item) && isObject(order[oi]) && deepEqual(item[key], (order[oi] as JSONObject)[key]) : deepEqual(item, order[oi]);
    if (same) pi++;
    oi++;
  }
  if (pi < items.length && oi >= order.length) {
    throw internalPatchError(`The order in patch list:\n${goValue(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goValue(order)}\n`);
  }
}

/** Go's reflect type name of a decoded JSON value, for upstream's ErrBadArgType messages. */
function goType(v: JSONValue): string {
  if (Array.isArray(v)) return "[]interface {}";
  if (isObject(v)) return "map[string]interface {}";
  return typeof v === "number" ? "float64" : typeof v === "boolean" ? "bool" : v === null ? "<nil>" : "string";
}

function goValue(v: JSONValue): string {
  if (Array.isArray(v)) return `[${v.map(goValue).join(" ")}]`;
  if (isObject(v)) return goMap(v);
  return v === null ? "<nil>" : String(v);
}

/** Go's %v rendering of a map, for error messages that match upstream's. */
function goMap(m: JSONObject | undefined): string {
  if (!m) return "map[]";
  const parts = Object.keys(m)
    .sort()
    .map((k) => `${k}:${goValue(m[k]!)}`);
  return `map[${parts.join(" ")}]`;
}
