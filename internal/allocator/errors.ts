// Errors as the API returns them: 422 Invalid with a field cause, like upstream's Service REST storage.

import { ApiError } from "../client/types.ts";

export function invalidField(name: string, field: string, value: string, detail: string): ApiError {
  const causeMsg = `Invalid value: ${value}: ${detail}`;
  const message = `Service "${name}" is invalid: ${field}: ${causeMsg}`;
  return new ApiError(422, "Invalid", message, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: "Invalid",
    details: { name, kind: "Service", causes: [{ reason: "FieldValueInvalid", message: causeMsg, field }] },
    code: 422,
  });
}

export function rangeFull(what: string): ApiError {
  const message = `Internal error occurred: failed to allocate a ${what}: range is full`;
  return new ApiError(500, "InternalError", message, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: "InternalError",
    code: 500,
  });
}
