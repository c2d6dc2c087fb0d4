// The contract of kubun's own small API client, shared by the scheduler, controllers, kubelet and proxy.
// Every component talks to the cluster only through the API server with this client (no back doors into the store).
// Deliberately not @kubernetes/client-node at run time: it pulls in ~30 MB of dependencies and memory
// that an edge node cannot spare; tests use it to prove compatibility.

import type { ServerPool } from "./servers.ts";

export interface ClientConfig {
  /** e.g. https://127.0.0.1:6443 */
  server: string;
  /** Bearer token. */
  token: string;
  /** The current bearer token, read for every request (credentials that the agent rotates); overrides `token`. */
  tokenSource?: () => string;
  /** Several API servers (agents): calls go to the pool's current server and fail over; overrides `server`. */
  servers?: ServerPool;
  /** PEM of the CA that signed the server certificate. */
  caPEM?: string;
  /** Identifies the component in managedFields and logs. */
  userAgent?: string;
  /**
   * The API server's own request handler, for components inside the server process: their calls and watches go
   * through the same authentication, authorization, flow control and admission as any client's, without a socket —
   * no TLS session, no HTTP framing, no syscalls per request or watch event. `server` then only names the URL.
   */
  localFetch?: (req: Request) => Response | Promise<Response>;
  /**
   * Per-call timeout in ms (upstream rest.Config.Timeout, which the kubelet's heartbeat client sets): a call with no
   * complete answer by then is abandoned with an ETIMEDOUT error. With a server pool the time is shared by the
   * servers still to try, so a server that stopped answering hands over to the next one within the one timeout.
   * Not applied to streams (watches, logs).
   */
  timeoutMs?: number;
}

export interface ResourceRef {
  group: string; // "" for core
  version: string;
  resource: string; // plural
  namespaced: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchOptions extends ListOptions {
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export interface ListResponse<T> {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

export type PatchType = "json" | "merge" | "strategic" | "apply";

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

/** Thrown for any non-2xx answer; carries the Kubernetes Status. */
export class ApiError extends Error {
  constructor(
    public code: number,
    public reason: string,
    message: string,
    public status?: any,
  ) {
    super(message);
  }
}

export interface ResourceClient<T = any> {
  get(name: string): Promise<T>;
  list(opts?: ListOptions): Promise<ListResponse<T>>;
  create(obj: T, opts?: { fieldManager?: string; dryRun?: boolean }): Promise<T>;
  update(obj: T, opts?: { fieldManager?: string }): Promise<T>;
  /** PUT <name>/status */
  updateStatus(obj: T): Promise<T>;
  patch(name: string, type: PatchType, patch: unknown, opts?: { subresource?: string; fieldManager?: string; force?: boolean }): Promise<T>;
  delete(name: string, opts?: DeleteOptions): Promise<T | undefined>;
  /** Stream of watch events until the server closes it, the signal aborts, or an ERROR event arrives. */
  watch(opts?: WatchOptions): AsyncIterable<WatchEvent<T>>;
  /** POST to a subresource, e.g. pods/<name>/binding or eviction. */
  createSubresource(name: string, subresource: string, body: unknown): Promise<any>;
}
