// What this API server serves for each established CRD: one registry row per served version (added to and
// removed from internal/api's run-time registry), plus the per-version schema, printer columns and
// deprecation that the REST handler, tables, OpenAPI and validation look up by resource.
import { addResource, groupVersion, removeResource, RESOURCES, type ResourceInfo } from "../api/resources.ts";
import { applyDefaults, hasDefaults } from "./schema/default.ts";
import type { Schema } from "./schema/types.ts";
import { isEstablished, storageVersion, type CRD, type CRDVersion } from "./crd/types.ts";

export interface ServedVersion {
  crd: CRD;
  version: CRDVersion;
  schema?: Schema;
  /** The schema sets defaults somewhere (reads then need a defaulting pass). */
  defaults: boolean;
  storage: string;
  ri: ResourceInfo;
}

const served = new Map<string, ServedVersion>();
const key = (group: string, version: string, resource: string) => `${group}/${version}/${resource}`;

/** The custom resource version behind a registry row, if the row is one. */
export function servedVersion(ri: Pick<ResourceInfo, "group" | "version" | "resource">): ServedVersion | undefined {
  return served.get(key(ri.group, ri.version, ri.resource));
}

/** All served custom resource versions (for OpenAPI). */
export function servedVersions(): ServedVersion[] {
  return [...served.values()];
}

/** Every registry row of the CRD's served versions. */
export function rowsOf(crd: CRD): ResourceInfo[] {
  const names = crd.status?.acceptedNames ?? crd.spec.names;
  const out: ResourceInfo[] = [];
  for (const v of crd.spec.versions ?? []) {
    if (!v.served) continue;
    const subs: string[] = [];
    if (v.subresources?.status) subs.push("status");
    if (v.subresources?.scale) subs.push("scale");
    const ri: ResourceInfo = {
      group: crd.spec.group,
      version: v.name,
      kind: names.kind,
      listKind: names.listKind ?? `${names.kind}List`,
      resource: names.plural,
      singular: names.singular || names.kind.toLowerCase(),
      namespaced: crd.spec.scope === "Namespaced",
      verbs: ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
      generation: true,
    };
    if (names.shortNames?.length) ri.shortNames = [...names.shortNames];
    if (names.categories?.length) ri.categories = [...names.categories];
    if (subs.length) ri.subresources = subs;
    out.push(ri);
  }
  return out;
}

/**
 * Brings the served rows in line with the CRD: an established CRD serves its served versions (its accepted
 * names); anything else, or a CRD that is gone (crd undefined), serves nothing. Returns true when the
 * registry changed.
 */
export function syncServed(name: string, crd: CRD | undefined): boolean {
  let changed = false;
  const want = crd && isEstablished(crd) ? rowsOf(crd) : [];
  const storage = crd ? storageVersion(crd)?.name ?? "" : "";
  const wantKeys = new Set(want.map((ri) => key(ri.group, ri.version, ri.resource)));
  for (const [k, sv] of served) {
    if (sv.crd.metadata.name === name && !wantKeys.has(k)) {
      served.delete(k);
      removeResource(sv.ri.group, sv.ri.version, sv.ri.resource);
      changed = true;
    }
  }
  for (const ri of want) {
    const version = crd!.spec.versions.find((v) => v.name === ri.version)!;
    const k = key(ri.group, ri.version, ri.resource);
    const prev = served.get(k);
    const schema = version.schema?.openAPIV3Schema as Schema | undefined;
    const sv: ServedVersion = { crd: crd!, version, schema, defaults: hasDefaults(schema), storage, ri };
    const rowChanged = !prev || JSON.stringify(prev.ri) !== JSON.stringify(ri);
    // Registry rows are what discovery and informers see; a schema-only change just swaps the lookup entry.
    served.set(k, sv);
    if (rowChanged) {
      const owner = RESOURCES.find((x) => x.group === ri.group && x.version === ri.version && x.resource === ri.resource);
      if (owner && !prev) {
        served.delete(k);
        continue; // another row (built-in) already serves this resource
      }
      sv.ri = addResource(ri);
    } else sv.ri = prev!.ri;
    changed ||= rowChanged || JSON.stringify(prev?.version) !== JSON.stringify(version);
  }
  return changed;
}

/** The stored object as the requested version shows it: apiVersion rewritten (conversion None), defaults applied. */
export function toServedVersion(sv: ServedVersion, stored: Record<string, any>): Record<string, any> {
  const gv = groupVersion(sv.ri);
  if (stored.apiVersion === gv && !sv.defaults) return stored;
  const out = structuredClone(stored);
  out.apiVersion = gv;
  if (sv.defaults) applyDefaults(out, sv.schema);
  return out;
}
