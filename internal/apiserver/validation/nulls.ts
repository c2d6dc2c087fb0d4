// JSON nulls decode to Go zero values upstream: a null field is as if absent, a null list element is an
// empty element. Normalizing them first keeps defaulting and validation simple.

/** Removes null-valued keys and turns null list elements into empty values of their siblings' kind. */
export function stripNulls(value: unknown): void {
  if (Array.isArray(value)) {
    const sample = value.find((v) => v !== null && v !== undefined);
    const empty = () => (typeof sample === "string" ? "" : typeof sample === "number" ? 0 : typeof sample === "boolean" ? false : {});
    for (let i = 0; i < value.length; i++) {
      if (value[i] === null) value[i] = Array.isArray(sample) ? [] : empty();
      else stripNulls(value[i]);
    }
  } else if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (o[k] === null) delete o[k];
      else stripNulls(o[k]);
    }
  }
}
