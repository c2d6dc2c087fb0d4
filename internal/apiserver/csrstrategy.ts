// CertificateSigningRequest strategy (upstream pkg/registry/certificates/certificates/strategy.go):
// the requester's identity is recorded from the authenticated user on create; the spec is immutable;
// the main resource cannot touch status, `approval` changes only the Approved/Denied conditions, and
// `status` (the signer) sets the certificate and other conditions but can't approve or deny.
import type { UserInfo } from "../auth/types.ts";
import { clone, nowRFC3339, type KObject } from "./objects.ts";

const APPROVAL_TYPES = new Set(["Approved", "Denied"]);

export function isCSR(ri: { group: string; resource: string }): boolean {
  return ri.group === "certificates.k8s.io" && ri.resource === "certificatesigningrequests";
}

export function prepareCSRForCreate(obj: KObject, user: UserInfo | undefined): void {
  const spec = (obj.spec && typeof obj.spec === "object" ? obj.spec : (obj.spec = {})) as Record<string, any>;
  delete spec.username;
  delete spec.uid;
  delete spec.groups;
  delete spec.extra;
  if (user) {
    spec.username = user.username;
    if (user.uid) spec.uid = user.uid;
    if (user.groups.length) spec.groups = [...user.groups];
    if (user.extra && Object.keys(user.extra).length) spec.extra = clone(user.extra);
  }
  obj.status = {};
}

function conditionsOf(o: KObject): Record<string, any>[] {
  const c = o.status?.conditions;
  return Array.isArray(c) ? c : [];
}

/** Fills the timestamps upstream's strategies set on new or changed conditions. */
function stampConditions(next: Record<string, any>[], old: Record<string, any>[]): Record<string, any>[] {
  const now = nowRFC3339();
  return next.map((c) => {
    if (!c || typeof c !== "object") return c;
    const out = { ...c };
    if (!out.status) out.status = "True";
    const prev = old.find((o) => o?.type === out.type);
    if (!out.lastUpdateTime) out.lastUpdateTime = prev && prev.status === out.status ? (prev.lastUpdateTime ?? now) : now;
    if (!out.lastTransitionTime) out.lastTransitionTime = prev && prev.status === out.status ? (prev.lastTransitionTime ?? now) : now;
    return out;
  });
}

/** Merges an update of a CSR (main resource, approval or status) onto the stored one. */
export function prepareCSRForUpdate(next: KObject, old: KObject, subresource: string | undefined): KObject {
  const oldConds = conditionsOf(old);
  if (!subresource) {
    next.spec = clone(old.spec);
    if (old.status === undefined) delete next.status;
    else next.status = clone(old.status);
    return next;
  }
  const out = clone(old);
  if (next.metadata?.managedFields) out.metadata.managedFields = next.metadata.managedFields;
  const wanted = conditionsOf(next);
  if (subresource === "approval") {
    // Only approval conditions come from the request; the others stay as stored.
    const approval = wanted.filter((c) => APPROVAL_TYPES.has(c?.type));
    const rest = oldConds.filter((c) => !APPROVAL_TYPES.has(c?.type));
    out.status = { ...(out.status ?? {}), conditions: stampConditions([...approval, ...rest], oldConds) };
  } else if (subresource === "status") {
    // Signers can't approve or deny: approval conditions stay as stored.
    const others = wanted.filter((c) => !APPROVAL_TYPES.has(c?.type));
    const approval = oldConds.filter((c) => APPROVAL_TYPES.has(c?.type));
    out.status = { ...(next.status ?? {}), conditions: stampConditions([...approval, ...others], oldConds) };
    if (!out.status.conditions.length) delete out.status.conditions;
  }
  return out;
}
