// Schema-aware walks over objects, after structured-merge-diff's typed package: the field set an object
// sets (ToFieldSet), the difference between two objects (Compare), the apply merge (Merge) and removal of
// paths. Schema comes from schema/types.generated.ts; fields it does not know are treated as untyped
// (objects granular, lists atomic), as SMD's deduced type does.
import { badRequest } from "./errors.ts";
import { fieldPE, keyPE, valuePE, FieldSet, type Path, type PathElement } from "./fieldpath.ts";
import { clone, deepEqual, isObject, own, setOwn, type JSONObject, type JSONValue } from "./json.ts";
import { fieldSchema, typeSchema, type FieldSchema } from "./schema/index.ts";

/** What the schema says about the value at one position. */
export type Ref =
  | { kind: "struct"; type?: string } // type undefined: untyped object
  | { kind: "map"; elem?: string; atomic?: boolean } // map[string]T, keys are data
  | { kind: "list"; fs: FieldSchema }
  | { kind: "scalar" };

export function structRef(type: string | undefined): Ref {
  return { kind: "struct", type };
}

/** Ref of a field from its schema entry; undefined entry = scalar or unknown (decided by the value). */
export function refOfField(fs: FieldSchema | undefined): Ref {
  if (!fs) return { kind: "scalar" };
  if (fs.list) return { kind: "list", fs };
  if (fs.map) return { kind: "map", elem: fs.type, atomic: fs.atomic };
  return structRef(fs.type);
}

function childRef(ref: Ref, key: string): Ref {
  if (ref.kind === "map") return ref.elem ? structRef(ref.elem) : { kind: "scalar" };
  if (ref.kind === "struct") return refOfField(fieldSchema(ref.type, key));
  return { kind: "scalar" };
}

function isAtomic(ref: Ref): boolean {
  if (ref.kind === "struct") return !!typeSchema(ref.type)?.atomic;
  if (ref.kind === "map") return !!ref.atomic;
  if (ref.kind === "list") return (ref.fs.list ?? "atomic") === "atomic";
  return true;
}

/** True if key is a declared non-scalar field (SMD inserts undeclared and map keys as members). */
function declared(ref: Ref, key: string): boolean {
  return ref.kind === "struct" && !!fieldSchema(ref.type, key);
}

/** Path element of a list item: by keys (associative), by value (set), by index (atomic). */
export function itemPE(fs: FieldSchema, item: JSONValue, index: number): PathElement {
  if (fs.list === "set") return valuePE(item);
  if (fs.list === "map") {
    if (!isObject(item)) throw badRequest(`associative list with keys has an element that is not a map`);
    const defaults = typeSchema(fs.type)?.keyDefaults ?? {};
    const keys: Record<string, JSONValue> = {};
    for (const k of fs.keys ?? []) {
      const v = own(item, k) ?? (Object.hasOwn(defaults, k) ? (defaults[k] as JSONValue) : undefined);
      if (v === undefined || v === null) {
        throw badRequest(`associative list with keys has an element that omits key field "${k}" (and doesn't have default value)`);
      }
      keys[k] = v;
    }
    return keyPE(keys);
  }
  return `i:${index}`;
}

/** ToFieldSet: every leaf, list item and atomic value the object sets. */
export function toFieldSet(value: JSONValue, ref: Ref): FieldSet {
  const set = new FieldSet();
  walkSet(value, ref, [], set);
  return set;
}

// The walkers keep one mutable path (push/pop) instead of copying it at every level.
function walkSet(v: JSONValue, ref: Ref, path: Path, set: FieldSet): void {
  if (isObject(v) && (ref.kind === "struct" || ref.kind === "map" || ref.kind === "scalar")) {
    const r: Ref = ref.kind === "scalar" ? structRef(undefined) : ref;
    if (isAtomic(r) && ref.kind !== "scalar") return set.insert(path);
    for (const [k, cv] of Object.entries(v)) {
      path.push(fieldPE(k));
      walkSet(cv, childRef(r, k), path, set);
      if (cv === null || (isObject(cv) && Object.keys(cv).length === 0) || !declared(r, k)) set.insert(path);
      path.pop();
    }
    return;
  }
  if (Array.isArray(v) && ref.kind === "list" && !isAtomic(ref)) {
    const itemRef = structRef(ref.fs.type);
    v.forEach((item, i) => {
      path.push(itemPE(ref.fs, item, i));
      if (ref.fs.list === "map") walkSet(item, itemRef, path, set);
      set.insert(path);
      path.pop();
    });
    return;
  }
  if (path.length > 0) set.insert(path);
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** Compare: paths added, modified (leaves with a different value) and removed going from lhs to rhs. */
export function compare(lhs: JSONValue | undefined, rhs: JSONValue | undefined, ref: Ref): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  walkCompare(lhs, rhs, ref, [], c);
  return c;
}

