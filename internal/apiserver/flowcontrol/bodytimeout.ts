// Request-body read deadline: a client that sends its headers and then trickles (or withholds) the body would
// otherwise hold its seat, its connection and a handler until the 60 s request deadline, and then reconnect.
// Bodies must arrive completely within `ms` of the request's arrival; past that the body read fails with
// 408 Timeout (the handler answers with it), the rest of the body is discarded, and the seat is given back.
// Upstream bounds this with the Go HTTP server's timeouts; Bun's server has none for bodies, hence this wrapper.
import type { Context } from "hono";
import { badRequest, StatusError } from "../../api/status.ts";

export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

export function bodyTimeoutError(ms: number): StatusError {
  return new StatusError(408, "Timeout", `Timeout: request body was not received within ${ms / 1000}s`, {});
}

interface BodyDeadline {
  at: number;
  ms: number;
}
const deadlines = new WeakMap<Request, BodyDeadline>();

/**
 * Starts the request's body deadline; returns what stops it once the request is answered. Requests without a body
 * are left alone. The body itself is not wrapped (a JS stream and a new Request per write cost more than the rest of a
 * small create): readers go through readBodyWithin, which races the read against what is left of the deadline.
 */
export function limitBodyReadTime(c: Context, ms: number): () => void {
  const raw = c.req.raw;
  if (!raw.body || raw.method === "GET" || raw.method === "HEAD") return () => {};
  if (raw.headers.get("content-length") === "0") return () => {};
  deadlines.set(raw, { at: performance.now() + ms, ms });
  return () => deadlines.delete(raw);
}

/**
 * The whole request body, within the deadline limitBodyReadTime started: past it, 408 Timeout (the rest of the body
 * is not waited for, and the handler gives its seat back); a client that goes away mid-body is a 400.
 */
export async function readBodyWithin(c: Context): Promise<ArrayBuffer> {
  const d = deadlines.get(c.req.raw);
  if (!d) return c.req.arrayBuffer();
  let timer: Timer | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(bodyTimeoutError(d.ms)), Math.max(0, d.at - performance.now()));
  });
  try {
    return await Promise.race([c.req.arrayBuffer(), expired]);
  } catch (e) {
    if (e instanceof StatusError) throw e;
    // The client went away mid-body: a 400 for the log, not a 500 (nobody is left to read it).
    throw badRequest("the client disconnected before sending the whole request body");
  } finally {
    clearTimeout(timer);
  }
}
