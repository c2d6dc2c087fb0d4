// Field errors shaped like k8s.io/apimachinery/pkg/util/validation/field: each becomes one Status cause
// ({reason, message, field}) and one "<field>: <message>" part of the 422 message.

export type CauseReason =
  | "FieldValueRequired"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueDuplicate"
  | "FieldValueForbidden"
  | "FieldValueTooLong"
  | "FieldValueTooMany"
  | "FieldValueNotFound"
  | "FieldValueTypeInvalid";

export interface Cause {
  reason: CauseReason;
  message: string;
  field: string;
}

/** Renders a value the way upstream's field.Error does (Go %q for strings, %v for numbers, %#v otherwise). */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === "string")) return `[]string{${v.map((x) => JSON.stringify(x)).join(", ")}}`;
    return JSON.stringify(v);
  }
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.every(([, x]) => typeof x === "string")) {
      const body = entries
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, x]) => `${JSON.stringify(k)}:${JSON.stringify(x)}`)
        .join(", ");
      return `map[string]string{${body}}`;
    }
    return JSON.stringify(v);
  }
  return String(v);
}

/** Collects field errors while walking an object; `at` builds child paths. */
export class Errors {
  readonly list: Cause[] = [];

  required(field: string, detail = "") {
    this.list.push({ reason: "FieldValueRequired", field, message: detail ? `Required value: ${detail}` : "Required value" });
  }
  invalid(field: string, value: unknown, detail: string) {
    this.list.push({ reason: "FieldValueInvalid", field, message: `Invalid value: ${goValue(value)}${detail ? `: ${detail}` : ""}` });
  }
  notSupported(field: string, value: unknown, supported: string[]) {
    const list = supported.map((s) => JSON.stringify(s)).join(", ");
    this.list.push({ reason: "FieldValueNotSupported", field, message: `Unsupported value: ${goValue(value)}: supported values: ${list}` });
  }
  duplicate(field: string, value: unknown) {
    this.list.push({ reason: "FieldValueDuplicate", field, message: `Duplicate value: ${goValue(value)}` });
  }
  forbidden(field: string, detail: string) {
    this.list.push({ reason: "FieldValueForbidden", field, message: `Forbidden: ${detail}` });
  }
  tooLong(field: string, max: number) {
    this.list.push({ reason: "FieldValueTooLong", field, message: `Too long: must have at most ${max} bytes` });
  }
  notFound(field: string, value: unknown) {
    this.list.push({ reason: "FieldValueNotFound", field, message: `Not found: ${goValue(value)}` });
  }
  /** Adds "Invalid value" errors for each message a syntax check returned. */
  invalidEach(field: string, value: unknown, messages: string[]) {
    for (const m of messages) this.invalid(field, value, m);
  }
}

/** "spec.containers" + 0 → "spec.containers[0]"; "data" + "a.b" (key) → "data[a.b]". */
export const idx = (path: string, i: number | string) => `${path}[${i}]`;
export const child = (path: string, name: string) => (path ? `${path}.${name}` : name);
