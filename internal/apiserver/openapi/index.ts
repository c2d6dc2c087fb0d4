// OpenAPI for kubectl and client libraries: /openapi/v2 (JSON or gnostic protobuf) and /openapi/v3
// (index + one document per group-version), plus schema lookups for validation.
// Mount with `app.route("/", openapiRoutes())` behind authentication (upstream serves these to any
// authenticated user via system:discovery).
import { Hono, type Context } from "hono";
import { createHash } from "node:crypto";
import { definitionNameForKind, definitions, deref, type Schema } from "./definitions.ts";
import { openapiV2, openapiV3, openapiV3Index, resetDocuments } from "./documents.ts";
import { encodeOpenAPIV2 } from "./protobuf.ts";

export { definitions, deref, refName, setCustomDefinitions, type Schema } from "./definitions.ts";
export { openapiV2, openapiV3, openapiV3Index } from "./documents.ts";
export { encodeOpenAPIV2 } from "./protobuf.ts";

const PROTO_V2 = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
const PROTO_V2_OLD = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

export interface GVK {
  group: string;
  version: string;
  kind: string;
}

/** The v2 schema (with "#/definitions/" refs) of a top-level kind, or undefined if it has none. */
export function getSchema(gvk: GVK): Schema | undefined {
  const name = definitionNameForKind(gvk.group, gvk.version, gvk.kind);
  return name ? definitions()[name] : undefined;
}

/** Upstream definition name of a kind, e.g. "io.k8s.api.apps.v1.Deployment". */
export function getSchemaName(gvk: GVK): string | undefined {
  return definitionNameForKind(gvk.group, gvk.version, gvk.kind);
}

let v2Json: { body: string; etag: string } | undefined;
let v2Proto: { body: Uint8Array; etag: string } | undefined;

/** Forget every built document (CRDs changed what is served). */
export function invalidateOpenAPI(): void {
  resetDocuments();
  v2Json = undefined;
  v2Proto = undefined;
  gzipped.clear();
}

function etagOf(data: string | Uint8Array): string {
  return `"${createHash("sha512").update(data).digest("hex").slice(0, 32).toUpperCase()}"`;
}

function wantsProtobuf(accept: string): boolean {
  return accept.includes(PROTO_V2) || accept.includes(PROTO_V2_OLD);
}

// Whether an Accept header admits JSON (absent, any, application/any, application/json).
function acceptsJSON(accept: string): boolean {
  if (!accept) return true;
  return accept.split(",").some((part) => {
    const t = part.split(";")[0]!.trim();
    return t === "*/*" || t === "application/*" || t === "application/json";
  });
}

function notAcceptable(accept: string) {
  return Response.json(
    { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `only the following media types are accepted: application/json, ${PROTO_V2}; got ${accept}`, reason: "NotAcceptable", code: 406 },
    { status: 406 },
  );
}

// The documents are large (hundreds of KiB to 1 MiB) and never change while the server runs: keep a
// gzipped copy per ETag and send it to clients that accept it, as upstream's apiserver compresses them.
const gzipped = new Map<string, Uint8Array>();

function send(c: Context, body: string | Uint8Array, etag: string, headers: Record<string, string>): Response {
  if (/\bgzip\b/.test(c.req.header("accept-encoding") ?? "")) {
    let gz = gzipped.get(etag);
    if (!gz) {
      gz = Bun.gzipSync((typeof body === "string" ? new TextEncoder().encode(body) : body) as Uint8Array<ArrayBuffer>);
      gzipped.set(etag, gz);
    }
    return c.body(gz as Uint8Array<ArrayBuffer>, 200, { ...headers, etag, "content-encoding": "gzip", vary: "Accept, Accept-Encoding" });
  }
  const raw = typeof body === "string" ? body : (body as Uint8Array<ArrayBuffer>);
  return c.body(raw, 200, { ...headers, etag, vary: "Accept, Accept-Encoding" });
}

export function openapiRoutes(): Hono {
  const app = new Hono();

  app.get("/openapi/v2", (c) => {
    const accept = c.req.header("accept") ?? "";
    if (wantsProtobuf(accept)) {
      v2Proto ??= (() => {
        const body = encodeOpenAPIV2(openapiV2());
        return { body, etag: etagOf(body) };
      })();
      if (c.req.header("if-none-match") === v2Proto.etag) return c.body(null, 304);
      // Upstream answers with the dotted media type: "@" is not a MIME token character and Go's
      // mime.ParseMediaType (client-go) would reject it.
      return send(c, v2Proto.body, v2Proto.etag, { "content-type": PROTO_V2_OLD });
    }
    if (!acceptsJSON(accept)) return notAcceptable(accept);
    v2Json ??= (() => {
      const body = JSON.stringify(openapiV2());
      return { body, etag: etagOf(body) };
    })();
    if (c.req.header("if-none-match") === v2Json.etag) return c.body(null, 304);
    return send(c, v2Json.body, v2Json.etag, { "content-type": "application/json" });
  });

  app.get("/openapi/v3", (c) => c.json(openapiV3Index()));

  app.get("/openapi/v3/*", (c) => {
    const key = c.req.path.slice("/openapi/v3/".length).replace(/\/+$/, "");
    const d = openapiV3(key);
    if (!d) {
      return c.json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `the server could not find the requested resource`, reason: "NotFound", code: 404 }, 404);
    }
    const accept = c.req.header("accept") ?? "";
    if (!acceptsJSON(accept)) return notAcceptable(accept);
    const etag = `"${d.hash}"`;
    const hash = c.req.query("hash");
    // As upstream: an outdated hash redirects to the current document; a current one may be cached for good.
    if (hash !== undefined && hash !== d.hash) return c.redirect(`/openapi/v3/${key}?hash=${d.hash}`, 301);
    if (c.req.header("if-none-match") === etag) return c.body(null, 304);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (hash !== undefined) {
      headers["cache-control"] = "public, immutable";
      headers.expires = new Date(Date.now() + 365 * 86400_000).toUTCString();
    }
    return send(c, d.json, etag, headers);
  });

  return app;
}

/** The schema at a path of field names (e.g. ["spec", "replicas"]) below a kind, following refs and array items. */
export function schemaAt(gvk: GVK, path: string[]): Schema | undefined {
  let s = deref(getSchema(gvk));
  for (const p of path) {
    const ap = s?.additionalProperties;
    // Own properties only: a path element like "constructor" is not a field.
    const prop = s?.properties && Object.hasOwn(s.properties, p) ? s.properties[p] : undefined;
    const next: Schema | undefined = prop ?? (ap && typeof ap === "object" ? ap : undefined);
    if (!next) return undefined;
    s = next.type === "array" && next.items ? deref(next.items) : deref(next);
  }
  return s;
}
