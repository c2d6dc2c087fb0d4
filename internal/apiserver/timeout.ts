// Request deadlines (upstream --request-timeout, 60 s, shortened by a client's ?timeout=): a request that
// has not been answered by then gets 504 Timeout instead of holding the connection forever.
import { StatusError } from "../api/status.ts";

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
const LONG_RUNNING_SUBRESOURCES = new Set(["log", "exec", "attach", "portforward", "proxy"]);

/** Go duration ("32s", "1m30s", "500ms") in ms; undefined when absent or malformed. */
export function parseGoDuration(s: string | null | undefined): number | undefined {
  if (!s) return undefined;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * unit[m[2]!]!;
    consumed += m[0].length;
  }
  return consumed === s.length && consumed > 0 ? total : undefined;
}

export function isLongRunning(verb: string, subresource?: string): boolean {
  return verb === "watch" || (subresource !== undefined && LONG_RUNNING_SUBRESOURCES.has(subresource));
}

/** Runs `work` with a deadline; on expiry throws upstream's 504 Timeout Status. */
export async function withDeadline<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: Timer | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new StatusError(504, "Timeout", "Timeout: request did not complete within requested timeout - context deadline exceeded", {}),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
