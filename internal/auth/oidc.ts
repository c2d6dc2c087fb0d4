// ServiceAccount issuer discovery, as upstream (served behind authentication; RBAC's
// system:service-account-issuer-discovery lets every ServiceAccount read it):
//   GET /.well-known/openid-configuration   OIDC metadata for the ServiceAccount issuer
//   GET /openid/v1/jwks                     the public keys ServiceAccount tokens are signed with
import { Hono } from "hono";
import type { KubunAuthenticator } from "./authenticator.ts";
import { SA_ISSUER } from "./serviceaccount/jwt.ts";

export function serviceAccountIssuerRoutes(authn: KubunAuthenticator, opts: { externalURL: () => string }): Hono {
  const app = new Hono();
  app.get("/.well-known/openid-configuration", (c) =>
    c.json({
      issuer: SA_ISSUER,
      jwks_uri: `${opts.externalURL().replace(/\/+$/, "")}/openid/v1/jwks`,
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["ES256"],
    }),
  );
  app.get("/openid/v1/jwks", async (c) => c.body(JSON.stringify(await authn.jwks()), 200, { "content-type": "application/jwk-set+json" }));
  return app;
}
