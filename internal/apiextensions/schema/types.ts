// The structural schema of a CRD version (spec.versions[].schema.openAPIV3Schema), as kubernetes-types spells it.
import type { JSONSchemaProps } from "kubernetes-types/apiextensions/v1";

export type Schema = JSONSchemaProps;

/** JSON type name of a value as upstream's validator reports it ("integer" for whole numbers). */
export function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v; // string, boolean, object
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Own enumerable key lookup: "__proto__", "constructor" etc. are ordinary field names in request data. */
export function has(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** Child schema of an object field: properties[k], else additionalProperties (schema form). */
export function propertySchema(s: Schema | undefined, k: string): Schema | undefined {
  if (!s) return undefined;
  if (s.properties && has(s.properties, k)) return s.properties[k];
  const ap = s.additionalProperties as unknown;
  return isObject(ap) ? (ap as Schema) : undefined;
}

/** Field path helpers matching upstream's field.Path rendering. */
export const childPath = (path: string, k: string) => (path ? `${path}.${k}` : k);
export const indexPath = (path: string, i: number) => `${path}[${i}]`;
