// Builds the published documents from the generated definitions and the resource paths:
// Swagger 2.0 for /openapi/v2 and one OpenAPI 3.0 document per group-version for /openapi/v3.
// Built once on first request and kept; the hash of each v3 document is its cache-busting key.
import { createHash } from "node:crypto";
import { definitions, refName, type Schema } from "./definitions.ts";
import { PATCH_CONTENT_TYPES, pathsByGroupVersion } from "./paths.ts";

const TITLE = "Kubernetes";
const VERSION = "v1.32.0";

let v2: Schema | undefined;

/** Drops the built documents (the served resources changed); they are rebuilt on the next request. */
export function resetDocuments(): void {
  v2 = undefined;
  v3Docs.clear();
}

export function openapiV2(): Schema {
  if (v2) return v2;
  const paths: Record<string, Schema> = {};
  for (const p of pathsByGroupVersion().values()) Object.assign(paths, p);
  v2 = {
    swagger: "2.0",
    info: { title: TITLE, version: VERSION },
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    definitions: definitions(),
    securityDefinitions: { BearerToken: { type: "apiKey", name: "authorization", in: "header", description: "Bearer Token authentication" } },
    security: [{ BearerToken: [] }],
  };
  return v2;
}

/** Names of every definition reachable from a value (through $ref), in order found. */
function collectRefs(value: unknown, defs: Record<string, Schema>, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectRefs(v, defs, out);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "$ref" && typeof v === "string") {
        const name = refName(v);
        if (!out.has(name) && defs[name]) {
          out.add(name);
          collectRefs(defs[name], defs, out);
        }
      } else collectRefs(v, defs, out);
    }
  }
}

/** A v2 schema rewritten for OpenAPI 3.0: refs into components, and $ref with siblings wrapped in allOf. */
export function toV3Schema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toV3Schema);
  if (!s || typeof s !== "object") return s;
  const src = s as Schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(src)) {
    if (k === "$ref") continue;
    // "properties" maps field names to schemas; extensions are plain data; everything else is a schema.
    out[k] = k === "properties" ? mapSchemas(v) : k.startsWith("x-") ? v : toV3Schema(v);
  }
  if (typeof src.$ref === "string") {
    const target = `#/components/schemas/${refName(src.$ref)}`;
    if (Object.keys(out).length === 0) return { $ref: target };
    return { allOf: [{ $ref: target }], ...out };
  }
  return out;
}

function mapSchemas(v: unknown): unknown {
  if (!v || typeof v !== "object") return v;
  return Object.fromEntries(Object.entries(v as Schema).map(([name, p]) => [name, toV3Schema(p)]));
}

/** Converts a v2 operation into v3 form (parameters with schema, requestBody, content-typed responses). */
function toV3Operation(op: Schema): Schema {
  const { consumes, produces, schemes: _s, parameters, responses, ...rest } = op;
  const out: Schema = { ...rest };
  const params: Schema[] = [];
  for (const p of parameters ?? []) {
    if (p.in === "body") {
      const types: string[] = consumes?.[0] === "*/*" ? ["*/*"] : consumes ?? ["*/*"];
      out.requestBody = { required: true, content: Object.fromEntries(types.map((t) => [t, { schema: toV3Schema(p.schema) }])) };
    } else params.push(toV3Parameter(p));
  }
  if (params.length) out.parameters = params;
  const res: Schema = {};
  for (const [code, r] of Object.entries((responses ?? {}) as Schema)) {
    res[code] = r.schema
      ? { description: r.description, content: Object.fromEntries((produces ?? ["application/json"]).map((t: string) => [t, { schema: toV3Schema(r.schema) }])) }
      : { description: r.description };
  }
  out.responses = res;
  return out;
}

function toV3Parameter(p: Schema): Schema {
  const { type, uniqueItems, ...rest } = p;
  return { ...rest, schema: { type, uniqueItems } };
}

/** Types upstream publishes in v3 as a oneOf (OpenAPIV3OneOfTypes); kubectl explain then names them. */
const V3_ONE_OF: Record<string, string[]> = {
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": ["integer", "string"],
  "io.k8s.apimachinery.pkg.api.resource.Quantity": ["string", "number"],
};

function v3OneOf(def: Schema, types: string[]): Schema {
  const { type: _t, ...rest } = def;
  return { ...rest, oneOf: types.map((type) => ({ type })) };
}

// Only the serialized form is kept: a parsed copy of every document would triple the memory it takes.
const v3Docs = new Map<string, { json: string; hash: string }>();

/** "api/v1" / "apis/apps/v1" key of a group-version. */
export function v3Key(gv: string): string {
  return gv.includes("/") ? `apis/${gv}` : `api/${gv}`;
}

function buildV3(gv: string, v2paths: Record<string, Schema>) {
  const defs = definitions();
  const paths: Record<string, Schema> = {};
  for (const [path, item] of Object.entries(v2paths)) {
    const out: Schema = {};
    for (const [method, op] of Object.entries(item)) {
      if (method === "parameters") out.parameters = (op as Schema[]).map(toV3Parameter);
      else out[method] = toV3Operation(op as Schema);
    }
    // kubectl checks this content type to decide it may compute strategic merge patches for the kind.
    if (out.patch) out.patch.requestBody.content = Object.fromEntries((((item.patch as Schema).consumes ?? PATCH_CONTENT_TYPES) as string[]).map((t) => [t, { schema: { $ref: "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch" } }]));
    paths[path] = out;
  }
  const names = new Set<string>();
  collectRefs(v2paths, defs, names);
  const schemas: Schema = {};
  for (const name of [...names].sort()) schemas[name] = V3_ONE_OF[name] ? v3OneOf(defs[name]!, V3_ONE_OF[name]!) : toV3Schema(defs[name]);
  const doc: Schema = {
    openapi: "3.0.0",
    info: { title: TITLE, version: VERSION },
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas,
      securitySchemes: { BearerToken: { type: "apiKey", description: "Bearer Token authentication", name: "authorization", in: "header" } },
    },
  };
  const json = JSON.stringify(doc);
  const hash = createHash("sha512").update(json).digest("hex").toUpperCase();
  return { json, hash };
}

function allV3() {
  if (v3Docs.size === 0) {
    for (const [gv, paths] of pathsByGroupVersion()) v3Docs.set(v3Key(gv), buildV3(gv, paths));
  }
  return v3Docs;
}

/** The /openapi/v3 discovery index. */
export function openapiV3Index(): Schema {
  const paths: Schema = {};
  for (const [key, d] of allV3()) paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${d.hash}` };
  return { paths };
}

/** One group-version document ("apis/apps/v1") as JSON text with its hash, or undefined if not served. */
export function openapiV3(key: string): { readonly doc: Schema; json: string; hash: string } | undefined {
  const d = allV3().get(key);
  if (!d) return undefined;
  return {
    ...d,
    get doc() {
      return JSON.parse(d.json) as Schema;
    },
  };
}
