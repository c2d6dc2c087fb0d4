// Secrets of type kubernetes.io/service-account-token get their long-lived token filled in when created, as
// upstream's tokens controller does (asynchronously there; here at admission, so the token is there at once):
// data.token, data["ca.crt"], data.namespace and the kubernetes.io/service-account.uid annotation. A Secret naming a
// ServiceAccount that doesn't exist is left as is, like upstream's controller leaves it unpopulated.
import type { Secret, ServiceAccount } from "kubernetes-types/core/v1";
import type { AdmissionPlugin, AdmissionRequest } from "./types.ts";
import type { Getter } from "./deps.ts";

export const SA_TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token";
const NAME_ANNOTATION = "kubernetes.io/service-account.name";
const UID_ANNOTATION = "kubernetes.io/service-account.uid";

export interface LegacyTokenIssuer {
  issueLegacyServiceAccountToken(req: { namespace: string; name: string; uid: string; secretName: string }): Promise<string>;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

export function serviceAccountTokenSecrets(get: Getter, issuer: LegacyTokenIssuer, caPEM: string): AdmissionPlugin {
  return {
    name: "ServiceAccountTokenSecrets",
    async admit(req: AdmissionRequest) {
      if (req.operation !== "CREATE" || req.group !== "" || req.resource !== "secrets" || req.subresource) return;
      const secret = req.object as Secret | undefined;
      if (secret?.type !== SA_TOKEN_SECRET_TYPE) return;
      const saName = secret.metadata?.annotations?.[NAME_ANNOTATION];
      const ns = req.namespace ?? secret.metadata?.namespace;
      const name = secret.metadata?.name ?? req.name;
      if (!saName || !ns || !name) return; // validation reports the missing annotation/name
      if (secret.data?.token) return; // brought its own
      const wantUID = secret.metadata?.annotations?.[UID_ANNOTATION];
      let sa = await get.get<ServiceAccount>("", "serviceaccounts", ns, saName);
      // A cached copy may predate a ServiceAccount recreated a moment ago: the store has the last word on its UID.
      if (wantUID && sa?.metadata?.uid !== wantUID && get.getLive) sa = await get.getLive<ServiceAccount>("", "serviceaccounts", ns, saName);
      const uid = sa?.metadata?.uid;
      if (!uid) return;
      if (wantUID && wantUID !== uid) return; // meant for an older ServiceAccount of that name
      const token = await issuer.issueLegacyServiceAccountToken({ namespace: ns, name: saName, uid, secretName: name });
      secret.metadata!.annotations![UID_ANNOTATION] = uid;
      secret.data = { ...(secret.data ?? {}), token: b64(token), "ca.crt": b64(caPEM), namespace: b64(ns) };
    },
  };
}
