// x-kubernetes-validations: CEL rules evaluated with @marcbachmann/cel-js (a maintained, dependency-free CEL
// implementation that runs on Bun). `self` is the value at the rule's node, `oldSelf` the previous value on
// updates (transition rules are skipped on create, as upstream). Integers are CEL ints (BigInt), numbers doubles.
import { celCompiler } from "../../apiserver/cel.ts";
import { goValue, type Cause } from "../../apiserver/validation/errors.ts";
import { registerKubernetesLibrary } from "./cellib.ts";
import { childPath, has, indexPath, isObject, type Schema } from "./types.ts";

type Rule = NonNullable<Schema["x-kubernetes-validations"]>[number];
const cel = celCompiler(5000, registerKubernetesLibrary);
const compile = cel.compile;

/** Compile error of a rule (first line), or undefined when it compiles. */
export function ruleCompileError(rule: string): string | undefined {
  return cel.compileError(rule);
}

/** JSON value → CEL value following the schema: integers become ints (BigInt). */
function toCEL(v: unknown, s: Schema | undefined): unknown {
  if (typeof v === "number") {
    const intType = s?.type === "integer" || s?.["x-kubernetes-int-or-string"] || (!s?.type && Number.isInteger(v));
    return intType && Number.isInteger(v) ? BigInt(v) : v;
  }
  if (Array.isArray(v)) {
    const item = s?.items && !Array.isArray(s.items) ? s.items : undefined;
    return v.map((x) => toCEL(x, item));
  }
  if (isObject(v)) {
    const out: Record<string, unknown> = Object.create(null);
    for (const k of Object.keys(v)) out[k] = toCEL(v[k], propSchema(s, k));
    return out;
  }
  return v;
}

function propSchema(s: Schema | undefined, k: string): Schema | undefined {
  if (!s) return undefined;
  if (s.properties && has(s.properties, k)) return s.properties[k];
  return isObject(s.additionalProperties) ? (s.additionalProperties as Schema) : undefined;
}

const TRANSITION = /\boldSelf\b/;

function fail(out: Cause[], path: string, s: Schema, rule: Rule, message: string) {
  const field = rule.fieldPath ? path + (rule.fieldPath.startsWith(".") || rule.fieldPath.startsWith("[") ? rule.fieldPath : `.${rule.fieldPath}`) : path;
  switch (rule.reason) {
    case "FieldValueForbidden":
      out.push({ reason: "FieldValueForbidden", field, message: `Forbidden: ${message}` });
      break;
    case "FieldValueRequired":
      out.push({ reason: "FieldValueRequired", field, message: `Required value: ${message}` });
      break;
    case "FieldValueDuplicate":
      out.push({ reason: "FieldValueDuplicate", field, message: `Duplicate value: ${goValue(s.type ?? "object")}` });
      break;
    default:
      out.push({ reason: "FieldValueInvalid", field, message: `Invalid value: ${goValue(s.type ?? "object")}: ${message}` });
  }
}

function runRules(out: Cause[], v: unknown, old: unknown, hasOld: boolean, s: Schema, path: string) {
  for (const rule of s["x-kubernetes-validations"] ?? []) {
    const transition = TRANSITION.test(rule.rule);
    if (transition && !hasOld && !rule.optionalOldSelf) continue;
    const p = compile(rule.rule);
    if (p instanceof Error) continue; // refused when the CRD was written
    const ctx: Record<string, unknown> = { self: toCEL(v, s) };
    if (transition) ctx.oldSelf = hasOld ? toCEL(old, s) : undefined;
    let ok: unknown;
    try {
      ok = p(ctx);
    } catch (err) {
      // cel-go words it "no such key: x"; the library capitalises.
      const why = (err instanceof Error ? err.message.split("\n")[0]! : String(err)).replace(/^No such key/, "no such key");
      fail(out, path, s, rule, `${why} evaluating rule: ${rule.rule}`);
      continue;
    }
    if (ok === true) continue;
    let message = rule.message || `failed rule: ${rule.rule}`;
    if (rule.messageExpression) {
      const m = compile(rule.messageExpression);
      if (!(m instanceof Error)) {
        try {
          const r = m(ctx);
          if (typeof r === "string" && r.trim()) message = r;
        } catch {
          /* upstream falls back to message / the rule */
        }
      }
    }
    fail(out, path, s, rule, message);
  }
}

function walk(out: Cause[], v: unknown, old: unknown, hasOld: boolean, s: Schema, path: string) {
  if (v === null || v === undefined) return;
  if (s["x-kubernetes-validations"]?.length) runRules(out, v, old, hasOld, s, path);
  if (Array.isArray(v)) {
    const item = s.items && !Array.isArray(s.items) ? (s.items as Schema) : undefined;
    if (!item) return;
    // Old items correlate by key in map lists (and by value in sets); atomic lists have no oldSelf below them.
    const keys = s["x-kubernetes-list-type"] === "map" ? s["x-kubernetes-list-map-keys"] ?? [] : undefined;
    const oldItems = Array.isArray(old) ? old : [];
    v.forEach((x, i) => {
      let o: unknown;
      let found = false;
      if (keys && isObject(x)) {
        o = oldItems.find((y) => isObject(y) && keys.every((k) => y[k] === x[k]));
        found = o !== undefined;
      }
      walk(out, x, o, hasOld && found, item, indexPath(path, i));
    });
    return;
  }
  if (!isObject(v)) return;
  const oo = isObject(old) ? old : undefined;
  for (const k of Object.keys(v)) {
    const ps = propSchema(s, k);
    if (ps) walk(out, v[k], oo?.[k], hasOld && !!oo && has(oo, k), ps, childPath(path, k));
  }
}

const rulesCache = new WeakMap<Schema, boolean>();

/** True when the schema has any rule (objects then go through the CEL pass); cached per schema object. */
export function hasRules(s: Schema | undefined): boolean {
  if (!s) return false;
  let v = rulesCache.get(s);
  if (v === undefined) rulesCache.set(s, (v = findRules(s)));
  return v;
}

function findRules(s: Schema): boolean {
  if (s["x-kubernetes-validations"]?.length) return true;
  if (Object.values(s.properties ?? {}).some(hasRules)) return true;
  if (isObject(s.additionalProperties) && hasRules(s.additionalProperties as Schema)) return true;
  return !!s.items && !Array.isArray(s.items) && hasRules(s.items as Schema);
}

export function validateRules(obj: unknown, schema: Schema | undefined, old?: unknown): Cause[] {
  const out: Cause[] = [];
  if (schema && hasRules(schema)) walk(out, obj, old, old !== undefined, schema, "");
  return out;
}
