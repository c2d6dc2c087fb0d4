// Bound ServiceAccount tokens (TokenRequest API), as upstream's pkg/serviceaccount/claims.go: ES256 JWTs with
// issuer https://kubernetes.default.svc.cluster.local, the API audiences, and the "kubernetes.io" private claim
// { namespace, serviceaccount: {name, uid}, pod|secret|node: {name, uid} }. Validation re-reads the ServiceAccount
// and the bound object from the store, so deleting either (or re-creating it with a new uid) revokes the token.
// Also kubun's component tokens (scheduler, controller manager, API server → kubelet), signed by the same key under
// a separate issuer so they can never be mistaken for ServiceAccount tokens.
import { SignJWT, jwtVerify, decodeProtectedHeader, errors as joseErrors } from "jose";
import type { UserInfo } from "../types.ts";
import { AUTHENTICATED_GROUP, serviceAccountGroups, serviceAccountUserName } from "../../api/names.ts";
import type { Store } from "../../store/types.ts";
import type { SigningKey, VerificationKeys } from "./keys.ts";

export const SA_ISSUER = "https://kubernetes.default.svc.cluster.local";
export const API_AUDIENCES = [SA_ISSUER];
export const COMPONENT_ISSUER = "kubun";

/** The audience of the tokens the API server presents to one node's kubelet (never an API audience). */
export function kubeletAudience(nodeName: string): string {
  return `kubelet:${nodeName}`;
}
/** Lifetime of those tokens: the API server re-signs one per node when less than a minute is left. */
export const KUBELET_TOKEN_TTL_SECONDS = 300;
/** Issuer of legacy (Secret-based, non-expiring) ServiceAccount tokens, as upstream's LegacyIssuer. */
export const LEGACY_ISSUER = "kubernetes/serviceaccount";
const LEGACY = {
  namespace: "kubernetes.io/serviceaccount/namespace",
  secretName: "kubernetes.io/serviceaccount/secret.name",
  saName: "kubernetes.io/serviceaccount/service-account.name",
  saUID: "kubernetes.io/serviceaccount/service-account.uid",
} as const;
export const DEFAULT_EXPIRATION_SECONDS = 3600;
export const MIN_EXPIRATION_SECONDS = 600;
/** Upstream treats an object deleted less than a minute ago as still present (clock skew and in-flight requests). */
const DELETION_GRACE_MS = 60_000;

export interface BoundObjectRef {
  kind: "Pod" | "Secret" | "Node";
  name: string;
  uid: string;
  apiVersion?: string;
}

export interface ServiceAccountTokenRequest {
  namespace: string;
  name: string;
  uid: string;
  audiences?: string[];
  expirationSeconds?: number;
  boundObject?: BoundObjectRef;
  /** For pod-bound tokens: the pod's node, recorded as upstream does (kubernetes.io.node). */
  node?: { name: string; uid: string };
}

export interface IssuedToken {
  token: string;
  /** RFC 3339, as TokenRequest status.expirationTimestamp. */
  expirationTimestamp: string;
}

function rfc3339(sec: number): string {
  return new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export class TokenRequestError extends Error {
  constructor(
    message: string,
    public field: string,
  ) {
    super(message);
  }
}

export async function signServiceAccountToken(key: SigningKey, req: ServiceAccountTokenRequest, now = Date.now()): Promise<IssuedToken> {
  const exp = req.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  if (exp < MIN_EXPIRATION_SECONDS) {
    throw new TokenRequestError("may not specify a duration less than 10 minutes", "spec.expirationSeconds");
  }
  if (exp > 2 ** 32) throw new TokenRequestError("may not specify a duration larger than 2^32 seconds", "spec.expirationSeconds");
  const iat = Math.floor(now / 1000);
  const k8s: Record<string, unknown> = {
    namespace: req.namespace,
    serviceaccount: { name: req.name, uid: req.uid },
  };
  const b = req.boundObject;
  if (b) {
    const field = b.kind === "Pod" ? "pod" : b.kind === "Secret" ? "secret" : b.kind === "Node" ? "node" : undefined;
    if (!field) throw new TokenRequestError(`unsupported bound object kind "${b.kind}"`, "spec.boundObjectRef.kind");
    k8s[field] = { name: b.name, uid: b.uid };
  }
  if (req.node && !k8s.node) k8s.node = { name: req.node.name, uid: req.node.uid };
  const token = await new SignJWT({ "kubernetes.io": k8s })
    .setProtectedHeader({ alg: "ES256", kid: key.kid })
    .setIssuer(SA_ISSUER)
    .setSubject(serviceAccountUserName(req.namespace, req.name))
    .setAudience(req.audiences?.length ? req.audiences : API_AUDIENCES)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + exp)
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
  return { token, expirationTimestamp: rfc3339(iat + exp) };
}

