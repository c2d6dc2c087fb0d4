// The naming controller's decision (upstream's NamingConditionController): which requested names a CRD may
// have, given the names other CRDs of the same group already accepted and the built-in resources.
import type { CustomResourceDefinitionNames } from "kubernetes-types/apiextensions/v1";
import type { ResourceInfo } from "../../api/resources.ts";
import type { CRD } from "./types.ts";

export interface NamesDecision {
  accepted: boolean;
  reason: string;
  message: string;
  names: CustomResourceDefinitionNames;
}

export function decideNames(crd: CRD, others: CRD[], builtins: readonly ResourceInfo[]): NamesDecision {
  const req = crd.spec.names;
  const group = crd.spec.group;
  const plurals = new Set<string>();
  const singulars = new Set<string>();
  const shorts = new Set<string>();
  const kinds = new Set<string>();
  const listKinds = new Set<string>();
  for (const o of others) {
    if (o.metadata.name === crd.metadata.name || o.spec.group !== group) continue;
    const n = o.status?.acceptedNames;
    if (!n?.plural) continue;
    plurals.add(n.plural);
    if (n.singular) singulars.add(n.singular);
    for (const s of n.shortNames ?? []) shorts.add(s);
    kinds.add(n.kind);
    if (n.listKind) listKinds.add(n.listKind);
  }
  for (const b of builtins) {
    if (b.group !== group) continue;
    plurals.add(b.resource);
    singulars.add(b.singular);
    kinds.add(b.kind);
    listKinds.add(b.listKind);
    for (const s of b.shortNames ?? []) shorts.add(s);
  }
  const fail = (reason: string, what: string): NamesDecision => ({
    accepted: false,
    reason,
    message: `${JSON.stringify(what)} is already in use`,
    names: crd.status?.acceptedNames ?? ({} as CustomResourceDefinitionNames),
  });
  if (plurals.has(req.plural) || singulars.has(req.plural)) return fail("PluralConflict", req.plural);
  if (req.singular && (singulars.has(req.singular) || plurals.has(req.singular))) return fail("SingularConflict", req.singular);
  for (const s of req.shortNames ?? []) if (shorts.has(s)) return fail("ShortNamesConflict", s);
  if (kinds.has(req.kind) || listKinds.has(req.kind)) return fail("KindConflict", req.kind);
  if (req.listKind && (listKinds.has(req.listKind) || kinds.has(req.listKind))) return fail("ListKindConflict", req.listKind);
  return { accepted: true, reason: "NoConflicts", message: "no conflicts found", names: structuredClone(req) };
}
