// Small helpers shared by the per-kind validators.
import { Errors } from "./errors.ts";

export type Obj = Record<string, any>;

export const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);

/** Whether a non-null JSON value has the OpenAPI `type` ("integer" only for whole numbers); an unknown type accepts anything. */
export function hasOpenAPIType(type: string | undefined, v: unknown): boolean {
  switch (type) {
    case "object":
      return isObj(v);
    case "array":
      return Array.isArray(v);
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
  }
  return true;
}

/** Structural equality, insensitive to key order. */
export const deepEqual = (a: unknown, b: unknown) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));
function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon);
  if (isObj(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]));
  return v;
}

export function nonNegative(e: Errors, v: unknown, path: string) {
  if (v !== undefined && v !== null && (typeof v !== "number" || v < 0)) e.invalid(path, v, "must be greater than or equal to 0");
}

export function intOrPercent(e: Errors, v: unknown, path: string) {
  if (v === undefined) return;
  if (typeof v === "number") return nonNegative(e, v, path);
  const m = /^(\d+)%$/.exec(String(v));
  if (!m) return e.invalid(path, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
  if (Number(m[1]) > 100) e.invalid(path, v, "must not be greater than 100%");
}

export const isZero = (v: unknown) => v === 0 || v === "0%";
