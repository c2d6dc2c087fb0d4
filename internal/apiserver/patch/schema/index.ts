// Lookup helpers over the generated patch schema: which type a field has and how its lists merge.
import { ROOTS, TYPES } from "./types.generated.ts";
import type { FieldSchema, TypeSchema } from "./types.ts";

export type { FieldSchema, TypeSchema } from "./types.ts";

export interface GVK {
  group: string;
  version: string;
  kind: string;
}

// Types of custom resources (set by internal/apiextensions from CRD schemas), consulted before the generated table.
let customRoots = new Map<string, string>();
let customTypes = new Map<string, TypeSchema>();

export function setCustomTypes(roots: Map<string, string>, types: Map<string, TypeSchema>): void {
  customRoots = roots;
  customTypes = types;
}

/** Root type name of a kind ("apps.v1.Deployment"), or undefined for kinds without a schema (e.g. Scale of unknown). */
export function rootType(gvk: GVK): string | undefined {
  const key = `${gvk.group}/${gvk.version}/${gvk.kind}`;
  return customRoots.get(key) ?? (Object.hasOwn(ROOTS, key) ? ROOTS[key] : undefined);
}

export function typeSchema(type: string | undefined): TypeSchema | undefined {
  if (type && customTypes.has(type)) return customTypes.get(type);
  return type && Object.hasOwn(TYPES, type) ? TYPES[type] : undefined;
}

/** True for a built-in type from the generated table (never changes at run time, unlike custom resources' types). */
export function isBuiltinType(type: string | undefined): boolean {
  return !!type && !customTypes.has(type) && Object.hasOwn(TYPES, type);
}

/** Schema of field `name` of struct `type`; undefined when the field is a scalar or unknown. */
export function fieldSchema(type: string | undefined, name: string): FieldSchema | undefined {
  // Own properties only: a field named "constructor" or "__proto__" is unknown, not Object's member.
  const fields = typeSchema(type)?.fields;
  return fields && Object.hasOwn(fields, name) ? fields[name] : undefined;
}

/** SSA list semantics of a field (kube-openapi's schemaconv rules; lists are atomic unless declared otherwise). */
export function listKind(fs: FieldSchema | undefined): "atomic" | "set" | "map" {
  return fs?.list ?? "atomic";
}

/** Key fields of an associative list, with key defaults (e.g. protocol "TCP") to fill missing keys. */
export function listKeys(fs: FieldSchema | undefined): { keys: string[]; defaults: Record<string, unknown> } {
  const keys = fs?.keys ?? [];
  return { keys, defaults: typeSchema(fs?.type)?.keyDefaults ?? {} };
}
