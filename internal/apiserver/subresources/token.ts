// serviceaccounts/<name>/token: TokenRequest, signed by auth's ServiceAccount token issuer.
import { readObject } from "../body.ts";
import { nowRFC3339 } from "../objects.ts";
import type { Rest } from "../rest.ts";
import { json } from "../respond.ts";
import { methodNotAllowed, notFound, serviceUnavailable, StatusError } from "../../api/status.ts";
import { readLive } from "../writes.ts";

export async function handleToken(r: Rest, method: string): Promise<Response> {
  if (method !== "POST") throw methodNotAllowed();
  const body = (await readObject(r.c)) as any;
  const name = r.name!;
  const live = await readLive(r.deps, r.ri, r.namespace, name);
  if (!live) throw notFound(r.ri, name);
  if (!r.deps.tokens) throw serviceUnavailable("the ServiceAccount token issuer is not configured");
  const spec = body.spec ?? {};
  const expirationSeconds = spec.expirationSeconds ?? 3600;
  if (expirationSeconds < 600) {
    throw new StatusError(422, "Invalid", `TokenRequest.authentication.k8s.io "${name}" is invalid: spec.expirationSeconds: Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`, {
      name, group: "authentication.k8s.io", kind: "TokenRequest",
      causes: [{ reason: "FieldValueInvalid", message: `Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`, field: "spec.expirationSeconds" }],
    });
  }
  const issued = await r.deps.tokens
    .issueServiceAccountToken({
      namespace: r.namespace!,
      serviceAccount: live.obj,
      audiences: spec.audiences ?? [],
      expirationSeconds,
      boundObject: spec.boundObjectRef,
    })
    .catch((err: unknown) => {
      // The signer rejects bad requests (e.g. an unsupported bound object kind) naming the field at fault.
      const field = (err as { field?: unknown }).field;
      if (typeof field !== "string") throw err;
      const message = (err as Error).message;
      throw new StatusError(422, "Invalid", `TokenRequest.authentication.k8s.io "${name}" is invalid: ${field}: ${message}`, {
        name, group: "authentication.k8s.io", kind: "TokenRequest",
        causes: [{ reason: "FieldValueInvalid", message, field }],
      });
    });
  return json(r.c, {
    kind: "TokenRequest",
    apiVersion: "authentication.k8s.io/v1",
    metadata: { name, namespace: r.namespace, creationTimestamp: nowRFC3339() },
    spec: { audiences: spec.audiences ?? [], expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
    status: issued,
  }, 201);
}
