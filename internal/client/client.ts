// kubun's small API client: typed REST calls and streaming watches over Bun's fetch (keep-alive by default).
// See types.ts for why this is not @kubernetes/client-node.

import {
  ApiError,
  type ClientConfig,
  type DeleteOptions,
  type ListOptions,
  type ListResponse,
  type PatchType,
  type ResourceClient,
  type ResourceRef,
  type WatchEvent,
  type WatchOptions,
} from "./types.ts";
import { isUnreachable } from "./servers.ts";

export interface Client {
  config: ClientConfig;
  resource<T = any>(ref: ResourceRef, namespace?: string): ResourceClient<T>;
  /** Raw request; path starts with "/". Returns the parsed JSON body (or text when not JSON). Throws ApiError on non-2xx. */
  request<R = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<R>;
  /** Raw request returning the Response (2xx only; ApiError otherwise), for streams such as watch or logs. */
  stream(method: string, path: string, opts?: { signal?: AbortSignal; headers?: Record<string, string> }): Promise<Response>;
}

const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

/** Base path of a resource collection, e.g. /api/v1/namespaces/default/pods or /apis/apps/v1/deployments. */
export function resourcePath(ref: ResourceRef, namespace?: string): string {
  const prefix = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  if (ref.namespaced && namespace) return `${prefix}/namespaces/${encodeURIComponent(namespace)}/${ref.resource}`;
  return `${prefix}/${ref.resource}`;
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  let q = "";
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === "") continue;
    q += (q ? "&" : "?") + k + "=" + encodeURIComponent(String(v));
  }
  return q;
}

/** Turns a non-2xx response into an ApiError carrying the server's Status when it sent one. */
async function toApiError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  let status: any;
  try {
    status = JSON.parse(text);
  } catch {
    status = undefined;
  }
  if (status && status.kind === "Status") {
    return new ApiError(status.code ?? res.status, status.reason ?? res.statusText, status.message ?? text, status);
  }
  return new ApiError(res.status, res.statusText || "Unknown", text || res.statusText || `HTTP ${res.status}`, status);
}

/**
 * A reset connection is almost always a pooled keep-alive socket the server had just closed, so the request never
 * reached it: retry. Not for creates with generateName, where a retry could make a second object.
 */
function retryable(e: unknown, method: string, payload: string | undefined): boolean {
  const code = (e as any)?.code;
  if (code !== "ECONNRESET" && code !== "EPIPE") return false;
  return !makesNewName(method, payload);
}

/** A create whose name the server picks: sent twice, it could make two objects. */
function makesNewName(method: string, payload: string | undefined): boolean {
  return method === "POST" && !!payload && payload.includes('"generateName"');
}

/** The error of a call abandoned at the client's timeout (isUnreachable: the server did not answer in time). */
export function timeoutError(method: string, path: string, ms: number): Error {
  return Object.assign(new Error(`${method} ${path}: no answer within ${Math.round(ms)} ms (client timeout)`), { code: "ETIMEDOUT" });
}

/** Did this attempt end because its own time ran out (not the caller's signal)? */
function timedOut(e: unknown, attempt: AbortSignal | undefined, caller: AbortSignal | undefined): boolean {
  return !!attempt?.aborted && !caller?.aborted && ((e as Error)?.name === "TimeoutError" || (e as Error)?.name === "AbortError");
}

/**
 * A call given to the server's own handler (ClientConfig.localFetch). It settles as fetch does when its signal fires
 * (a timeout is a TimeoutError, an abort an AbortError); the handler sees the abort on the request's signal.
 */
function fetchLocal(handler: NonNullable<ClientConfig["localFetch"]>, url: string, init: RequestInit): Promise<Response> {
  const signal = init.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const answer = Promise.resolve().then(() => handler(new Request(url, init)));
  if (!signal) return answer;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    answer.then(
      (r) => (signal.removeEventListener("abort", onAbort), resolve(r)),
      (e) => (signal.removeEventListener("abort", onAbort), reject(e)),
    );
  });
}

