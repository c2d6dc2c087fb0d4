// Kubernetes Status errors: every failure the API answers with is one of these, with upstream's code,
// reason and message wording (kubectl and client libraries match on reason, users read the message).
import type { ResourceInfo } from "./resources.ts";

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, unknown>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** Thrown anywhere in request handling; the app's error handler serialises it. */
export class StatusError extends Error {
  constructor(
    public code: number,
    public reason: string,
    message: string,
    public details?: StatusDetails,
    /** Extra response headers, e.g. Retry-After. */
    public headers?: Record<string, string>,
  ) {
    super(message);
  }

  toStatus(): Status {
    const s: Status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) s.details = this.details;
    return s;
  }
}

/** "pods" or "deployments.apps": how upstream names a group-resource in messages. */
export function qualifiedResource(ri: Pick<ResourceInfo, "group" | "resource">): string {
  return ri.group ? `${ri.resource}.${ri.group}` : ri.resource;
}

function gr(ri: Pick<ResourceInfo, "group" | "resource">, name?: string): StatusDetails {
  const d: StatusDetails = {};
  if (name) d.name = name;
  if (ri.group) d.group = ri.group;
  d.kind = ri.resource;
  return d;
}

export function notFound(ri: Pick<ResourceInfo, "group" | "resource">, name: string): StatusError {
  return new StatusError(404, "NotFound", `${qualifiedResource(ri)} "${name}" not found`, gr(ri, name));
}

export function alreadyExists(ri: Pick<ResourceInfo, "group" | "resource">, name: string): StatusError {
  return new StatusError(409, "AlreadyExists", `${qualifiedResource(ri)} "${name}" already exists`, gr(ri, name));
}

export function conflict(ri: Pick<ResourceInfo, "group" | "resource">, name: string, why: string): StatusError {
  return new StatusError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(ri)} "${name}": ${why}`,
    gr(ri, name),
  );
}

export const MODIFIED = "the object has been modified; please apply your changes to the latest version and try again";

export function invalid(
  ri: Pick<ResourceInfo, "group" | "kind">,
  name: string,
  causes: StatusCause[],
): StatusError {
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : `${c.message}`));
  const summary = list.length === 1 ? list[0] : `[${list.join(", ")}]`;
  const details: StatusDetails = { name, kind: ri.kind, causes };
  if (ri.group) details.group = ri.group;
  const qualifiedKind = ri.group ? `${ri.kind}.${ri.group}` : ri.kind;
  return new StatusError(422, "Invalid", `${qualifiedKind} "${name}" is invalid: ${summary}`, details);
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, "BadRequest", message);
}

export function methodNotAllowed(message = "the server does not allow this method on the requested resource"): StatusError {
  return new StatusError(405, "MethodNotAllowed", message);
}

export function forbidden(message: string, details?: StatusDetails): StatusError {
  return new StatusError(403, "Forbidden", message, details);
}

export function unauthorized(): StatusError {
  return new StatusError(401, "Unauthorized", "Unauthorized");
}

/** 410 Gone, reason Expired: informers relist on it. */
export function expired(message: string): StatusError {
  return new StatusError(410, "Expired", message);
}

export function tooManyRequests(message: string, retryAfterSeconds = 1): StatusError {
  return new StatusError(
    429,
    "TooManyRequests",
    message,
    { retryAfterSeconds },
    { "Retry-After": String(retryAfterSeconds) },
  );
}

export function internalError(err: unknown): StatusError {
  const msg = err instanceof Error ? err.message : String(err);
  return new StatusError(500, "InternalError", `Internal error occurred: ${msg}`, {
    causes: [{ message: msg }],
  });
}

export function serviceUnavailable(message: string): StatusError {
  return new StatusError(503, "ServiceUnavailable", message);
}

/** The Success Status returned by deletes of kinds that don't return the object. */
export function success(details: StatusDetails): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details, code: 200 } as Status;
}