/** A token for one of kubun's own components (a user, not a ServiceAccount). */
export async function signComponentToken(
  key: SigningKey,
  username: string,
  groups: string[],
  ttlSeconds = 365 * 86400,
  audiences: string[] = API_AUDIENCES,
): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ "kubun.io/groups": groups })
    .setProtectedHeader({ alg: "ES256", kid: key.kid })
    .setIssuer(COMPONENT_ISSUER)
    .setSubject(username)
    .setAudience(audiences)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
}

/**
 * A legacy token for a Secret of type kubernetes.io/service-account-token (upstream's tokens controller): no expiry,
 * no audience; valid while the Secret holds exactly this token and the ServiceAccount keeps its uid.
 */
export async function signLegacyServiceAccountToken(
  key: SigningKey,
  req: { namespace: string; name: string; uid: string; secretName: string },
): Promise<string> {
  return new SignJWT({
    [LEGACY.namespace]: req.namespace,
    [LEGACY.secretName]: req.secretName,
    [LEGACY.saName]: req.name,
    [LEGACY.saUID]: req.uid,
  })
    .setProtectedHeader({ alg: "ES256", kid: key.kid })
    .setIssuer(LEGACY_ISSUER)
    .setSubject(serviceAccountUserName(req.namespace, req.name))
    .sign(key.privateKey);
}

export function looksLikeJWT(token: string): boolean {
  const parts = token.split(".");
  return parts.length === 3 && parts.every((p) => p.length > 0 && /^[A-Za-z0-9_-]+$/.test(p));
}

interface K8sClaims {
  namespace?: string;
  serviceaccount?: { name?: string; uid?: string };
  pod?: { name?: string; uid?: string };
  secret?: { name?: string; uid?: string };
  node?: { name?: string; uid?: string };
}

export interface VerifiedToken {
  user: UserInfo;
  /** The token's audiences that were accepted. */
  audiences: string[];
  /** When the result stops being valid (token expiry), ms since epoch. */
  expiresAt: number;
}

/**
 * Verifies a JWT (ServiceAccount or component token). Returns null when the signature, issuer, audience, expiry or
 * the bound objects don't check out. `audiences`: the audiences the caller accepts (default: the API audiences).
 */
