// Contracts between the API server and authentication / authorization / admission.
// Implementations live in internal/auth (tokens, ServiceAccount JWTs, RBAC, Node authorizer)
// and internal/admission; the API server only sees these types.

/** The authenticated caller, as upstream's user.Info. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** Turns a bearer token into a user, or null when the token is unknown/invalid/expired/revoked. */
export interface Authenticator {
  authenticateToken(token: string): Promise<UserInfo | null>;
}

/** Upstream's authorizer.Attributes. */
export interface RequestAttributes {
  user: UserInfo;
  /** get, list, watch, create, update, patch, delete, deletecollection, or the HTTP verb lowercased for non-resource requests. */
  verb: string;
  resourceRequest: boolean;
  /** For non-resource requests, e.g. "/healthz". */
  path?: string;
  apiGroup?: string;
  apiVersion?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export type Decision = "allow" | "deny" | "no-opinion";

export interface Authorizer {
  authorize(attrs: RequestAttributes): Promise<{ decision: Decision; reason?: string }>;
}

/** Signs ServiceAccount tokens for the API server's TokenRequest (serviceaccounts/<name>/token). */
export interface TokenLib {
  /** TokenRequest: sign a ServiceAccount token. */
  issueServiceAccountToken(args: {
    namespace: string;
    serviceAccount: any;
    audiences: string[];
    expirationSeconds: number;
    boundObject?: { kind: string; name: string; uid: string; apiVersion?: string };
  }): Promise<{ token: string; expirationTimestamp: string }>;
}
