// Shape of the patch schema table (types.generated.ts): for each API type, its non-scalar fields and how
// lists and maps merge, mirroring upstream's struct tags and OpenAPI extensions.

export interface FieldSchema {
  /** Table name of the struct type of the field, or of its list/map elements; absent for scalars. */
  type?: string;
  /** List semantics for server-side apply (x-kubernetes-list-type): atomic, set (of scalars) or map (keyed). */
  list?: "atomic" | "set" | "map";
  /** Key fields of a "map" list (x-kubernetes-list-map-keys). */
  keys?: string[];
  /** Strategic merge patch strategy tag: "merge", "replace", "retainKeys" or "merge,retainKeys". */
  strategy?: string;
  /** Strategic merge patch merge key (patchMergeKey). */
  mergeKey?: string;
  /** The field is a map[string]T. */
  map?: boolean;
  /** The map is replaced as a whole (x-kubernetes-map-type: atomic). */
  atomic?: boolean;
  /** Present in upstream's serialization of an empty object (non-pointer struct, or list/map without omitempty). */
  always?: boolean;
}

export interface TypeSchema {
  /** The struct is replaced as a whole by apply (+structType=atomic). */
  atomic?: boolean;
  fields: Record<string, FieldSchema>;
  /** Defaults of key fields used in keyed lists (e.g. ContainerPort.protocol "TCP"). */
  keyDefaults?: Record<string, unknown>;
}