export async function verifyJWT(
  token: string,
  keys: VerificationKeys,
  store: Store | undefined,
  audiences: string[] = API_AUDIENCES,
): Promise<VerifiedToken | null> {
  let kid: string | undefined;
  try {
    const h = decodeProtectedHeader(token);
    if (h.alg !== "ES256" || !h.kid) return null;
    kid = h.kid;
  } catch {
    return null;
  }
  const key = await keys.get(kid);
  if (!key) return null;
  let payload: Record<string, any>;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ["ES256"],
      issuer: [SA_ISSUER, COMPONENT_ISSUER, LEGACY_ISSUER],
      clockTolerance: 60,
    }));
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) return null;
    throw err;
  }
  if (payload.iss === LEGACY_ISSUER) return verifyLegacy(token, payload, store, audiences);
  const tokenAud: string[] = Array.isArray(payload.aud) ? payload.aud : payload.aud ? [payload.aud] : [];
  const accepted = tokenAud.filter((a) => audiences.includes(a));
  if (accepted.length === 0) return null;
  const expiresAt = typeof payload.exp === "number" ? payload.exp * 1000 : Date.now() + 60_000;

  if (payload.iss === COMPONENT_ISSUER) {
    const groups = Array.isArray(payload["kubun.io/groups"]) ? payload["kubun.io/groups"].map(String) : [];
    if (!groups.includes(AUTHENTICATED_GROUP)) groups.push(AUTHENTICATED_GROUP);
    return { user: { username: String(payload.sub), groups }, audiences: accepted, expiresAt };
  }

  const k8s = payload["kubernetes.io"] as K8sClaims | undefined;
  const ns = k8s?.namespace;
  const saName = k8s?.serviceaccount?.name;
  const saUID = k8s?.serviceaccount?.uid;
  if (!ns || !saName || !saUID || payload.sub !== serviceAccountUserName(ns, saName)) return null;
  if (store) {
    if (!(await objectMatches(store, `/registry/core/serviceaccounts/${ns}/${saName}`, saUID))) return null;
    if (k8s.pod && !(await objectMatches(store, `/registry/core/pods/${ns}/${k8s.pod.name}`, k8s.pod.uid))) return null;
    if (k8s.secret && !(await objectMatches(store, `/registry/core/secrets/${ns}/${k8s.secret.name}`, k8s.secret.uid))) return null;
    // Node-bound tokens (kubelet-requested) are checked only when the token was bound to the node itself.
    if (k8s.node && !k8s.pod && !(await objectMatches(store, `/registry/core/nodes/${k8s.node.name}`, k8s.node.uid))) return null;
  }
  const extra: Record<string, string[]> = {};
  if (k8s.pod?.name) {
    extra["authentication.kubernetes.io/pod-name"] = [k8s.pod.name];
    extra["authentication.kubernetes.io/pod-uid"] = [k8s.pod.uid ?? ""];
  }
  if (k8s.node?.name) {
    extra["authentication.kubernetes.io/node-name"] = [k8s.node.name];
    if (k8s.node.uid) extra["authentication.kubernetes.io/node-uid"] = [k8s.node.uid];
  }
  if (payload.jti) extra["authentication.kubernetes.io/credential-id"] = [`JTI=${payload.jti}`];
  return {
    user: {
      username: serviceAccountUserName(ns, saName),
      uid: saUID,
      groups: serviceAccountGroups(ns),
      extra,
    },
    audiences: accepted,
    expiresAt,
  };
}

async function verifyLegacy(
  token: string,
  payload: Record<string, any>,
  store: Store | undefined,
  audiences: string[],
): Promise<VerifiedToken | null> {
  const ns = payload[LEGACY.namespace];
  const secretName = payload[LEGACY.secretName];
  const saName = payload[LEGACY.saName];
  const saUID = payload[LEGACY.saUID];
  if (!ns || !secretName || !saName || !saUID || payload.sub !== serviceAccountUserName(ns, saName)) return null;
  if (!store) return null;
  // Legacy tokens carry no audience; upstream accepts them only for the API's own audiences.
  const accepted = audiences.filter((a) => API_AUDIENCES.includes(a));
  if (accepted.length === 0) return null;
  // The Secret must still hold exactly this token (deleting it, or rotating its data, revokes the token).
  const { kv } = await store.get(`/registry/core/secrets/${ns}/${secretName}`);
  if (!kv) return null;
  try {
    const secret = JSON.parse(kv.value);
    if (Buffer.from(secret?.data?.token ?? "", "base64").toString() !== token) return null;
  } catch {
    return null;
  }
  if (!(await objectMatches(store, `/registry/core/serviceaccounts/${ns}/${saName}`, saUID))) return null;
  return {
    user: {
      username: serviceAccountUserName(ns, saName),
      uid: saUID,
      groups: serviceAccountGroups(ns),
      extra: { "authentication.kubernetes.io/credential-id": [`secret=${secretName}`] },
    },
    audiences: accepted,
    expiresAt: Date.now() + 60_000,
  };
}

/** The object exists with this uid and was not deleted more than a minute ago. */
async function objectMatches(store: Store, key: string, uid: string | undefined): Promise<boolean> {
  const { kv } = await store.get(key);
  if (!kv) return false;
  try {
    const obj = JSON.parse(kv.value);
    if (!uid || obj?.metadata?.uid !== uid) return false;
    const dt = obj?.metadata?.deletionTimestamp;
    if (dt && Date.parse(dt) < Date.now() - DELETION_GRACE_MS) return false;
    return true;
  } catch {
    return false;
  }
}
