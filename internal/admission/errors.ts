// Admission rejections carrying a full upstream Status (message, reason, details), which the API server's
// admission runner passes through as is (see internal/apiserver/admission.ts).
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { type?: string; reason?: string; message?: string; field?: string }[];
}

export class AdmissionStatusError extends Error {
  status: { kind: "Status"; apiVersion: "v1"; metadata: {}; status: "Failure"; message: string; reason: string; details?: StatusDetails; code: number };
  constructor(
    public code: number,
    public reason: string,
    message: string,
    details?: StatusDetails,
  ) {
    super(message);
    this.status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, details, code };
  }
}

export interface Target {
  group: string;
  resource: string;
  name?: string;
}

/** upstream admission.NewForbidden → errors.NewForbidden(groupResource, name, err). */
export function forbidden(t: Target, why: string): AdmissionStatusError {
  const qualified = t.group ? `${t.resource}.${t.group}` : t.resource;
  const message = t.name ? `${qualified} "${t.name}" is forbidden: ${why}` : `${qualified} is forbidden: ${why}`;
  const details: StatusDetails = { kind: t.resource };
  if (t.name) details.name = t.name;
  if (t.group) details.group = t.group;
  return new AdmissionStatusError(403, "Forbidden", message, details);
}

/** upstream errors.NewNotFound(groupResource, name). */
export function notFound(group: string, resource: string, name: string): AdmissionStatusError {
  const qualified = group ? `${resource}.${group}` : resource;
  const details: StatusDetails = { name, kind: resource };
  if (group) details.group = group;
  return new AdmissionStatusError(404, "NotFound", `${qualified} "${name}" not found`, details);
}
