// Errors as the API returns them: 422 Invalid with a field cause, like upstream's Service REST storage.

import { StatusError } from "../api/status.ts";

export function invalidField(name: string, field: string, value: string, detail: string): StatusError {
  const causeMsg = `Invalid value: ${value}: ${detail}`;
  return new StatusError(422, "Invalid", `Service "${name}" is invalid: ${field}: ${causeMsg}`, {
    name,
    kind: "Service",
    causes: [{ reason: "FieldValueInvalid", message: causeMsg, field }],
  });
}

export function rangeFull(what: string): StatusError {
  return new StatusError(500, "InternalError", `Internal error occurred: failed to allocate a ${what}: range is full`);
}
