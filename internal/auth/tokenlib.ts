// Adapter from the authenticator to the API server's TokenLib (internal/apiserver/deps.ts) for
// POST .../serviceaccounts/<name>/token.
import type { TokenLib } from "../apiserver/deps.ts";
import type { KubunAuthenticator } from "./authenticator.ts";

export function tokenLib(authn: KubunAuthenticator): TokenLib {
  return {
    issueServiceAccountToken({ namespace, serviceAccount, audiences, expirationSeconds, boundObject }) {
      // Kind and expiry are validated by the signer (TokenRequestError carries the field for a 422).
      return authn.issueServiceAccountToken({
        namespace,
        name: serviceAccount.metadata.name,
        uid: serviceAccount.metadata.uid,
        audiences,
        expirationSeconds,
        boundObject: boundObject as any,
      });
    },
  };
}
