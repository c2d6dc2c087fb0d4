// CRD schemas as server-side apply's type table (the patch library's FieldSchema/TypeSchema): objects are
// structs, additionalProperties maps, arrays follow x-kubernetes-list-type / list-map-keys, and
// x-kubernetes-map-type: atomic makes a struct or map replace as a whole — what upstream's
// structured-merge-diff derives from the same schema.
import { setCustomTypes, type FieldSchema, type TypeSchema } from "../apiserver/patch/schema/index.ts";
import { isObject, type Schema } from "./schema/types.ts";
import { servedVersions } from "./served.ts";

function build(name: string, s: Schema, types: Map<string, TypeSchema>): void {
  const fields: Record<string, FieldSchema> = {};
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    const fs = field(`${name}.${k}`, p, types);
    if (fs) fields[k] = fs;
  }
  const ts: TypeSchema = { fields };
  if (s["x-kubernetes-map-type"] === "atomic") ts.atomic = true;
  types.set(name, ts);
}

function field(name: string, p: Schema, types: Map<string, TypeSchema>): FieldSchema | undefined {
  if (p.type === "array") {
    const fs: FieldSchema = { list: (p["x-kubernetes-list-type"] as FieldSchema["list"]) ?? "atomic" };
    if (fs.list === "map") fs.keys = p["x-kubernetes-list-map-keys"] ?? [];
    const item = p.items && !Array.isArray(p.items) ? p.items : undefined;
    if (item?.type === "object" && item.properties) {
      build(`${name}[]`, item, types);
      fs.type = `${name}[]`;
      const defaults: Record<string, unknown> = {};
      for (const k of fs.keys ?? []) if (item.properties[k]?.default !== undefined) defaults[k] = item.properties[k]!.default;
      if (Object.keys(defaults).length) types.get(fs.type)!.keyDefaults = defaults;
    }
    return fs;
  }
  if (p.type === "object") {
    const ap = p.additionalProperties;
    if (isObject(ap)) {
      const fs: FieldSchema = { map: true };
      if (p["x-kubernetes-map-type"] === "atomic") fs.atomic = true;
      const elem = ap as Schema;
      if (elem.type === "object" && elem.properties) {
        build(`${name}{}`, elem, types);
        fs.type = `${name}{}`;
      }
      return fs;
    }
    if (p.properties) {
      build(name, p, types);
      return { type: name };
    }
    if (p["x-kubernetes-map-type"] === "atomic") return { map: true, atomic: true };
  }
  return undefined;
}

/** Rebuilds the apply type table of every served custom resource version. */
export function refreshApplyTypes(): void {
  const roots = new Map<string, string>();
  const types = new Map<string, TypeSchema>();
  for (const sv of servedVersions()) {
    const root = `crd:${sv.ri.group}/${sv.ri.version}/${sv.ri.kind}`;
    roots.set(`${sv.ri.group}/${sv.ri.version}/${sv.ri.kind}`, root);
    build(root, sv.schema ?? { type: "object" }, types);
    types.get(root)!.fields.metadata = { type: "meta.v1.ObjectMeta", always: true };
  }
  setCustomTypes(roots, types);
}
