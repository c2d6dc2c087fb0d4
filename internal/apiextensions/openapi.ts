// OpenAPI definitions of the served custom resources, as upstream's CRD OpenAPI builder publishes them:
// "<reversed group>.<version>.<Kind>" and its List, with metadata as ObjectMeta and the schema's
// descriptions (kubectl explain) and extensions. Swagger 2.0 cannot say `nullable`: dropped there, as upstream.
import { groupVersion } from "../api/resources.ts";
import type { Schema } from "./schema/types.ts";
import { servedVersions, type ServedVersion } from "./served.ts";

const META = "io.k8s.apimachinery.pkg.apis.meta.v1";
const API_VERSION_DESC = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const KIND_DESC = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";

export function definitionName(group: string, version: string, kind: string): string {
  return `${group.split(".").reverse().join(".")}.${version}.${kind}`;
}

/** A schema node in Swagger 2.0 form: no nullable, no junctors (kubectl can't use them), int-or-string kept as an extension. */
function toV2(s: Schema | undefined): Schema {
  if (!s || typeof s !== "object") return {};
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === "nullable" || k === "allOf" || k === "anyOf" || k === "oneOf" || k === "not" || k === "x-kubernetes-validations") continue;
    if (k === "properties") out.properties = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([n, p]) => [n, toV2(p)]));
    else if (k === "items") out.items = toV2(v as Schema);
    else if (k === "additionalProperties") out.additionalProperties = typeof v === "object" ? toV2(v as Schema) : v;
    else out[k] = v;
  }
  return out;
}

function kindDefinition(sv: ServedVersion): Schema {
  const gvk = [{ group: sv.ri.group, kind: sv.ri.kind, version: sv.ri.version }];
  const base = toV2(sv.schema ?? { type: "object", "x-kubernetes-preserve-unknown-fields": true });
  const properties: Record<string, Schema> = {
    apiVersion: { description: API_VERSION_DESC, type: "string" },
    kind: { description: KIND_DESC, type: "string" },
    metadata: { $ref: `#/definitions/${META}.ObjectMeta`, description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata" } as Schema,
    ...Object.fromEntries(Object.entries(base.properties ?? {}).filter(([k]) => k !== "metadata" && k !== "apiVersion" && k !== "kind")),
  };
  return { ...base, type: "object", properties, "x-kubernetes-group-version-kind": gvk } as Schema;
}

function listDefinition(sv: ServedVersion, itemName: string): Schema {
  return {
    description: `${sv.ri.listKind} is a list of ${sv.ri.kind}`,
    type: "object",
    required: ["items"],
    properties: {
      apiVersion: { description: API_VERSION_DESC, type: "string" },
      items: { description: `List of ${sv.ri.resource}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`, type: "array", items: { $ref: `#/definitions/${itemName}` } as Schema },
      kind: { description: KIND_DESC, type: "string" },
      metadata: { $ref: `#/definitions/${META}.ListMeta`, description: "Standard list metadata." } as Schema,
    },
    "x-kubernetes-group-version-kind": [{ group: sv.ri.group, kind: sv.ri.listKind, version: sv.ri.version }],
  } as Schema;
}

/** Definitions of every served custom resource version, keyed by definition name. */
export function customDefinitions(): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const sv of servedVersions()) {
    const name = definitionName(sv.ri.group, sv.ri.version, sv.ri.kind);
    out[name] = kindDefinition(sv);
    out[definitionName(sv.ri.group, sv.ri.version, sv.ri.listKind)] = listDefinition(sv, name);
  }
  return out;
}

export { groupVersion };
