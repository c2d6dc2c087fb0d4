// Pruning as upstream's structural pruning: fields the schema does not specify are dropped, except below
// x-kubernetes-preserve-unknown-fields: true, x-kubernetes-int-or-string, and the apiVersion/kind/metadata
// of the root and of x-kubernetes-embedded-resource objects. Returns the dropped paths, which become
// `unknown field "spec.x"` under fieldValidation=Strict (and Warning headers under Warn).
import { childPath, has, indexPath, isObject, type Schema } from "./types.ts";

const META = ["apiVersion", "kind", "metadata"];

export function prune(obj: Record<string, unknown>, schema: Schema | undefined): string[] {
  const dropped: string[] = [];
  if (!schema) return dropped;
  walk(obj, schema, "", true, dropped);
  return dropped;
}

function walk(v: unknown, s: Schema, path: string, keepMeta: boolean, dropped: string[]): void {
  if (s["x-kubernetes-int-or-string"]) return;
  if (Array.isArray(v)) {
    const item = s.items && !Array.isArray(s.items) ? (s.items as Schema) : undefined;
    if (item) v.forEach((x, i) => walk(x, item, indexPath(path, i), !!item["x-kubernetes-embedded-resource"], dropped));
    return;
  }
  if (!isObject(v)) return;
  const props = s.properties ?? {};
  const ap = s.additionalProperties as unknown;
  const preserve = s["x-kubernetes-preserve-unknown-fields"] === true;
  for (const k of Object.keys(v)) {
    const p = childPath(path, k);
    if (keepMeta && META.includes(k)) {
      // As upstream: a resource's apiVersion/kind/metadata are never pruned by its schema (a schema may say
      // `metadata: {type: object}`); metadata keeps exactly the ObjectMeta fields.
      if (k === "metadata") pruneEmbeddedMeta(v[k], p, dropped);
    } else if (has(props, k)) {
      const ps = props[k]!;
      walk(v[k], ps, p, !!ps["x-kubernetes-embedded-resource"], dropped);
    } else if (isObject(ap)) {
      walk(v[k], ap as Schema, p, !!(ap as Schema)["x-kubernetes-embedded-resource"], dropped);
    } else if (!preserve && ap !== true) {
      delete v[k];
      dropped.push(p);
    }
  }
}

const OBJECT_META = new Set([
  "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
  "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers", "managedFields",
]);

/** The root's and embedded objects' metadata keep only ObjectMeta fields. */
function pruneEmbeddedMeta(m: unknown, path: string, dropped: string[]): void {
  if (!isObject(m)) return;
  for (const k of Object.keys(m)) {
    if (!OBJECT_META.has(k)) {
      delete m[k];
      dropped.push(childPath(path, k));
    }
  }
}