export function createClient(cfg: ClientConfig): Client {
  const base = cfg.server.replace(/\/+$/, "");
  const tls = cfg.caPEM ? { ca: cfg.caPEM } : undefined;
  const commonHeaders: Record<string, string> = {
    Accept: "application/json",
    "User-Agent": cfg.userAgent ?? "kubun",
  };
  if (cfg.token) commonHeaders.Authorization = `Bearer ${cfg.token}`;

  async function send(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string> | undefined,
    signal?: AbortSignal,
    timeoutMs?: number,
  ): Promise<Response> {
    if (cfg.tokenSource) commonHeaders.Authorization = `Bearer ${cfg.tokenSource()}`;
    const h: Record<string, string> = headers ? { ...commonHeaders, ...headers } : commonHeaders;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === "string" ? body : JSON.stringify(body);
      if (!headers?.["Content-Type"]) {
        if (h === commonHeaders) {
          // Copy only when we must add a header; GETs reuse the shared object.
          return send(method, path, payload, { "Content-Type": "application/json" }, signal, timeoutMs);
        }
        h["Content-Type"] = "application/json";
      }
    }
    let res: Response;
    // With a server pool, a server that cannot be reached hands over to the next one (each server tried once).
    const servers = cfg.servers?.all().length ?? 1;
    // A timed call (not a stream) must be over by the deadline, failovers included: each server still to try gets
    // an equal share of the time left, so one that hangs leaves time for the next.
    const deadline = timeoutMs !== undefined ? performance.now() + timeoutMs : undefined;
    for (let attempt = 0, switched = 0; ; attempt++) {
      const server = cfg.servers?.current() ?? base;
      let attemptSignal = signal;
      if (deadline !== undefined) {
        const left = deadline - performance.now();
        if (left <= 0) throw timeoutError(method, path, timeoutMs!);
        const share = cfg.servers && !makesNewName(method, payload) ? left / Math.max(1, servers - switched) : left;
        attemptSignal = signal ? AbortSignal.any([signal, AbortSignal.timeout(share)]) : AbortSignal.timeout(share);
      }
      try {
        res = cfg.localFetch
          ? await fetchLocal(cfg.localFetch, base + path, { method, headers: h, body: payload, signal: attemptSignal })
          : await fetch(server + path, { method, headers: h, body: payload, tls, signal: attemptSignal } as RequestInit);
        break;
      } catch (err) {
        let e = err;
        if (timedOut(e, attemptSignal, signal)) {
          e = timeoutError(method, path, timeoutMs!);
          // The server did not answer in its share of the time: the next one takes over, unless resending could make
          // a second object (the first may have been made).
          if (cfg.servers && switched < servers - 1 && !makesNewName(method, payload)) {
            cfg.servers.failed(server, e);
            switched++;
            continue;
          }
          cfg.servers?.unreachable(e);
          throw e;
        }
        if (cfg.servers && !signal?.aborted && isUnreachable(e)) {
          if (switched < servers - 1) {
            cfg.servers.failed(server, e);
            switched++;
            continue;
          }
          cfg.servers.unreachable(e);
        }
        if (attempt >= 3 || signal?.aborted || !retryable(e, method, payload)) throw e;
        if (attempt > 0) await Bun.sleep(50 * 2 ** attempt);
      }
    }
    cfg.servers?.reachable();
    if (res.status < 200 || res.status > 299) throw await toApiError(res);
    return res;
  }

  async function request<R = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<R> {
    const t0 = performance.now();
    const res = await send(method, path, body, headers, undefined, cfg.timeoutMs);
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      // The attempt's timer also bounds the body.
      if (cfg.timeoutMs !== undefined && performance.now() - t0 >= cfg.timeoutMs) throw timeoutError(method, path, cfg.timeoutMs);
      throw e;
    }
    if (!text) return undefined as R;
    const ct = res.headers.get("content-type") ?? "";
    if (ct.includes("json") || text[0] === "{" || text[0] === "[") {
      try {
        return JSON.parse(text) as R;
      } catch {
        return text as R;
      }
    }
    return text as R;
  }

  function stream(method: string, path: string, opts: { signal?: AbortSignal; headers?: Record<string, string> } = {}) {
    return send(method, path, undefined, opts.headers, opts.signal);
  }

  function resource<T = any>(ref: ResourceRef, namespace?: string): ResourceClient<T> {
    const coll = resourcePath(ref, namespace);
    const item = (name: string) => `${coll}/${encodeURIComponent(name)}`;
    const nameOf = (obj: any): string => {
      const n = obj?.metadata?.name;
      if (!n) throw new ApiError(400, "BadRequest", "object has no metadata.name");
      return n;
    };
    // When no namespace was given to resource(), per-object calls use the object's own namespace.
    const itemOf = (obj: any): string =>
      ref.namespaced && !namespace && obj?.metadata?.namespace
        ? `${resourcePath(ref, obj.metadata.namespace)}/${encodeURIComponent(nameOf(obj))}`
        : item(nameOf(obj));

    return {
      get: (name) => request<T>("GET", item(name)),
      list: (opts: ListOptions = {}) =>
        request<ListResponse<T>>(
          "GET",
          coll +
            query({
              labelSelector: opts.labelSelector,
              fieldSelector: opts.fieldSelector,
              limit: opts.limit,
              continue: opts.continue,
              resourceVersion: opts.resourceVersion,
            }),
        ),
      create: (obj, opts = {}) => {
        const ns = (obj as any)?.metadata?.namespace;
        const path = ref.namespaced && !namespace && ns ? resourcePath(ref, ns) : coll;
        return request<T>("POST", path + query({ fieldManager: opts.fieldManager, dryRun: opts.dryRun ? "All" : undefined }), obj);
      },
      update: (obj, opts = {}) => request<T>("PUT", itemOf(obj) + query({ fieldManager: opts.fieldManager }), obj),
      updateStatus: (obj) => request<T>("PUT", itemOf(obj) + "/status", obj),
      patch: (name, type, patch, opts = {}) => {
        let path = item(name);
        if (opts.subresource) path += "/" + opts.subresource;
        const fieldManager = opts.fieldManager ?? (type === "apply" ? (cfg.userAgent ?? "kubun") : undefined);
        path += query({ fieldManager, force: opts.force ? "true" : undefined });
        return request<T>("PATCH", path, JSON.stringify(patch), { "Content-Type": PATCH_CONTENT_TYPE[type] });
      },
      delete: async (name, opts?: DeleteOptions) => {
        const body = opts ? { apiVersion: "v1", kind: "DeleteOptions", ...opts, dryRun: opts.dryRun ? ["All"] : undefined } : undefined;
        return request<T | undefined>("DELETE", item(name), body);
      },
      watch: (opts: WatchOptions = {}) => watchStream<T>(stream, coll, opts),
      createSubresource: (name, subresource, body) => request("POST", `${item(name)}/${subresource}`, body),
    };
  }

  return { config: cfg, resource, request, stream };
}

/** Streaming GET ?watch=1, parsed as newline-delimited JSON watch events. Ends after an ERROR event. */
async function* watchStream<T>(
  stream: Client["stream"],
  coll: string,
  opts: WatchOptions,
): AsyncGenerator<WatchEvent<T>> {
  const path =
    coll +
    query({
      watch: 1,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: opts.allowWatchBookmarks ? "true" : undefined,
      timeoutSeconds: opts.timeoutSeconds,
    });
  const res = await stream("GET", path, { signal: opts.signal });
  if (!res.body) return;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const ev = JSON.parse(line) as WatchEvent<T>;
        yield ev;
        if (ev.type === "ERROR") return;
      }
    }
    const rest = buf.trim();
    if (rest) {
      const ev = JSON.parse(rest) as WatchEvent<T>;
      yield ev;
    }
  } catch (e) {
    // An abort by the caller ends the stream quietly; anything else is a broken watch.
    if (opts.signal?.aborted) return;
    throw e;
  } finally {
    reader.cancel().catch(() => {});
  }
}
