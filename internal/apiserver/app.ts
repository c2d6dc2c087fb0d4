// The API server as a hono app: filters (metrics, authn, limits, authz) in front of health, discovery,
// one sub-app per API group-version, and the generic REST handler driven by the resource registry.
// The vocabulary it shares with every component (registry, Status errors, selectors, quantities) lives in
// internal/api; only the server assembly, admission, apiextensions and tests import this folder (ARCHITECTURE.md).
import { Hono, type Context } from "hono";
import type { UserInfo } from "../auth/types.ts";
import { attributesOf, authenticate, authorize, impersonate } from "./authz.ts";
import type { ApiServerDeps } from "./deps.ts";
import { apiResourceList, discoveryRoutes, groupVersions, type GroupVersion } from "./discovery.ts";
import { dispatch } from "./dispatch.ts";
import { healthRoutes } from "./health.ts";
import { InflightLimiter } from "./inflight.ts";
import { DEFAULT_BODY_TIMEOUT_MS, FlowControl, limitBodyReadTime, serveWithFlowControl } from "./flowcontrol/index.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, isLongRunning, parseGoDuration, withDeadline } from "./timeout.ts";
import { metrics } from "./metrics.ts";
import { parseRequestInfo, type RequestInfo } from "./requestinfo.ts";
import { groupVersion, RESOURCES, storagePrefix } from "../api/resources.ts";
import { statusResponse } from "./respond.ts";
import { internalError, StatusError } from "../api/status.ts";
import { WatchCache } from "./watchhub.ts";
import { MetricsScraper } from "./metricsapi/scraper.ts";
import { WebhookAdmission } from "./webhooks/dispatch.ts";

export type AppEnv = { Variables: { user: UserInfo; info: RequestInfo; warnings: string[] } };

export interface ApiServer {
  app: Hono<AppEnv>;
  watchCache: WatchCache;
  /** Flips /readyz once bootstrap (namespaces, RBAC) is done. */
  markReady(): void;
  stop(): void;
}

export interface ApiServerOptions {
  /** host:port clients use, for /api's serverAddressByClientCIDRs. */
  serverAddress: () => string;
  /** Unauthenticated sub-apps mounted before authentication (agent join routes). */
  publicRoutes?: { prefix: string; app: Hono<any> }[];
  /** Authenticated, authorized non-resource routes mounted at "/" (e.g. ServiceAccount issuer discovery). */
  routes?: Hono<any>[];
}

function errorResponse(c: Context, err: unknown, deps: ApiServerDeps): Response {
  if (err instanceof StatusError) return statusResponse(c, err);
  deps.log.error("request failed", { method: c.req.method, path: c.req.path, err: err instanceof Error ? err.stack ?? err.message : String(err) });
  return statusResponse(c, internalError(err));
}

/** Upstream's metric verb: the HTTP method, except LIST/WATCH for collection reads and APPLY for server-side apply. */
function metricVerb(verb: string | undefined, method: string, contentType: string | undefined): string {
  if (verb === "list") return "LIST";
  if (verb === "watch") return "WATCH";
  if (method === "PATCH" && contentType?.startsWith("application/apply-patch")) return "APPLY";
  return method.toUpperCase();
}

