// ObjectMeta, labels, annotations and label selectors (apimachinery's ValidateObjectMeta and
// ValidateLabelSelector).
import { Errors, child, goValue, idx } from "./errors.ts";
import { isDNS1123Label, isQualifiedName, isValidLabelValue } from "./names.ts";

type Obj = Record<string, any>;
const TOTAL_ANNOTATION_SIZE = 256 * 1024;

export function validateLabels(e: Errors, labels: unknown, path: string) {
  if (labels === undefined || labels === null) return;
  if (typeof labels !== "object" || Array.isArray(labels)) return e.invalid(path, labels, "must be a map of string keys to string values");
  for (const [k, v] of Object.entries(labels as Obj)) {
    e.invalidEach(path, k, isQualifiedName(k));
    if (typeof v !== "string") e.invalid(path, v, "label values must be strings");
    else e.invalidEach(path, v, isValidLabelValue(v));
  }
}

export function validateAnnotations(e: Errors, annotations: unknown, path: string) {
  if (annotations === undefined || annotations === null) return;
  if (typeof annotations !== "object" || Array.isArray(annotations)) return e.invalid(path, annotations, "must be a map of string keys to string values");
  let size = 0;
  for (const [k, v] of Object.entries(annotations as Obj)) {
    e.invalidEach(path, k, isQualifiedName(k.toLowerCase()));
    size += k.length + (typeof v === "string" ? v.length : 0);
  }
  if (size > TOTAL_ANNOTATION_SIZE) e.tooLong(path, TOTAL_ANNOTATION_SIZE);
}

export function validateObjectMetaLabelsAndAnnotations(e: Errors, meta: Obj, path: string) {
  validateLabels(e, meta.labels, child(path, "labels"));
  validateAnnotations(e, meta.annotations, child(path, "annotations"));
}

export type NameCheck = (name: string) => string[];

export function validateObjectMeta(e: Errors, meta: unknown, namespaced: boolean, nameCheck: NameCheck) {
  if (!meta || typeof meta !== "object") return e.required("metadata");
  const m = meta as Obj;
  if (!m.name && !m.generateName) e.required("metadata.name", "name or generateName is required");
  else if (m.name) e.invalidEach("metadata.name", m.name, nameCheck(String(m.name)));
  if (m.generateName && !m.name) {
    // Upstream validates the prefix with the trailing "-" trimmed off.
    const prefix = String(m.generateName).replace(/-+$/, "");
    if (prefix) e.invalidEach("metadata.generateName", m.generateName, nameCheck(prefix));
  }
  if (namespaced) {
    if (!m.namespace) e.required("metadata.namespace");
    else e.invalidEach("metadata.namespace", m.namespace, isDNS1123Label(String(m.namespace)));
  } else if (m.namespace) {
    e.forbidden("metadata.namespace", "not allowed on this type");
  }
  validateObjectMetaLabelsAndAnnotations(e, m, "metadata");
  if (Array.isArray(m.finalizers)) {
    m.finalizers.forEach((f: unknown, i: number) => {
      if (typeof f !== "string") return;
      e.invalidEach(idx("metadata.finalizers", i), f, isQualifiedName(f));
    });
  }
  if (Array.isArray(m.ownerReferences)) {
    m.ownerReferences.forEach((o: Obj, i: number) => {
      const p = idx("metadata.ownerReferences", i);
      if (!o?.apiVersion) e.invalid(child(p, "apiVersion"), o?.apiVersion ?? "", "version must not be empty");
      if (!o?.kind) e.invalid(child(p, "kind"), o?.kind ?? "", "kind must not be empty");
      if (!o?.name) e.invalid(child(p, "name"), o?.name ?? "", "name must not be empty");
      if (!o?.uid) e.invalid(child(p, "uid"), o?.uid ?? "", "uid must not be empty");
    });
    const controllers = m.ownerReferences.filter((o: Obj) => o?.controller === true);
    if (controllers.length > 1) {
      e.invalid("metadata.ownerReferences", m.ownerReferences, `Only one reference can have Controller set to true. Found "true" in references for ${controllers.map((c: Obj) => `${c.kind}/${c.name}`).join(" and ")}`);
    }
  }
}

/** Update rules on metadata: name/namespace/uid/creationTimestamp never change. */
export function validateObjectMetaUpdate(e: Errors, meta: Obj | undefined, old: Obj | undefined) {
  if (!meta || !old) return;
  for (const f of ["name", "namespace", "uid"]) {
    if (old[f] !== undefined && meta[f] !== undefined && meta[f] !== old[f]) e.invalid(`metadata.${f}`, meta[f], "field is immutable");
  }
}

const SELECTOR_OPS = ["In", "NotIn", "Exists", "DoesNotExist"];

export function validateLabelSelector(e: Errors, sel: unknown, path: string) {
  if (sel === undefined || sel === null) return;
  if (typeof sel !== "object" || Array.isArray(sel)) return e.invalid(path, sel, "must be an object");
  const s = sel as Obj;
  validateLabels(e, s.matchLabels, child(path, "matchLabels"));
  if (Array.isArray(s.matchExpressions)) {
    s.matchExpressions.forEach((r: Obj, i: number) => {
      const p = idx(child(path, "matchExpressions"), i);
      if (!r || typeof r !== "object") return;
      if (!SELECTOR_OPS.includes(r.operator)) return e.invalid(child(p, "operator"), r.operator ?? "", "not a valid selector operator");
      const values = Array.isArray(r.values) ? r.values : [];
      if ((r.operator === "In" || r.operator === "NotIn") && values.length === 0) {
        e.required(child(p, "values"), "must be specified when `operator` is 'In' or 'NotIn'");
      }
      if ((r.operator === "Exists" || r.operator === "DoesNotExist") && values.length > 0) {
        e.forbidden(child(p, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
      }
      e.invalidEach(child(p, "key"), r.key, isQualifiedName(String(r.key ?? "")));
    });
  }
}

/** Whether labels satisfy a LabelSelector (matchLabels and matchExpressions). */
export function selectorMatches(sel: Obj, labels: Obj | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const r of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const values: string[] = r.values ?? [];
    switch (r.operator) {
      case "In":
        if (!has || !values.includes(l[r.key])) return false;
        break;
      case "NotIn":
        if (has && values.includes(l[r.key])) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
    }
  }
  return true;
}

export function isEmptySelector(sel: Obj | undefined): boolean {
  return !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
}

/** Go's %#v of a LabelSelector, used in upstream messages. */
export function selectorString(sel: Obj): string {
  const ml = sel.matchLabels ? goValue(sel.matchLabels) : "map[string]string(nil)";
  const me = (sel.matchExpressions ?? []).length ? JSON.stringify(sel.matchExpressions) : "[]v1.LabelSelectorRequirement(nil)";
  return `v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${me}}`;
}
