// Response encoding: JSON objects and lists, Table (server-side printing for kubectl), PartialObjectMetadata,
// Status errors, and Warning headers.
import type { Context } from "hono";
import YAML from "yaml";
import type { ApiServerDeps } from "./deps.ts";
import type { KObject } from "./objects.ts";
import { groupVersion, type ResourceInfo } from "../api/resources.ts";
import { parseGoBool } from "./queryopts.ts";
import { StatusError, type Status } from "../api/status.ts";
import { needsConversion, toExternal } from "./conversion.ts";
import { decode, decodeShared, rawJSON } from "./objects.ts";
import type { KeyValue } from "../store/types.ts";
import { acceptedMedia, notAcceptable, prefersProtobuf, protobufBody, PROTOBUF } from "./mediatypes.ts";
import { itemChars, STREAM_LIST_CHARS, streamJSONList } from "./streamlist.ts";

export type Rendering = "object" | "table" | "metadata";

/** What the client asked for in Accept (kubectl: Table; metadata informers: PartialObjectMetadata). */
export function rendering(c: Context): Rendering {
  const accept = c.req.header("accept") ?? "";
  for (const part of accept.split(",")) {
    const params = part.split(";").map((s) => s.trim());
    const as = params.find((p) => p.startsWith("as="))?.slice(3);
    const g = params.find((p) => p.startsWith("g="))?.slice(2);
    if (g === "meta.k8s.io" && as === "Table") return "table";
    if (g === "meta.k8s.io" && (as === "PartialObjectMetadata" || as === "PartialObjectMetadataList")) return "metadata";
    if (!as && (params[0] === "application/json" || params[0] === "*/*" || params[0] === "application/yaml")) return "object";
  }
  return "object";
}

/** 406 when the client accepts nothing we can produce (JSON, YAML, Kubernetes protobuf). */
export function checkAcceptable(c: Context): void {
  if (acceptedMedia(c).length === 0) throw notAcceptable();
}

export function wantsYAML(c: Context): boolean {
  const a = c.req.header("accept") ?? "";
  return a.startsWith("application/yaml");
}

/** Upstream's isPrettyPrint: ?pretty= (Go's ParseBool; unparsable is false), else curl, Wget and browsers. */
function prettyPrint(c: Context): boolean {
  const p = c.req.query("pretty");
  if (p) return parseGoBool(p) ?? false;
  const ua = c.req.header("user-agent") ?? "";
  return ua.startsWith("curl") || ua.startsWith("Wget") || ua.startsWith("Mozilla/5.0");
}

function indentJSON(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2) + "\n";
  } catch {
    return text;
  }
}

/** Content-Type and the admission warnings (`Warning: 299 - "…"`) of an answer. */
function answerHeaders(c: Context, contentType: string): Headers {
  const headers = new Headers({ "Content-Type": contentType });
  const warnings = (c.get("warnings" as never) as string[] | undefined) ?? [];
  for (const w of warnings) headers.append("Warning", `299 - ${JSON.stringify(w)}`);
  return headers;
}

const acceptsGzip = (c: Context) => /\bgzip\b/.test(c.req.header("accept-encoding") ?? "");

/** JSON response with exact Content-Type and no re-encoding surprises. */
export function json(c: Context, body: unknown, status = 200, contentType = "application/json"): Response {
  const headers = answerHeaders(c, contentType);
  if (wantsYAML(c) && contentType === "application/json") {
    headers.set("Content-Type", "application/yaml");
    return new Response(YAML.stringify(body), { status, headers });
  }
  // Clients that rank Kubernetes protobuf first (client-go) get it for every kind in the protobuf table.
  const pb = contentType === "application/json" ? protobufBody(c, body) : undefined;
  if (pb) {
    headers.set("Content-Type", PROTOBUF);
    return new Response(pb as Uint8Array<ArrayBuffer>, { status, headers });
  }
  let text = typeof body === "string" ? body : JSON.stringify(body);
  if (contentType.includes("json") && prettyPrint(c)) text = indentJSON(text);
  // As upstream (APIResponseCompression): large answers are gzipped at the fastest level for clients that accept it.
  if (text.length > GZIP_THRESHOLD && acceptsGzip(c)) {
    headers.set("Content-Encoding", "gzip");
    headers.set("Vary", "Accept-Encoding");
    return new Response(Bun.gzipSync(Buffer.from(text), { level: 1 }), { status, headers });
  }
  return new Response(text, { status, headers });
}

const GZIP_THRESHOLD = 128 * 1024;

export function statusResponse(c: Context, err: StatusError): Response {
  const r = json(c, err.toStatus() satisfies Status, err.code);
  for (const [k, v] of Object.entries(err.headers ?? {})) r.headers.set(k, v);
  return r;
}