export function createApiServer(deps: ApiServerDeps, opts: ApiServerOptions): ApiServer {
  const app = new Hono<AppEnv>();
  const watchCache = new WatchCache(deps.store, deps.log.child("watch"));
  // Admission webhooks are part of every API server, as upstream's (configurations read through a store watch).
  const ownWebhooks = deps.webhooks === undefined ? new WebhookAdmission(deps.store, deps.log.child("webhooks")) : undefined;
  if (ownWebhooks) deps.webhooks = ownWebhooks;
  // metrics.k8s.io is served by every API server from its own scrape of the kubelets (no metrics-server pod).
  const ownScraper = !deps.metricsScraper && deps.kubeletClient ? new MetricsScraper(deps, deps.metricsScrapeIntervalMs) : undefined;
  if (ownScraper) {
    deps.metricsScraper = ownScraper;
    ownScraper.start();
  }
  const limiter = new InflightLimiter(deps.maxMutatingInflight, deps.maxReadOnlyInflight);
  // API Priority and Fairness shares the same total as upstream: both in-flight limits together.
  const flowControl =
    deps.flowControl?.enabled === false
      ? undefined
      : new FlowControl(deps.store, {
          serverConcurrencyLimit: (deps.maxMutatingInflight ?? 400) + (deps.maxReadOnlyInflight ?? 800),
          queueWaitMs: deps.flowControl?.queueWaitMs ?? (deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS) / 4,
          log: deps.log.child("flowcontrol"),
        });
  let ready = false;

  app.onError((err, c) => errorResponse(c, err, deps));
  app.notFound((c) => c.text("404 page not found\n", 404));

  // Metrics first so that every answer, errors included, is counted.
  app.use("*", async (c, next) => {
    const t = performance.now();
    await next();
    const info = c.get("info");
    const verb = metricVerb(info?.verb, c.req.method, c.req.header("content-type"));
    const resource = info?.resource ? (info.subresource ? `${info.resource}/${info.subresource}` : info.resource) : "";
    const record = () => metrics.request(verb, resource, c.res.status, (performance.now() - t) / 1000);
    // A streamed answer (a large list) counts until its last byte was handed over, as upstream's latency does.
    const bodyEnded = c.get("bodyEnded" as never) as Promise<void> | undefined;
    if (bodyEnded) void bodyEnded.then(record);
    else record();
  });

  app.route("/", healthRoutes(deps.store, { gitVersion: deps.version, ready: () => ready }));
  for (const p of opts.publicRoutes ?? []) app.route(p.prefix, p.app);

  app.use("*", async (c, next) => {
    const url = new URL(c.req.url);
    const info = parseRequestInfo(c.req.method, url.pathname, url.searchParams);
    c.set("info", info);
    const user = await impersonate(deps, await authenticate(deps, c.req.header("authorization")), c.req.raw.headers);
    c.set("user", user);
    await authorize(deps, attributesOf(user, info));
    const longRunning = isLongRunning(info.verb, info.subresource);
    const stopBodyTimer = longRunning ? undefined : limitBodyReadTime(c, deps.flowControl?.requestBodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS);
    const run = async () => {
      if (longRunning) await next();
      else {
        const asked = parseGoDuration(c.req.query("timeout"));
        const ms = Math.min(asked ?? DEFAULT_REQUEST_TIMEOUT_MS, deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
        await withDeadline(ms, next());
      }
    };
    try {
      if (flowControl) await serveWithFlowControl(flowControl, c, user, info, run);
      else {
        const release = limiter.acquire(info.verb, info.subresource);
        try {
          await run();
        } finally {
          release?.();
        }
      }
    } finally {
      stopBodyTimer?.();
    }
  });

  app.route("/", discoveryRoutes(opts.serverAddress));
  app.get("/metrics", async () => {
    // Object counts are read at scrape time (one count per stored resource) rather than tracked on every write.
    const objects = new Map<string, number>();
    for (const ri of RESOURCES) {
      if (ri.virtual || ri.group === "events.k8s.io") continue;
      const { count } = await deps.store.count(storagePrefix(ri));
      objects.set(ri.group ? `${ri.resource}.${ri.group}` : ri.resource, count);
    }
    return new Response(metrics.render(objects), { headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" } });
  });
  if (deps.openapi) app.route("/", deps.openapi.routes());
  for (const extra of opts.routes ?? []) app.route("/", extra);

  for (const gv of groupVersions()) {
    const prefix = gv.group ? `/apis/${groupVersion(gv)}` : "/api/v1";
    app.route(prefix, groupVersionApp(deps, watchCache, gv));
  }
  // Group-versions added at run time (CRDs): looked up in the registry on each request.
  app.get("/apis/:group/:version", (c) => {
    const gv = groupVersions().find((g) => g.group === c.req.param("group") && g.version === c.req.param("version"));
    if (!gv) return c.text("404 page not found\n", 404);
    return new Response(JSON.stringify(apiResourceList(gv)), { headers: { "Content-Type": "application/json" } });
  });
  app.all("/apis/:group/:version/*", (c) => dispatch(c, deps, watchCache));

  return {
    app,
    watchCache,
    markReady: () => {
      ready = true;
    },
    stop: () => {
      watchCache.stop();
      flowControl?.stop();
      ownScraper?.stop();
      ownWebhooks?.close();
    },
  };
}

function groupVersionApp(deps: ApiServerDeps, watchCache: WatchCache, gv: GroupVersion): Hono<AppEnv> {
  const sub = new Hono<AppEnv>();
  const list = apiResourceList(gv);
  sub.get("/", () => new Response(JSON.stringify(list), { headers: { "Content-Type": "application/json" } }));
  sub.all("/*", (c) => dispatch(c, deps, watchCache));
  return sub;
}
