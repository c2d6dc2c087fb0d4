// Kubernetes resource quantities ("100m", "1.5Gi", "2e3", "128974848"), as k8s.io/apimachinery's
// resource.Quantity parses them: <sign><digits>[.<digits>]<suffix>, suffix one of the binary SI
// (Ki Mi Gi Ti Pi Ei), decimal SI (n u m "" k M G T P E) or a decimal exponent (e3, E-2).
// One grammar for the whole project: validation, the scheduler, the kubelet and the quota controller.

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const QUANTITY_RE = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

export class QuantityError extends Error {}

/** The value of a quantity in base units (cores, bytes, …) as a float. Throws QuantityError if malformed. */
export function quantityValue(q: string | number): number {
  if (typeof q === "number") return q;
  const m = QUANTITY_RE.exec(q.trim() === q ? q : "");
  if (!m) throw new QuantityError("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  const [, sign, num, suffix = ""] = m;
  let value = Number(num);
  if (suffix in BINARY) value *= BINARY[suffix]!;
  else if (suffix in DECIMAL) value *= 10 ** DECIMAL[suffix]!;
  else value *= 10 ** Number(suffix.slice(1));
  return sign === "-" ? -value : value;
}

/**
 * Parses a quantity. For CPU-like resources (`resource` "cpu", "requests.cpu", …) the result is in
 * milli-units ("250m" → 250); for any other named resource it is in base units ("1Gi" → 1073741824),
 * both rounded up like upstream's MilliValue()/Value(). Without a resource it is the exact value in base
 * units ("250m" → 0.25). Throws QuantityError if malformed.
 */
export function parseQuantity(q: string | number, resource?: string): number {
  const v = quantityValue(q);
  if (resource === undefined) return v;
  if (resource === "cpu" || resource.endsWith(".cpu")) return Math.ceil(round(v * 1000));
  return Math.ceil(round(v));
}

/** The quantity in milli-units, rounded up ("0.5" → 500, "1" → 1000). */
export function milliValue(q: string | number): number {
  return Math.ceil(round(quantityValue(q) * 1000));
}

/** Removes float noise (0.1*3 → 0.30000000000000004) before rounding up. */
function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/** True if the string is a well-formed quantity. */
export function isQuantity(q: unknown): boolean {
  if (typeof q === "number") return Number.isFinite(q);
  if (typeof q !== "string") return false;
  return QUANTITY_RE.exec(q) !== null;
}

/**
 * Canonical text of a value like upstream's Quantity.String(): milli-units for fractions ("250m"),
 * binary suffixes for byte counts that are exact multiples of 1024 ("1Gi"), plain integers otherwise.
 * `milli` says the number is in milli-units (CPU).
 */
export function formatQuantity(value: number, opts: { milli?: boolean; binary?: boolean } = {}): string {
  if (opts.milli) {
    if (value % 1000 === 0) return String(value / 1000);
    return `${Math.round(value)}m`;
  }
  if (opts.binary && value !== 0 && Number.isInteger(value)) {
    for (const s of ["Ei", "Pi", "Ti", "Gi", "Mi", "Ki"]) {
      const b = BINARY[s]!;
      if (Math.abs(value) >= b && value % b === 0) return `${value / b}${s}`;
    }
    return String(value);
  }
  if (Number.isInteger(value)) {
    for (const [s, e] of [["E", 18], ["P", 15], ["T", 12], ["G", 9], ["M", 6], ["k", 3]] as const) {
      const d = 10 ** e;
      if (Math.abs(value) >= d && value % d === 0) return `${value / d}${s}`;
    }
    return String(value);
  }
  return `${Math.round(value * 1000)}m`;
}

/**
 * Lenient readers for objects already stored (the scheduler's resource accounting): a missing or unparseable
 * value counts as 0 — validation rejects bad quantities on write, so only stale or foreign objects carry them.
 */
export function milliValueOrZero(q: string | number | undefined | null): number {
  if (q === undefined || q === null || q === "") return 0;
  try {
    return milliValue(q);
  } catch {
    return 0;
  }
}

/** Integer value in base units, rounded up (bytes, pod counts) as upstream's Value(); 0 when missing or malformed. */
export function intValueOrZero(q: string | number | undefined | null): number {
  if (q === undefined || q === null || q === "") return 0;
  try {
    return parseQuantity(q, "value");
  } catch {
    return 0;
  }
}
