// Errors thrown by the patch library. The apiserver turns them into metav1.Status responses.

/** metav1.StatusCause as it appears on the wire (the Go field Type is serialized as "reason"). */
export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

/** A patch that cannot be decoded or applied; `code`/`reason` are the upstream HTTP status and Status reason. */
export class PatchError extends Error {
  /** The underlying reason when upstream hides it from the response (422 from a JSON patch). */
  detail?: string;
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly causes: StatusCause[] = [],
  ) {
    super(message);
    this.name = "PatchError";
  }
}

/** 400 BadRequest: the patch document itself is malformed (upstream: errors.NewBadRequest). */
export function badRequest(message: string): PatchError {
  return new PatchError(400, "BadRequest", message);
}

/**
 * 422 Invalid with upstream's generic message: the patch is well-formed but does not apply to the object.
 * Upstream (errors.NewGenericServerResponse(422, …, isUnexpectedResponse=false)) sends no causes, so kubectl
 * prints "The request is invalid: the server rejected our request due to an error in our request"; the real
 * reason is kept in `detail` for logs only.
 */
export function unprocessable(detail: string): PatchError {
  const e = new PatchError(422, "Invalid", "the server rejected our request due to an error in our request");
  e.detail = detail;
  return e;
}

/**
 * Errors upstream returns as plain Go errors (e.g. a list element without its merge key): the apiserver
 * answers 500 with an empty reason and the error text as message, which kubectl prints as "Error from server: …".
 */
export function internalPatchError(message: string): PatchError {
  return new PatchError(500, "", message);
}

export interface FieldConflict {
  manager: string;
  /** Field path as upstream prints it: ".spec.replicas", `.spec.containers[name="nginx"].image`. */
  field: string;
  /** apiVersion of the owning entry when it is an Update (upstream prints it), "" for appliers. */
  apiVersion: string;
  /** Subresource of the owning entry, if any. */
  subresource?: string;
  /** The cause message upstream sends: `conflict with "kubectl-client-side-apply" using apps/v1`. */
  message: string;
}

/**
 * Server-side apply found fields owned by other managers with different values. The apiserver answers
 * 409 Conflict with `message` and details.causes (see `causes`), as upstream's NewApplyConflict.
 */
export class ApplyConflictError extends Error {
  readonly code = 409;
  readonly reason = "Conflict";
  readonly conflicts: FieldConflict[];
  constructor(conflicts: Omit<FieldConflict, "message">[]) {
    super(conflictMessage(conflicts));
    this.conflicts = conflicts.map((c) => ({ ...c, message: `conflict with ${printManager(c)}` }));
    this.name = "ApplyConflictError";
  }

  /** Status causes as upstream reports them: {reason: "FieldManagerConflict", message, field}. */
  get causes(): StatusCause[] {
    return this.conflicts.map((c) => ({ reason: "FieldManagerConflict", message: c.message, field: c.field }));
  }
}

// Upstream's printManager: "name", then ` with subresource "s"`, then ` using apps/v1` for Update entries.
function printManager(c: Omit<FieldConflict, "message">): string {
  let s = JSON.stringify(c.manager);
  if (c.subresource) s += ` with subresource ${JSON.stringify(c.subresource)}`;
  if (c.apiVersion) s += ` using ${c.apiVersion}`;
  return s;
}

// Upstream's getConflictMessage.
function conflictMessage(conflicts: Omit<FieldConflict, "message">[]): string {
  if (conflicts.length === 1) {
    const c = conflicts[0]!;
    return `Apply failed with 1 conflict: conflict with ${printManager(c)}: ${c.field}`;
  }
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const k = printManager(c);
    byManager.set(k, [...(byManager.get(k) ?? []), c.field]);
  }
  const lines: string[] = [];
  for (const k of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${k}:`);
    for (const f of byManager.get(k)!) lines.push(`- ${f}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
}
