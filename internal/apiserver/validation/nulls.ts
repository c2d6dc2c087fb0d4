// JSON nulls decode to Go zero values upstream: a null field is as if absent, a null list element is an
// empty element. Normalizing them first keeps defaulting and validation simple.

/** Removes null-valued keys and turns null list elements into empty values of their siblings' kind; true if it changed anything. */
export function stripNulls(value: unknown): boolean {
  let changed = false;
  if (Array.isArray(value)) {
    let sample: unknown;
    for (let i = 0; i < value.length && sample === undefined; i++) if (value[i] !== null && value[i] !== undefined) sample = value[i];
    for (let i = 0; i < value.length; i++) {
      if (value[i] === null) {
        value[i] = Array.isArray(sample) ? [] : typeof sample === "string" ? "" : typeof sample === "number" ? 0 : typeof sample === "boolean" ? false : {};
        changed = true;
      } else if (stripNulls(value[i])) changed = true;
    }
  } else if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const v = o[k];
      if (v === null) {
        delete o[k];
        changed = true;
      } else if (typeof v === "object" && stripNulls(v)) changed = true;
    }
  }
  return changed;
}
