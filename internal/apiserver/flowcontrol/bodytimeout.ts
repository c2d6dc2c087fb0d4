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

/**
 * Replaces the request's body with one that fails after the deadline; returns what stops the timer once the request
 * is answered. Requests without a body are left alone.
 */
export function limitBodyReadTime(c: Context, ms: number): () => void {
  const raw = c.req.raw;
  if (!raw.body || raw.method === "GET" || raw.method === "HEAD") return () => {};
  if (raw.headers.get("content-length") === "0") return () => {};
  const reader = raw.body.getReader();
  let timer: Timer | undefined;
  let finished = false;
  const stream = new ReadableStream<Uint8Array>({
    start(ctrl) {
      timer = setTimeout(() => {
        if (finished) return;
        finished = true;
        ctrl.error(bodyTimeoutError(ms));
        reader.cancel().catch(() => {});
      }, ms);
    },
    async pull(ctrl) {
      try {
        const r = await reader.read();
        if (finished) return;
        if (r.done) {
          finished = true;
          clearTimeout(timer);
          ctrl.close();
        } else ctrl.enqueue(r.value);
      } catch {
        // The client went away mid-body: a 400 for the log, not a 500 (nobody is left to read it).
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        ctrl.error(badRequest("the client disconnected before sending the whole request body"));
      }
    },
    cancel(reason) {
      finished = true;
      clearTimeout(timer);
      return reader.cancel(reason);
    },
  });
  c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, body: stream, signal: raw.signal, duplex: "half" } as RequestInit);
  return () => {
    finished = true;
    clearTimeout(timer);
  };
}
