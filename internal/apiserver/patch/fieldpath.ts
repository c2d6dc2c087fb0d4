// Field sets as structured-merge-diff models them: a tree of path elements where a node may itself be a
// member ("."), plus the FieldsV1 encoding used in metadata.managedFields:
//   f:<field>   a struct field or map key
//   k:{...}     an item of an associative list, by its key fields (JSON, keys sorted)
//   v:<json>    an item of a set list, by value
//   i:<n>       an item of an atomic list by index (rare)
import { isObject, type JSONObject, type JSONValue } from "./json.ts";

/** One path element in FieldsV1 form: "f:name", 'k:{"name":"c"}', 'v:"x"'. */
export type PathElement = string;
export type Path = PathElement[];

// "f:name" strings made once per field name: every write builds a field set of its object, and inserting a freshly
// concatenated string into a Set flattens and hashes it each time. Bounded (field names come from request data).
const FIELD_PE_CACHE_MAX = 8192;
const fieldPEs = new Map<string, PathElement>();

export function fieldPE(name: string): PathElement {
  let pe = fieldPEs.get(name);
  if (pe === undefined) {
    pe = `f:${name}`;
    if (fieldPEs.size < FIELD_PE_CACHE_MAX && name.length <= 128) fieldPEs.set(name, pe);
  }
  return pe;
}

export function keyPE(keys: Record<string, JSONValue>): PathElement {
  const sorted = Object.fromEntries(Object.keys(keys).sort().map((k) => [k, keys[k]!]));
  return `k:${JSON.stringify(sorted)}`;
}

export function valuePE(v: JSONValue): PathElement {
  return `v:${JSON.stringify(v)}`;
}

/** Upstream's printed form of a path: .spec.containers[name="nginx"].image, .metadata.finalizers[="x"]. */
export function pathString(path: Path): string {
  return path
    .map((pe) => {
      const body = pe.slice(2);
      switch (pe[0]) {
        case "f":
          return `.${body}`;
        case "k": {
          const keys = JSON.parse(body) as Record<string, JSONValue>;
          return `[${Object.entries(keys).map(([k, v]) => `${k}=${goValue(v)}`).join(",")}]`;
        }
        case "v":
          return `[=${goValue(JSON.parse(body))}]`;
        default:
          return `[${body}]`;
      }
    })
    .join("");
}

function goValue(v: JSONValue): string {
  return typeof v === "string" ? JSON.stringify(v) : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
}

