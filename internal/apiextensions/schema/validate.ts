// Validation of custom objects against a structural schema, with upstream's error wording: kube-openapi's
// "<path> in body should ..." details wrapped in field errors (Invalid/Required/NotSupported/TooLong/TooMany),
// as apiextensions-apiserver's kubeOpenAPIResultToFieldErrors maps them.
import { Errors, goValue, type Cause } from "../../apiserver/validation/errors.ts";
import { validateObjectMetaLabelsAndAnnotations } from "../../apiserver/validation/meta.ts";
import { isDNS1123Subdomain } from "../../apiserver/validation/names.ts";
import { hasOpenAPIType } from "../../apiserver/validation/util.ts";
import { checkNumberFormat, checkStringFormat } from "./formats.ts";
import { childPath, has, indexPath, isObject, jsonType, type Schema } from "./types.ts";

/** Go's %v of a float64 bound (10, 0.5, 1e+21). */
function num(n: number): string {
  return Math.abs(n) >= 1e21 ? n.toExponential().replace(/e\+?(-?)(\d)$/, "e+$10$2") : String(n);
}

const regexCache = new Map<string, RegExp | null>();
function regex(p: string): RegExp | null {
  let r = regexCache.get(p);
  if (r === undefined) {
    try {
      r = new RegExp(p, "u");
    } catch {
      r = null;
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(p, r);
  }
  return r;
}

class Collector {
  readonly list: Cause[] = [];
  invalid(path: string, value: unknown, detail: string) {
    this.list.push({ reason: "FieldValueInvalid", field: path, message: `Invalid value: ${goValue(value)}: ${detail}` });
  }
  typeInvalid(path: string, value: unknown, detail: string) {
    this.list.push({ reason: "FieldValueTypeInvalid", field: path, message: `Invalid value: ${goValue(value)}: ${detail}` });
  }
  required(path: string, detail = "") {
    this.list.push({ reason: "FieldValueRequired", field: path, message: detail ? `Required value: ${detail}` : "Required value" });
  }
  notSupported(path: string, value: unknown, supported: unknown[]) {
    const list = supported.map((v) => JSON.stringify(typeof v === "string" ? v : JSON.stringify(v))).join(", ");
    this.list.push({ reason: "FieldValueNotSupported", field: path, message: `Unsupported value: ${goValue(value)}: supported values: ${list}` });
  }
  tooLong(path: string, max: number) {
    this.list.push({ reason: "FieldValueTooLong", field: path, message: `Too long: may not be longer than ${max}` });
  }
  tooMany(path: string, actual: number, max: number) {
    this.list.push({ reason: "FieldValueTooMany", field: path, message: `Too many: ${actual}: must have at most ${max} items` });
  }
  duplicate(path: string, value: unknown) {
    this.list.push({ reason: "FieldValueDuplicate", field: path, message: `Duplicate value: ${value}` });
  }
}

/** Validates a custom object (or any value) against its schema; returns upstream's field errors. */
export function validateValue(value: unknown, schema: Schema | undefined, path = ""): Cause[] {
  const c = new Collector();
  if (schema) walk(c, value, schema, path, true);
  return c.list;
}

function walk(c: Collector, v: unknown, s: Schema, path: string, isRoot = false): void {
  const name = path || "body";
  const where = `${name} in body`;
  if (v === null || v === undefined) {
    if (s.nullable || !s.type) return;
    c.typeInvalid(path, "null", `${where} must be of type ${s.type}: "null"`);
    return;
  }
  if (s["x-kubernetes-int-or-string"]) {
    if (!(typeof v === "string" || (typeof v === "number" && Number.isInteger(v)))) {
      c.typeInvalid(path, jsonType(v), `${where} must be of type integer-or-string: "${jsonType(v)}"`);
      return;
    }
  } else if (s.type && !hasOpenAPIType(s.type, v)) {
    c.typeInvalid(path, jsonType(v), `${where} must be of type ${s.type}: "${jsonType(v)}"`);
    return;
  }
  if (s.format) {
    if (typeof v === "string" && !checkStringFormat(s.format, v)) c.typeInvalid(path, v, `${where} must be of type ${s.format}: ${JSON.stringify(v)}`);
    if (typeof v === "number" && !checkNumberFormat(s.format, v)) c.typeInvalid(path, v, `${where} must be of type ${s.format}: "${num(v)}"`);
  }
  if (s.enum && !s.enum.some((e) => sameJSON(e, v))) c.notSupported(path, v, s.enum);

  if (typeof v === "number") numberChecks(c, v, s, path, where);
  else if (typeof v === "string") stringChecks(c, v, s, path, where);
  else if (Array.isArray(v)) arrayChecks(c, v, s, path, where);
  else if (isObject(v)) objectChecks(c, v, s, path, where, isRoot);

  junctors(c, v, s, path, where);
}

function numberChecks(c: Collector, v: number, s: Schema, path: string, where: string) {
  if (s.maximum !== undefined) {
    if (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum) {
      c.invalid(path, v, `${where} should be less than ${s.exclusiveMaximum ? "" : "or equal to "}${num(s.maximum)}`);
    }
  }
  if (s.minimum !== undefined) {
    if (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum) {
      c.invalid(path, v, `${where} should be greater than ${s.exclusiveMinimum ? "" : "or equal to "}${num(s.minimum)}`);
    }
  }
  if (s.multipleOf !== undefined && s.multipleOf > 0) {
    const q = v / s.multipleOf;
    if (Math.abs(q - Math.round(q)) > 1e-9) c.invalid(path, v, `${where} should be a multiple of ${num(s.multipleOf)}`);
  }
}

function stringChecks(c: Collector, v: string, s: Schema, path: string, where: string) {
  // Lengths count characters (runes), as upstream's utf8.RuneCountInString.
  const len = s.maxLength !== undefined || s.minLength !== undefined ? [...v].length : 0;
  if (s.maxLength !== undefined && len > s.maxLength) c.tooLong(path, s.maxLength);
  if (s.minLength !== undefined && len < s.minLength) c.invalid(path, v, `${where} should be at least ${s.minLength} chars long`);
  if (s.pattern !== undefined) {
    const re = regex(s.pattern);
    if (re && !re.test(v)) c.invalid(path, v, `${where} should match '${s.pattern}'`);
  }
}

function arrayChecks(c: Collector, v: unknown[], s: Schema, path: string, where: string) {
  if (s.maxItems !== undefined && v.length > s.maxItems) c.tooMany(path, v.length, s.maxItems);
  if (s.minItems !== undefined && v.length < s.minItems) c.invalid(path, v.length, `${where} should have at least ${s.minItems} items`);
  if (s.uniqueItems) {
    const seen = new Set<string>();
    for (const x of v) {
      const k = canonical(x);
      if (seen.has(k)) {
        c.invalid(path, JSON.stringify(v), `${where} shouldn't contain duplicates`);
        break;
      }
      seen.add(k);
    }
  }
  const listType = s["x-kubernetes-list-type"];
  if (listType === "set") {
    const seen = new Set<string>();
    v.forEach((x, i) => {
      const k = canonical(x);
      if (seen.has(k)) c.duplicate(indexPath(path, i), goValue(x));
      seen.add(k);
    });
  } else if (listType === "map") {
    const keys = s["x-kubernetes-list-map-keys"] ?? [];
    const seen = new Set<string>();
    v.forEach((x, i) => {
      if (!isObject(x)) return;
      const picked = keys.map((k) => [k, x[k]] as const);
      const k = canonical(picked);
      if (seen.has(k)) {
        const body = picked.filter(([, val]) => val !== undefined).map(([key, val]) => `${JSON.stringify(key)}:${typeof val === "string" ? JSON.stringify(val) : String(val)}`).join(", ");
        c.duplicate(indexPath(path, i), `map[string]interface {}{${body}}`);
      }
      seen.add(k);
    });
  }
  if (s.items && !Array.isArray(s.items)) {
    const item = s.items as Schema;
    v.forEach((x, i) => walk(c, x, item, indexPath(path, i)));
  }
}

const EMBEDDED_META = new Set(["apiVersion", "kind", "metadata"]);

function objectChecks(c: Collector, v: Record<string, unknown>, s: Schema, path: string, where: string, isRoot: boolean) {
  const n = Object.keys(v).length;
  if (s.maxProperties !== undefined && n > s.maxProperties) c.tooMany(path, n, s.maxProperties);
  if (s.minProperties !== undefined && n < s.minProperties) c.invalid(path, n, `${where} should have at least ${s.minProperties} properties`);
  for (const r of s.required ?? []) {
    if (!has(v, r) || v[r] === null) c.required(childPath(path, r));
  }
  if (s["x-kubernetes-embedded-resource"]) {
    for (const k of ["apiVersion", "kind"]) {
      if (typeof v[k] !== "string" || v[k] === "") c.required(childPath(path, k), "must not be empty");
    }
    // The embedded object's metadata is ObjectMeta: name syntax, labels and annotations as for any object.
    const m = v.metadata;
    if (isObject(m)) {
      const e = new Errors();
      const mp = childPath(path, "metadata");
      if (typeof m.name === "string" && m.name) e.invalidEach(childPath(mp, "name"), m.name, isDNS1123Subdomain(m.name));
      validateObjectMetaLabelsAndAnnotations(e, m, mp);
      c.list.push(...e.list);
    }
  }
  const props = s.properties ?? {};
  const ap = s.additionalProperties as unknown;
  for (const k of Object.keys(v)) {
    // The root's and embedded objects' metadata is ObjectMeta, validated by the generic code.
    if ((isRoot || s["x-kubernetes-embedded-resource"]) && EMBEDDED_META.has(k) && !has(props, k)) continue;
    if (isRoot && k === "metadata") continue;
    const p = childPath(path, k);
    if (has(props, k)) walk(c, v[k], props[k]!, p);
    else if (isObject(ap)) walk(c, v[k], ap as Schema, p);
    else if (ap === false) c.invalid(p, v[k], `${p} in body is a forbidden property`);
  }
}

/** Errors of validating v against a sub-schema, without touching the main collector. */
function trial(v: unknown, s: Schema, path: string): Cause[] {
  const sub = new Collector();
  walk(sub, v, s, path);
  return sub.list;
}

function junctors(c: Collector, v: unknown, s: Schema, path: string, where: string) {
  for (const sub of s.allOf ?? []) c.list.push(...trial(v, sub, path));
  if (s.anyOf?.length) {
    let best: Cause[] | undefined;
    let ok = false;
    for (const sub of s.anyOf) {
      const errs = trial(v, sub, path);
      if (!errs.length) {
        ok = true;
        break;
      }
      if (!best || errs.length < best.length) best = errs;
    }
    if (!ok) {
      c.invalid(path, v, `${where} must validate at least one schema (anyOf)`);
      c.list.push(...(best ?? []));
    }
  }
  if (s.oneOf?.length) {
    let valid = 0;
    let best: Cause[] | undefined;
    for (const sub of s.oneOf) {
      const errs = trial(v, sub, path);
      if (!errs.length) valid++;
      else if (!best || errs.length < best.length) best = errs;
    }
    if (valid !== 1) {
      const found = valid === 0 ? "Found none valid" : `Found ${valid} valid alternatives`;
      c.invalid(path, v, `${where} must validate one and only one schema (oneOf). ${found}`);
      if (valid === 0) c.list.push(...(best ?? []));
    }
  }
  if (s.not && trial(v, s.not, path).length === 0) c.invalid(path, v, `${where} must not validate the schema (not)`);
}

/** JSON text with sorted keys: equality of JSON values for enum, uniqueItems and list-type checks. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  return JSON.stringify(v) ?? "null";
}

function sameJSON(a: unknown, b: unknown): boolean {
  return a === b || canonical(a) === canonical(b);
}