// Module-level helpers rather than closures: walkCompare runs once per field of every written object.
function compareLeaf(l: JSONValue | undefined, r: JSONValue | undefined, path: Path, c: Comparison): void {
  if (path.length === 0) return;
  if (l === undefined) c.added.insert(path);
  else if (r === undefined) c.removed.insert(path);
  else if (!deepEqual(l, r)) c.modified.insert(path);
}
const objLike = (x: JSONValue | undefined) => x === undefined || x === null || isObject(x);
const listLike = (x: JSONValue | undefined) => x === undefined || x === null || Array.isArray(x);
const NO_KEYS: string[] = [];

function walkCompare(l: JSONValue | undefined, r: JSONValue | undefined, ref: Ref, path: Path, c: Comparison): void {
  const mapRef = ref.kind === "scalar" ? structRef(undefined) : ref;
  if ((isObject(l) || isObject(r)) && objLike(l) && objLike(r) && ref.kind !== "list") {
    const lm = isObject(l) ? l : {};
    const rm = isObject(r) ? r : {};
    const lk = isObject(l) ? Object.keys(lm) : NO_KEYS;
    const rk = isObject(r) ? Object.keys(rm) : NO_KEYS;
    if ((ref.kind !== "scalar" && isAtomic(mapRef)) || (lk.length === 0 && rk.length === 0)) return compareLeaf(l, r, path, c);
    // Every key of either side once, lhs's first (the order of new Set([...lk, ...rk])).
    const visit = (k: string) => {
      path.push(fieldPE(k));
      walkCompare(own(lm, k), own(rm, k), childRef(mapRef, k), path, c);
      path.pop();
    };
    for (const k of lk) visit(k);
    for (const k of rk) if (!Object.hasOwn(lm, k)) visit(k);
  } else if ((Array.isArray(l) || Array.isArray(r)) && listLike(l) && listLike(r) && ref.kind === "list") {
    const ll = Array.isArray(l) ? l : [];
    const rl = Array.isArray(r) ? r : [];
    if (isAtomic(ref) || (ll.length === 0 && rl.length === 0)) return compareLeaf(l, r, path, c);
    const lItems = indexItems(ll, ref.fs);
    const rItems = indexItems(rl, ref.fs);
    const itemRef: Ref = ref.fs.list === "map" ? structRef(ref.fs.type) : { kind: "scalar" };
    for (const pe of new Set([...lItems.keys(), ...rItems.keys()])) {
      path.push(pe);
      walkCompare(lItems.get(pe), rItems.get(pe), itemRef, path, c);
      path.pop();
    }
  } else {
    return compareLeaf(l, r, path, c);
  }
  if (path.length === 0) return;
  if (l === undefined) c.added.insert(path);
  else if (r === undefined) c.removed.insert(path);
}

function indexItems(list: JSONValue[], fs: FieldSchema): Map<PathElement, JSONValue> {
  const m = new Map<PathElement, JSONValue>();
  list.forEach((item, i) => {
    const pe = itemPE(fs, item, i);
    if (!m.has(pe)) m.set(pe, item);
  });
  return m;
}

/** Apply's merge: rhs (the applied configuration) wins on leaves; keyed lists merge item by item. */
export function mergeTyped(l: JSONValue | undefined, r: JSONValue | undefined, ref: Ref): JSONValue | undefined {
  if (r === undefined) return l;
  if (l === undefined || l === null) return clone(r);
  const mapRef = ref.kind === "scalar" ? structRef(undefined) : ref;
  if (isObject(l) && isObject(r) && ref.kind !== "list") {
    if (ref.kind !== "scalar" && isAtomic(mapRef)) return clone(r);
    const out: JSONObject = { ...l };
    for (const [k, rv] of Object.entries(r)) {
      const merged = mergeTyped(own(l, k), rv, childRef(mapRef, k));
      if (merged !== undefined) setOwn(out, k, merged);
    }
    return out;
  }
  if (Array.isArray(l) && Array.isArray(r) && ref.kind === "list" && !isAtomic(ref)) {
    return mergeLists(l, r, ref.fs);
  }
  return clone(r);
}