// Upstream orders fields < keys < values < indexes, each group by its own comparison.
const KIND_ORDER: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };
function comparePE(a: PathElement, b: PathElement): number {
  const ka = KIND_ORDER[a[0]!] ?? 4;
  const kb = KIND_ORDER[b[0]!] ?? 4;
  if (ka !== kb) return ka - kb;
  if (a[0] === "i") return Number(a.slice(2)) - Number(b.slice(2));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A set of field paths. Mutating methods change this set; the others return new sets. */
export class FieldSet {
  readonly members = new Set<PathElement>();
  readonly children = new Map<PathElement, FieldSet>();

  static fromPaths(paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Parses FieldsV1 JSON ({"f:spec":{"f:replicas":{}}}). */
  static fromFieldsV1(v: unknown): FieldSet {
    const s = new FieldSet();
    if (!isObject(v)) return s;
    for (const [pe, sub] of Object.entries(v)) {
      if (pe === ".") continue;
      if (isObject(sub) && Object.keys(sub).length > 0) {
        const child = FieldSet.fromFieldsV1(sub);
        if (!child.empty()) s.children.set(pe, child);
        if ("." in sub) s.members.add(pe);
      } else {
        s.members.add(pe);
      }
    }
    return s;
  }

  toFieldsV1(): JSONObject {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): JSONObject {
    const out: JSONObject = {};
    if (includeSelf && !this.empty()) out["."] = {};
    const pes = this.sortedElements();
    for (const pe of pes) {
      const child = this.children.get(pe);
      if (child && !child.empty()) out[pe] = child.emit(this.members.has(pe));
      else if (this.members.has(pe)) out[pe] = {};
    }
    return out;
  }

  /** Members and children's elements once each, in upstream's order (encoding runs this for every node on every write). */
  private sortedElements(): PathElement[] {
    const pes = [...this.members];
    for (const k of this.children.keys()) if (!this.members.has(k)) pes.push(k);
    if (pes.length > 1) pes.sort(comparePE);
    return pes;
  }

  empty(): boolean {
    if (this.members.size > 0) return false;
    for (const c of this.children.values()) if (!c.empty()) return false;
    return true;
  }

  insert(path: Path): void {
    if (path.length === 0) return;
    let node: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) {
      let next = node.children.get(path[i]!);
      if (!next) node.children.set(path[i]!, (next = new FieldSet()));
      node = next;
    }
    node.members.add(path[path.length - 1]!);
  }

  has(path: Path): boolean {
    let node: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1 && node; i++) node = node.children.get(path[i]!);
    return !!node && node.members.has(path[path.length - 1]!);
  }

  /** True if the set has the path itself or anything below it. */
  hasPrefix(path: Path): boolean {
    let node: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1 && node; i++) node = node.children.get(path[i]!);
    if (!node) return false;
    const last = path[path.length - 1]!;
    if (node.members.has(last)) return true;
    const c = node.children.get(last);
    return !!c && !c.empty();
  }

  /** Sub-tree under one path element. */
  child(pe: PathElement): FieldSet | undefined {
    return this.children.get(pe);
  }

  copy(): FieldSet {
    const s = new FieldSet();
    for (const m of this.members) s.members.add(m);
    for (const [pe, c] of this.children) s.children.set(pe, c.copy());
    return s;
  }

  /** Sets are not changed after they are built, so a union shares the sub-trees only one side has. */
  union(o: FieldSet): FieldSet {
    const s = new FieldSet();
    for (const m of this.members) s.members.add(m);
    for (const m of o.members) s.members.add(m);
    for (const [pe, c] of this.children) {
      const other = o.children.get(pe);
      s.children.set(pe, other ? c.union(other) : c);
    }
    for (const [pe, c] of o.children) if (!this.children.has(pe)) s.children.set(pe, c);
    return s;
  }

  intersection(o: FieldSet): FieldSet {
    const s = new FieldSet();
    for (const m of this.members) if (o.members.has(m)) s.members.add(m);
    for (const [pe, c] of this.children) {
      const other = o.children.get(pe);
      if (!other) continue;
      const i = c.intersection(other);
      if (!i.empty()) s.children.set(pe, i);
    }
    return s;
  }

  /** Paths of this set that are not in o (exact paths only; o's members do not remove sub-trees). */
  difference(o: FieldSet): FieldSet {
    const s = new FieldSet();
    for (const m of this.members) if (!o.members.has(m)) s.members.add(m);
    for (const [pe, c] of this.children) {
      const other = o.children.get(pe);
      const d = other ? c.difference(other) : c; // shared, as union shares: built sets are never changed
      if (!d.empty()) s.children.set(pe, d);
    }
    return s;
  }

  /** Like difference, but a member of o also removes everything below it. */
  recursiveDifference(o: FieldSet): FieldSet {
    const s = new FieldSet();
    for (const m of this.members) if (!o.members.has(m)) s.members.add(m);
    for (const [pe, c] of this.children) {
      if (o.members.has(pe)) continue;
      const other = o.children.get(pe);
      const d = other ? c.recursiveDifference(other) : c;
      if (!d.empty()) s.children.set(pe, d);
    }
    return s;
  }

  /** Every member path, parents before children, in upstream's order. */
  paths(prefix: Path = []): Path[] {
    const out: Path[] = [];
    const pes = this.sortedElements();
    for (const pe of pes) {
      if (this.members.has(pe)) out.push([...prefix, pe]);
      const c = this.children.get(pe);
      if (c) out.push(...c.paths([...prefix, pe]));
    }
    return out;
  }
}
