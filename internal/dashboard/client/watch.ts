// List-then-watch over fetch streaming (no polling): a relist after 410 Gone or a lost connection (e.g. a
// server restart), then a watch from the list's resourceVersion; bookmarks keep that version fresh.
import { useEffect, useState } from "preact/hooks";
import { ApiError, request } from "./api.ts";

export type WatchStatus = "loading" | "live" | "reconnecting" | "error";
export interface WatchState<T> {
  items: T[];
  status: WatchStatus;
  error?: string;
}

class Gone extends Error {}

const keyOf = (o: any) => `${o?.metadata?.namespace ?? ""}/${o?.metadata?.name ?? ""}`;
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
  });

/** A streamed response body as text, chunk by chunk as it arrives (a multi-byte character split between reads stays whole). */
export async function* textChunks(res: Response): AsyncGenerator<string> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    yield dec.decode(value, { stream: true });
  }
}

/** Reads a response body as newline-delimited JSON (watch events). */
export async function* jsonLines(res: Response): AsyncGenerator<any> {
  let buf = "";
  for await (const chunk of textChunks(res)) {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) yield JSON.parse(line);
    }
  }
  if (buf.trim()) yield JSON.parse(buf);
}

export function listWatch(path: string, onChange: (s: WatchState<any>) => void, signal: AbortSignal): void {
  const items = new Map<string, any>();
  let rv = "";
  let status: WatchStatus = "loading";
  let error: string | undefined;
  let pending = false;
  const emit = () => {
    if (pending) return;
    pending = true;
    // Bursts of events (a relist, a rollout) render once per frame.
    setTimeout(() => {
      pending = false;
      if (!signal.aborted) onChange({ items: [...items.values()], status, error });
    }, 50);
  };
  const sep = path.includes("?") ? "&" : "?";

  const relist = async () => {
    const fresh = new Map<string, any>();
    let cont = "";
    do {
      const res = await request(`${path}${sep}limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`, { signal });
      const list = await res.json();
      for (const o of list.items ?? []) fresh.set(keyOf(o), o);
      cont = list.metadata?.continue ?? "";
      rv = list.metadata?.resourceVersion ?? "";
    } while (cont);
    items.clear();
    for (const [k, v] of fresh) items.set(k, v);
  };

  const watchOnce = async () => {
    const res = await request(`${path}${sep}watch=1&allowWatchBookmarks=true&timeoutSeconds=290&resourceVersion=${encodeURIComponent(rv)}`, { signal });
    for await (const ev of jsonLines(res)) {
      if (ev.type === "ERROR") {
        if (ev.object?.code === 410) throw new Gone();
        throw new ApiError(ev.object?.code ?? 500, ev.object?.message ?? "watch error");
      }
      const o = ev.object;
      if (o?.metadata?.resourceVersion) rv = o.metadata.resourceVersion;
      if (ev.type === "ADDED" || ev.type === "MODIFIED") items.set(keyOf(o), o);
      else if (ev.type === "DELETED") items.delete(keyOf(o));
      if (ev.type !== "BOOKMARK") emit();
    }
  };

  void (async () => {
    let backoff = 500;
    while (!signal.aborted) {
      try {
        if (!rv) await relist();
        status = "live";
        error = undefined;
        emit();
        await watchOnce(); // ends normally at timeoutSeconds: watch again from rv
        backoff = 500;
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof Gone) {
          rv = ""; // too old: relist
          continue;
        }
        const forbidden = e instanceof ApiError && (e.code === 403 || e.code === 404 || e.code === 401);
        status = forbidden ? "error" : "reconnecting";
        error = e instanceof Error ? e.message : String(e);
        emit();
        // A lost connection may have missed events (or met a restarted server): relist on reconnect.
        rv = "";
        await sleep(forbidden ? 15000 : backoff, signal);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  })();
}

/** A live list of path (null: nothing), re-subscribed when path changes. */
export function useWatch<T = any>(path: string | null): WatchState<T> {
  const [state, setState] = useState<WatchState<T>>({ items: [], status: "loading" });
  useEffect(() => {
    setState({ items: [], status: "loading" });
    if (!path) return;
    const ac = new AbortController();
    listWatch(path, setState, ac.signal);
    return () => ac.abort();
  }, [path]);
  return state;
}

/** Re-renders every ms milliseconds (ages and heartbeats move on without new API data). */
export function useTick(ms: number): number {
  const [n, setN] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setN((x) => x + 1), ms);
    return () => clearInterval(t);
  }, [ms]);
  return n;
}