// SMD's list merge order: shared items follow the applied order, live-only items stay where they were.
function mergeLists(lhs: JSONValue[], rhs: JSONValue[], fs: FieldSchema): JSONValue[] {
  const itemRef: Ref = fs.list === "map" ? structRef(fs.type) : { kind: "scalar" };
  const lPEs: PathElement[] = [];
  const lObs = new Map<PathElement, JSONValue>();
  lhs.forEach((v, i) => {
    const pe = itemPE(fs, v, i);
    if (!lObs.has(pe)) {
      lObs.set(pe, v);
      lPEs.push(pe);
    }
  });
  const rPEs: PathElement[] = [];
  const rObs = new Map<PathElement, JSONValue>();
  rhs.forEach((v, i) => {
    const pe = itemPE(fs, v, i);
    if (rObs.has(pe)) throw badRequest(`duplicate entries for key ${pe.slice(2)}`);
    rObs.set(pe, v);
    rPEs.push(pe);
  });
  const shared = rPEs.filter((pe) => lObs.has(pe));
  // A cursor, not shift(): shifting a long list once per item would make the merge quadratic.
  let sharedAt = 0;
  let nextShared = shared[sharedAt];
  const advanceShared = () => (nextShared = shared[++sharedAt]);
  const merged = new Set<PathElement>();
  const out: JSONValue[] = [];
  let lI = 0;
  let rI = 0;
  while (lI < lPEs.length || rI < rPEs.length) {
    if (lI < lPEs.length && rI < rPEs.length) {
      const pe = lPEs[lI]!;
      if (pe === rPEs[rI]) {
        merged.add(pe);
        out.push(mergeTyped(lObs.get(pe), rObs.get(pe), itemRef)!);
        lI++;
        rI++;
        advanceShared();
        continue;
      }
      if (rObs.has(pe) && nextShared !== undefined && nextShared !== pe) {
        lI++;
        continue;
      }
    }
    if (lI < lPEs.length) {
      const pe = lPEs[lI]!;
      if (!rObs.has(pe)) {
        out.push(lObs.get(pe)!);
        lI++;
        continue;
      } else if (merged.has(pe)) {
        lI++;
      }
    }
    if (rI < rPEs.length) {
      const pe = rPEs[rI]!;
      merged.add(pe);
      out.push(mergeTyped(lObs.get(pe), rObs.get(pe), itemRef)!);
      rI++;
      if (nextShared === pe) advanceShared();
    }
  }
  return out;
}

/**
 * Removes one path from obj (in place). Containers left empty by the removal are dropped when the schema
 * says they are lists or maps, as Go's omitempty would drop them on the way out.
 */
export function removePath(obj: JSONObject, path: Path, ref: Ref): void {
  removeAt(obj, path, 0, ref);
}

function removeAt(v: JSONValue, path: Path, i: number, ref: Ref): boolean {
  const pe = path[i]!;
  const last = i === path.length - 1;
  if (pe.startsWith("f:") && isObject(v)) {
    const k = pe.slice(2);
    if (!Object.hasOwn(v, k)) return false;
    const mapRef = ref.kind === "scalar" ? structRef(undefined) : ref;
    const cref = childRef(mapRef, k);
    if (last) {
      delete v[k];
      return true;
    }
    const changed = removeAt(v[k]!, path, i + 1, cref);
    const cv = v[k];
    if (changed && (cref.kind === "list" || cref.kind === "map") && (Array.isArray(cv) ? cv.length === 0 : isObject(cv) && Object.keys(cv).length === 0)) {
      delete v[k];
    }
    return changed;
  }
  if (Array.isArray(v) && ref.kind === "list") {
    const idx = v.findIndex((item, j) => itemPE(ref.fs, item, j) === pe);
    if (idx < 0) return false;
    if (last) {
      v.splice(idx, 1);
      return true;
    }
    return removeAt(v[idx]!, path, i + 1, ref.fs.list === "map" ? structRef(ref.fs.type) : { kind: "scalar" });
  }
  return false;
}

/**
 * The object upstream starts from for a create: Go's zero value serialized, i.e. non-pointer structs
 * present (empty) and non-omitempty lists/maps null. It decides which created fields own themselves (".").
 */
export function emptyObject(type: string | undefined): JSONObject {
  const out: JSONObject = {};
  const ts = typeSchema(type);
  if (!ts) return out;
  for (const [k, fs] of Object.entries(ts.fields)) {
    if (!fs.always) continue;
    out[k] = !fs.list && !fs.map && fs.type ? emptyObject(fs.type) : null;
  }
  return out;
}

/** Whether pe, a child of a node with this ref, is a declared field of a struct (not a map key or list item). */
export function isNamedField(ref: Ref, pe: PathElement): boolean {
  return pe.startsWith("f:") && ref.kind === "struct" && !!fieldSchema(ref.type, pe.slice(2));
}

/**
 * SMD's EnsureNamedFieldsAreMembers: declared struct fields that have children in the set become members
 * themselves, so owning ".spec.strategy.type" also counts as owning ".spec.strategy" when pruning.
 */
export function ensureNamedFieldsAreMembers(set: FieldSet, ref: Ref): FieldSet {
  const out = new FieldSet();
  for (const m of set.members) out.members.add(m);
  for (const [pe, child] of set.children) {
    if (child.empty()) continue;
    if (isNamedField(ref, pe)) out.members.add(pe);
    out.children.set(pe, ensureNamedFieldsAreMembers(child, refAt(ref, [pe])));
  }
  return out;
}

export function refAt(root: Ref, path: Path): Ref {
  let ref = root;
  for (const pe of path) {
    if (ref.kind === "list") ref = ref.fs.list === "map" ? structRef(ref.fs.type) : { kind: "scalar" };
    else if (pe.startsWith("f:")) ref = childRef(ref.kind === "scalar" ? structRef(undefined) : ref, pe.slice(2));
    else ref = { kind: "scalar" };
  }
  return ref;
}