function includeObject(c: Context): "None" | "Metadata" | "Object" {
  const v = c.req.query("includeObject");
  return v === "None" || v === "Object" ? v : "Metadata";
}

export function partialMetadata(obj: KObject): KObject {
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: obj.metadata };
}

/** A single object, in the rendering asked for. */
export function renderObject(c: Context, deps: ApiServerDeps, ri: ResourceInfo, stored: KObject, status = 200): Response {
  return renderStored(c, deps, ri, { obj: stored }, status);
}

/**
 * A single object as a write returned it: `kv` what the store holds (absent on dryRun), `obj` the object when the
 * caller has it decoded. A plain JSON answer is the stored bytes (rawJSON, cached per KeyValue and shared with the
 * watch fan-out), so a create is encoded once instead of encoded, parsed and encoded again.
 */
export function renderStored(c: Context, deps: ApiServerDeps, ri: ResourceInfo, stored: { kv?: KeyValue; obj?: KObject }, status = 200): Response {
  const how = rendering(c);
  if (stored.kv && how === "object" && !wantsYAML(c) && !needsConversion(ri)) return json(c, rawJSON(stored.kv), status);
  const obj = toExternal(ri, stored.obj ?? decode(stored.kv!));
  if (how === "table" && deps.tables) {
    return json(c, deps.tables.toTable(ri, [obj], { includeObject: includeObject(c) }), status);
  }
  if (how === "metadata") return json(c, partialMetadata(obj), status);
  return json(c, obj, status);
}

type ListMetaIn = { resourceVersion: string; continue?: string; remainingItemCount?: number };

/** A list straight from the store: stored JSON text is passed through when no conversion is needed. */
export function renderList(c: Context, deps: ApiServerDeps, ri: ResourceInfo, kvs: KeyValue[], meta: ListMetaIn): Response {
  if (rendering(c) === "object" && !wantsYAML(c) && !needsConversion(ri)) {
    const head = `{"kind":${JSON.stringify(ri.listKind)},"apiVersion":${JSON.stringify(groupVersion(ri))},"metadata":${JSON.stringify(listMetaOf(meta))},"items":[`;
    // A large JSON answer goes out as it is produced (protobuf and pretty-printed answers are built whole).
    if (!prefersProtobuf(c) && !prettyPrint(c) && itemChars(kvs) > STREAM_LIST_CHARS) {
      const headers = answerHeaders(c, "application/json");
      const gzip = acceptsGzip(c);
      if (gzip) {
        headers.set("Content-Encoding", "gzip");
        headers.set("Vary", "Accept-Encoding");
      }
      let ended!: () => void;
      c.set("bodyEnded" as never, new Promise<void>((r) => (ended = r)) as never);
      return new Response(streamJSONList(head, kvs, gzip, () => ended()), { headers });
    }
    const parts: string[] = [head];
    for (let i = 0; i < kvs.length; i++) parts.push(i ? "," + rawJSON(kvs[i]!) : rawJSON(kvs[i]!));
    parts.push("]}");
    return json(c, parts.join(""));
  }
  return renderObjects(c, deps, ri, kvs.map(decodeShared), meta);
}

function listMetaOf(meta: ListMetaIn): Record<string, unknown> {
  const listMeta: Record<string, unknown> = { resourceVersion: meta.resourceVersion };
  if (meta.continue) listMeta.continue = meta.continue;
  if (meta.remainingItemCount !== undefined) listMeta.remainingItemCount = meta.remainingItemCount;
  return listMeta;
}

export function renderObjects(c: Context, deps: ApiServerDeps, ri: ResourceInfo, stored: KObject[], meta: ListMetaIn): Response {
  const how = rendering(c);
  const items = stored.map((o) => toExternal(ri, o));
  const listMeta = listMetaOf(meta);
  if (how === "table" && deps.tables) {
    const table = deps.tables.toTable(ri, items, { includeObject: includeObject(c) });
    table.metadata = { ...(table.metadata ?? {}), ...listMeta };
    return json(c, table);
  }
  if (how === "metadata") {
    return json(c, {
      kind: "PartialObjectMetadataList",
      apiVersion: "meta.k8s.io/v1",
      metadata: listMeta,
      items: items.map(partialMetadata),
    });
  }
  if (wantsYAML(c)) {
    return json(c, { kind: ri.listKind, apiVersion: groupVersion(ri), metadata: listMeta, items });
  }
  // Built as text: large lists are joined once instead of re-walked by a second stringify.
  const head = `{"kind":${JSON.stringify(ri.listKind)},"apiVersion":${JSON.stringify(groupVersion(ri))},"metadata":${JSON.stringify(listMeta)},"items":[`;
  const parts: string[] = [head];
  for (let i = 0; i < items.length; i++) parts.push(i ? "," + JSON.stringify(items[i]) : JSON.stringify(items[i]));
  parts.push("]}");
  return json(c, parts.join(""));
}
