// The dashboard's list-then-watch (internal/dashboard/client/watch.ts) against a scripted API: it relists after a
// 410 Gone and after a lost connection, drops objects deleted meanwhile, and sends the session's bearer token.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { listWatch, type WatchState } from "../../internal/dashboard/client/watch.ts";

const realFetch = globalThis.fetch;
const store = new Map<string, string>();
beforeAll(() => {
  (globalThis as any).sessionStorage = {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  };
});
afterAll(() => {
  globalThis.fetch = realFetch;
  delete (globalThis as any).sessionStorage;
});

const obj = (name: string, rv: string) => ({ metadata: { name, namespace: "default", resourceVersion: rv } });
const json = (v: unknown) => new Response(JSON.stringify(v), { headers: { "Content-Type": "application/json" } });
/** A watch stream: these events, then (open) nothing more until the request is aborted. */
function stream(events: unknown[], signal: AbortSignal | null | undefined, open: boolean): Response {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const e of events) c.enqueue(new TextEncoder().encode(JSON.stringify(e) + "\n"));
      if (!open) c.close();
      else signal?.addEventListener("abort", () => c.error(new DOMException("aborted", "AbortError")));
    },
  });
  return new Response(body, { headers: { "Content-Type": "application/json" } });
}

async function until(what: string, f: () => boolean) {
  for (let i = 0; i < 200 && !f(); i++) await Bun.sleep(25);
  if (!f()) throw new Error(`timed out: ${what}`);
}

test("relists after 410 Gone and after a lost connection; the token goes along", async () => {
  store.set("kubun.dashboard.token", "tok-123");
  const calls: string[] = [];
  const auth: (string | null)[] = [];
  let step = 0;
  globalThis.fetch = (async (url: string, init: RequestInit) => {
    calls.push(url);
    auth.push(new Headers(init.headers).get("authorization"));
    step++;
    if (step === 1) return json({ items: [obj("a", "5")], metadata: { resourceVersion: "5" } });
    if (step === 2) return stream([{ type: "ADDED", object: obj("b", "6") }, { type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired", message: "too old resource version: 5 (9)" } }], init.signal, false);
    if (step === 3) return json({ items: [obj("a", "5"), obj("c", "9")], metadata: { resourceVersion: "9" } });
    if (step === 4) return stream([{ type: "MODIFIED", object: obj("c", "10") }], init.signal, false); // ends: re-watch from 10
    if (step === 5) throw new TypeError("Failed to fetch"); // the server went away
    if (step === 6) return json({ items: [obj("d", "12")], metadata: { resourceVersion: "12" } });
    return stream([{ type: "BOOKMARK", object: { metadata: { resourceVersion: "13" } } }], init.signal, true);
  }) as typeof fetch;
  const states: WatchState<any>[] = [];
  const ac = new AbortController();
  listWatch("/api/v1/pods", (s) => states.push(s), ac.signal);
  await until("the last watch", () => step >= 7);
  await until("a final state", () => states.at(-1)?.items.map((o) => o.metadata.name).join() === "d" && states.at(-1)?.status === "live");
  ac.abort();
  expect(calls).toEqual([
    "/api/v1/pods?limit=500",
    "/api/v1/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=290&resourceVersion=5",
    "/api/v1/pods?limit=500",
    "/api/v1/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=290&resourceVersion=9",
    "/api/v1/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=290&resourceVersion=10",
    "/api/v1/pods?limit=500",
    "/api/v1/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=290&resourceVersion=12",
  ]);
  expect(auth.every((a) => a === "Bearer tok-123")).toBe(true);
  // "b" (added, then gone by the relist) never survives the relist.
  expect(states.some((s) => s.status === "reconnecting")).toBe(true);
});

test("a 403 is reported as an error with the API's message, not retried in a loop", async () => {
  let n = 0;
  globalThis.fetch = (async () => {
    n++;
    return new Response(JSON.stringify({ kind: "Status", code: 403, reason: "Forbidden", message: 'nodes is forbidden: User "x" cannot list resource "nodes"' }), { status: 403 });
  }) as unknown as typeof fetch;
  const states: WatchState<any>[] = [];
  const ac = new AbortController();
  listWatch("/api/v1/nodes", (s) => states.push(s), ac.signal);
  await until("error state", () => states.at(-1)?.status === "error");
  await Bun.sleep(300);
  ac.abort();
  expect(states.at(-1)?.error).toContain('cannot list resource "nodes"');
  expect(n).toBe(1);
});
