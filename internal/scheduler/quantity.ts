// Quantity arithmetic for the scheduler, on top of the API server's parser (one grammar for the whole project).
// Unparseable values count as 0: validation rejects them on write, so only stale or foreign objects carry them.

import { milliValue as milli, parseQuantity } from "../apiserver/validation/quantity.ts";

export { parseQuantity };

/** Millicores, rounded up as upstream's MilliValue does. */
export function milliValue(q: string | number | undefined | null): number {
  if (q === undefined || q === null || q === "") return 0;
  try {
    return milli(q);
  } catch {
    return 0;
  }
}

/** Integer value in base units, rounded up (bytes, pod counts), as upstream's Value. */
export function intValue(q: string | number | undefined | null): number {
  if (q === undefined || q === null || q === "") return 0;
  try {
    return parseQuantity(q, "value");
  } catch {
    return 0;
  }
}
