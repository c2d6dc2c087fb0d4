// Request body decoding: JSON or YAML (one document), 3 MiB limit, 415 for anything else.
import YAML from "yaml";
import type { Context } from "hono";
import { badRequest, StatusError } from "../api/status.ts";
import { goJSONSyntaxError, goJSONTypeName, summarizeBody } from "./gojson.ts";
import { decodeKubernetesProtobuf } from "./protobuf/decode.ts";
import { readBodyWithin } from "./flowcontrol/bodytimeout.ts";

export const PROTOBUF = "application/vnd.kubernetes.protobuf";

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export function mediaType(c: Context): string {
  return (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

export async function readBodyBytes(c: Context): Promise<Uint8Array> {
  const len = Number(c.req.header("content-length") ?? "0");
  if (len > MAX_BODY_BYTES) throw tooLarge();
  const buf = await readBodyWithin(c);
  if (buf.byteLength > MAX_BODY_BYTES) throw tooLarge();
  return new Uint8Array(buf);
}

export async function readBodyText(c: Context): Promise<string> {
  return new TextDecoder().decode(await readBodyBytes(c));
}

function decodeProtobuf(bytes: Uint8Array): Record<string, any> {
  try {
    return decodeKubernetesProtobuf(bytes);
  } catch (e) {
    throw badRequest(`the body of the request could not be decoded as ${PROTOBUF}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function tooLarge(): StatusError {
  return new StatusError(413, "RequestEntityTooLarge", `Request entity too large: limit is ${MAX_BODY_BYTES}`);
}

export function unsupportedMediaType(type: string, accepted: string[]): StatusError {
  return new StatusError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
  );
}

const OBJECT_TYPES = ["application/json", "application/yaml"];

/** Parse text as JSON or YAML into a value; malformed → 400 BadRequest. */
export function parseText(text: string, type: string): unknown {
  try {
    if (type === "application/yaml" || type === "application/apply-patch+yaml" || type === "text/yaml") {
      const docs = YAML.parseAllDocuments(text);
      if (Array.isArray(docs) && docs.length > 1) throw new Error("multiple YAML documents in one request body");
      const doc = Array.isArray(docs) ? docs[0] : docs;
      if (!doc) return null;
      if (doc.errors.length) throw doc.errors[0];
      return doc.toJS({ maxAliasCount: 100 });
    }
    return JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw badRequest(`couldn't get version/kind; json parse error: ${msg.split("\n")[0]}`);
  }
}

/** What Go's json.Unmarshal says about a body that is not a JSON object (upstream's kind sniffing). */
function notAnObject(text: string, v?: unknown): string {
  const syntax = goJSONSyntaxError(text);
  if (syntax) return `couldn't get version/kind; json parse error: ${syntax}`;
  const findKind = `struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`;
  return `couldn't get version/kind; json parse error: json: cannot unmarshal ${goJSONTypeName(v)} into Go value of type ${findKind}`;
}

function parseObjectJSON(text: string, kind: string): unknown {
  let v: unknown;
  let ok = true;
  try {
    v = JSON.parse(text);
  } catch {
    ok = false;
  }
  if (!ok || (v !== null && (typeof v !== "object" || Array.isArray(v)))) {
    const summary = summarizeBody(new TextEncoder().encode(text));
    throw badRequest(`the object provided is unrecognized (must be of type ${kind}): ${notAnObject(text, v)} (${summary})`);
  }
  return v;
}

/**
 * A full object body for create/update: must decode to a JSON object. With `kind`, a JSON body that is not
 * an object gets upstream's "the object provided is unrecognized (must be of type <kind>)" 400.
 */
export async function readObject(c: Context, kind?: string): Promise<Record<string, any>> {
  const type = mediaType(c) || "application/json";
  if (type === PROTOBUF) return decodeProtobuf(await readBodyBytes(c));
  if (!OBJECT_TYPES.includes(type)) {
    throw unsupportedMediaType(type, [...OBJECT_TYPES, PROTOBUF]);
  }
  const text = await readBodyText(c);
  if (!text.trim()) throw badRequest("the server rejected our request due to an error in our request: empty body");
  const v = kind && type === "application/json" ? parseObjectJSON(text, kind) : parseText(text, type);
  // Strict field validation also reports duplicate keys, which only the raw JSON text shows.
  if (type === "application/json") c.set("bodyText" as never, text as never);
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw badRequest(`the body of the request must be a JSON or YAML object`);
  }
  return v as Record<string, any>;
}

/** Optional body (DELETE options): empty → undefined. */
export async function readOptionalObject(c: Context): Promise<Record<string, any> | undefined> {
  if (mediaType(c) === PROTOBUF) {
    const bytes = await readBodyBytes(c);
    return bytes.length ? decodeProtobuf(bytes) : undefined;
  }
  const text = await readBodyText(c);
  if (!text.trim()) return undefined;
  const v = parseText(text, mediaType(c) || "application/json");
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw badRequest("the body of the request must be an object");
  return v as Record<string, any>;
}
