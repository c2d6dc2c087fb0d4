// List and patch metadata of upstream's API types for the OpenAPI documents: x-kubernetes-patch-strategy /
// -patch-merge-key (kubectl's client-side apply builds strategic merge patches from them) and
// x-kubernetes-list-type / -list-map-keys (server-side apply), plus +structType=atomic structs.
// One source: for every type the patch engine knows (patch/schema/types.generated.ts, generated from upstream's
// Go types) the metadata is derived from that table when scripts/gen-openapi.ts runs (at build time and before
// the tests), so what kubectl is told and how the server merges can never disagree. EXTRA_LIST_META holds only
// types the patch engine never sees (discovery, options, Table and a few newer types), transcribed from the
// `patchStrategy`/`patchMergeKey` struct tags and `+listType`/`+listMapKey` markers of k8s.io/api and
// k8s.io/apimachinery; listMetaTable() refuses a row for a type the patch schema already describes.
import { TYPES } from "../patch/schema/types.generated.ts";

// One row per field: "<package>.<Type> <field> <patchStrategy> <patchMergeKey> <listType> <listMapKeys>", "-" = none.
export const EXTRA_LIST_META = `
authentication.v1.TokenRequestSpec audiences - - atomic -
batch.v1.JobSchedulingConfiguration resourceClaims merge name map name
core.v1.AvoidPods preferAvoidPods - - atomic -
core.v1.ComponentStatus conditions merge type map type
core.v1.ContainerRestartRuleOnExitCodes values - - set -
core.v1.NodeAllocatableResourceClaimStatus containers - - set -
core.v1.NodeAllocatableResourceClaimStatus mapping merge name map name
core.v1.NodeAllocatableResourceClaimStatus overhead merge name map name
core.v1.NodePodPreemptionPolicy disableResizePreemption - - set -
core.v1.PodExecOptions command - - atomic -
core.v1.PodExtendedResourceClaimStatus requestMappings - - atomic -
core.v1.PodPortForwardOptions ports - - atomic -
core.v1.PodVolumeHealth healthConditions merge status map status,reason
core.v1.VolumeHealthStatus healthConditions merge status map status,reason
meta.v1.APIGroup serverAddressByClientCIDRs - - atomic -
meta.v1.APIGroup versions - - atomic -
meta.v1.APIGroupList groups - - atomic -
meta.v1.APIResource categories - - atomic -
meta.v1.APIResource shortNames - - atomic -
meta.v1.APIResourceList resources - - atomic -
meta.v1.APIVersions serverAddressByClientCIDRs - - atomic -
meta.v1.APIVersions versions - - atomic -
meta.v1.ApplyOptions dryRun - - atomic -
meta.v1.CreateOptions dryRun - - atomic -
meta.v1.DeleteOptions dryRun - - atomic -
meta.v1.PatchOptions dryRun - - atomic -
meta.v1.RootPaths paths - - atomic -
meta.v1.StatusDetails causes - - atomic -
meta.v1.Table columnDefinitions - - atomic -
meta.v1.Table rows - - atomic -
meta.v1.TableRow cells - - atomic -
meta.v1.TableRow conditions - - atomic -
meta.v1.UpdateOptions dryRun - - atomic -
`;

export interface FieldListMeta {
  patchStrategy?: string;
  patchMergeKey?: string;
  listType?: string;
  listMapKeys?: string[];
}

/** Upstream definition name of a patch-schema type name: "core.v1.PodSpec" → "io.k8s.api.core.v1.PodSpec". */
export function definitionName(type: string): string {
  return type.startsWith("meta.") ? `io.k8s.apimachinery.pkg.apis.${type}` : `io.k8s.api.${type}`;
}

/** Field metadata keyed by upstream definition name ("io.k8s.api.core.v1.PodSpec") then JSON field name. */
export function listMetaTable(): Map<string, Map<string, FieldListMeta>> {
  const out = new Map<string, Map<string, FieldListMeta>>();
  const set = (type: string, field: string, meta: FieldListMeta) => {
    const def = definitionName(type);
    if (!out.has(def)) out.set(def, new Map());
    out.get(def)!.set(field, meta);
  };
  for (const [type, ts] of Object.entries(TYPES)) {
    for (const [field, fs] of Object.entries(ts.fields)) {
      if (fs.map) continue; // a map's list semantics are its values' (UserInfo.extra), not the property's
      const meta: FieldListMeta = {};
      if (fs.strategy) meta.patchStrategy = fs.strategy;
      if (fs.mergeKey) meta.patchMergeKey = fs.mergeKey;
      if (fs.list) meta.listType = fs.list;
      if (fs.keys) meta.listMapKeys = [...fs.keys];
      if (!Object.keys(meta).length) continue;
      set(type, field, meta);
      // Upstream's OpenAPI describes EphemeralContainer's fields on the inlined EphemeralContainerCommon.
      if (type === "core.v1.EphemeralContainer") set("core.v1.EphemeralContainerCommon", field, meta);
    }
  }
  for (const line of EXTRA_LIST_META.split("\n")) {
    const cols = line.trim().split(" ");
    if (cols.length !== 6) continue;
    const [type, field, strategy, key, listType, mapKeys] = cols as [string, string, string, string, string, string];
    if (Object.hasOwn(TYPES, type)) throw new Error(`list-meta: ${type} is described by the patch schema; drop its row`);
    const meta: FieldListMeta = {};
    if (strategy !== "-") meta.patchStrategy = strategy;
    if (key !== "-") meta.patchMergeKey = key;
    if (listType !== "-") meta.listType = listType;
    if (mapKeys !== "-") meta.listMapKeys = mapKeys.split(",");
    set(type, field, meta);
  }
  return out;
}

/**
 * Types whose objects are replaced as a whole by server-side apply (`+structType=atomic` upstream),
 * published as "x-kubernetes-map-type": "atomic": those of the patch schema plus a few it never sees.
 */
export const ATOMIC_STRUCTS = new Set([
  ...Object.entries(TYPES)
    .filter(([, ts]) => ts.atomic)
    .map(([type]) => definitionName(type)),
  ...["autoscaling.v1.CrossVersionObjectReference", "core.v1.FileKeySelector", "core.v1.TopologySelectorTerm"].map(definitionName),
]);
