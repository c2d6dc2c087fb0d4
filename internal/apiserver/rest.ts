// Per-request context of the generic REST handler and the write options decoded from the query.
import type { Context } from "hono";
import type { UserInfo } from "../auth/types.ts";
import type { ApiServerDeps } from "./deps.ts";
import type { RequestInfo } from "./requestinfo.ts";
import type { ResourceInfo } from "../api/resources.ts";
import { optionsKindOf, validateDryRun } from "./queryopts.ts";
import { validateFieldManager } from "./fieldmanager.ts";
import { badRequest } from "../api/status.ts";
import type { WatchCache } from "./watchhub.ts";
import type { FieldValidation, WriteCtx } from "./writes.ts";

export interface Rest {
  c: Context;
  deps: ApiServerDeps;
  watchCache: WatchCache;
  ri: ResourceInfo;
  info: RequestInfo;
  q: URLSearchParams;
  user: UserInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** Field manager: the query parameter, else the User-Agent's program name (upstream's default). */
export function fieldManagerOf(c: Context, q: URLSearchParams): string {
  const fm = q.get("fieldManager");
  if (fm) {
    validateFieldManager(fm, optionsKindOf(c.req.method));
    return fm;
  }
  const ua = c.req.header("user-agent") ?? "unknown";
  return ua.split("/")[0]!.slice(0, 128) || "unknown";
}

/**
 * Write options of a request. `bodyDryRun` is the dryRun list of a DeleteOptions body (kubectl delete sends
 * it there, not in the query); either place makes the request a dry run.
 */
export function writeCtx(r: Rest, subresource = r.subresource, bodyDryRun?: unknown): WriteCtx {
  const kind = optionsKindOf(r.c.req.method);
  const fromQuery = validateDryRun(r.q.getAll("dryRun"), kind);
  const dryRun = validateDryRun(bodyDryRun, kind) || fromQuery;
  const fvRaw = r.q.get("fieldValidation") ?? "Warn";
  const fv = (["Strict", "Warn", "Ignore"].find((v) => v.toLowerCase() === fvRaw.toLowerCase()) ?? "") as FieldValidation;
  if (!fv) throw badRequest(`fieldValidation: Invalid value: "${fvRaw}": must be one of Ignore, Warn, Strict`);
  const warnings: string[] = [];
  r.c.set("warnings" as never, warnings as never);
  return {
    deps: r.deps,
    ri: r.ri,
    user: r.user,
    namespace: r.ri.namespaced ? r.namespace : undefined,
    subresource,
    dryRun,
    fieldManager: fieldManagerOf(r.c, r.q),
    fieldValidation: fv,
    warnings,
  };
}
