// Interop with kubectl's client-side apply annotation, as upstream's lastAppliedManager/lastAppliedUpdater:
// when "kubectl" moves an object from client-side to server-side apply, conflicts on fields whose live value
// still equals the last-applied configuration are not conflicts, and the annotation follows server-side applies.
import { FieldSet } from "./fieldpath.ts";
import { isObject, type JSONObject, type JSONValue } from "./json.ts";
import { compare, toFieldSet, type Ref } from "./typed.ts";

export const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
/** Only kubectl's own server-side apply gets this treatment; other managers opt out by using another name. */
export const KUBECTL_MANAGER = "kubectl";

function annotation(obj: JSONObject | undefined): string | undefined {
  const meta = obj?.metadata;
  const ann = isObject(meta) ? meta.annotations : undefined;
  const v = isObject(ann) ? ann[LAST_APPLIED] : undefined;
  return typeof v === "string" && v !== "" ? v : undefined;
}

export function hasLastApplied(obj: JSONObject | undefined): boolean {
  return annotation(obj) !== undefined;
}

/** Fields in the last-applied configuration whose live value is unchanged; undefined without a usable annotation. */
export function allowedConflicts(live: JSONObject, ref: Ref): FieldSet | undefined {
  const text = annotation(live);
  if (!text) return undefined;
  let last: JSONValue;
  try {
    last = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(last)) return undefined;
  try {
    const set = toFieldSet(last, ref);
    const c = compare(last, live, ref);
    return set.difference(c.modified);
  } catch {
    return undefined;
  }
}

/** The annotation value upstream writes: the applied object without the annotation, keys sorted, newline-terminated. */
export function buildLastApplied(applied: JSONObject): string {
  const copy = structuredClone(applied);
  if (isObject(copy.metadata) && isObject(copy.metadata.annotations)) delete copy.metadata.annotations[LAST_APPLIED];
  return `${JSON.stringify(sortKeys(copy))}\n`;
}

function sortKeys(v: JSONValue): JSONValue {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isObject(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys(v[k]!)]),
  );
}

/** Sets the annotation on obj (in place). */
export function setLastApplied(obj: JSONObject, value: string): void {
  const meta = (isObject(obj.metadata) ? obj.metadata : (obj.metadata = {})) as JSONObject;
  const ann = (isObject(meta.annotations) ? meta.annotations : (meta.annotations = {})) as JSONObject;
  ann[LAST_APPLIED] = value;
}
