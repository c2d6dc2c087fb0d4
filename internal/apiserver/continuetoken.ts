// list continue tokens, in upstream's shape: base64(JSON {"v":"meta.k8s.io/v1","rv":<revision>,"start":<key>}).
// The revision pins later pages to the same snapshot; once compacted the token has expired (410).
// A token is client input: decoding checks it as upstream's storage.DecodeContinue does, and every way it can be
// wrong is a 400 "invalid continue token: …" with upstream's reason, never a store error.
import { badRequest, StatusError } from "../api/status.ts";

export interface ContinueToken {
  rv: number;
  /** Key (relative to the resource prefix) to continue after. */
  start: string;
}

const VERSION = "meta.k8s.io/v1";
const GENERIC = "continue key is not valid";
const INVALID_START_RV = `continue key is not valid: incorrect encoded start resourceVersion (version ${VERSION})`;
const EMPTY_START_KEY = `continue key is not valid: encoded start key empty (version ${VERSION})`;
const UNRECOGNIZED_VERSION = "continue key is not valid: server does not recognize this encoded version";

export function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: VERSION, rv: t.rv, start: t.start })).toString("base64url");
}

function invalid(reason: string): StatusError {
  return badRequest(`invalid continue token: ${reason}`);
}

/** A well-formed token whose revision is ahead of the store: forged, so 400 like any invalid start revision. */
export function continueFromFuture(): StatusError {
  return invalid(INVALID_START_RV);
}

/** Decodes a continue token; 400 with upstream's message for anything that is not one this server issued. */
export function decodeContinue(s: string): ContinueToken {
  // base64.RawURLEncoding: URL alphabet, no padding.
  const bad = s.search(/[^A-Za-z0-9_-]/);
  if (bad >= 0 || s.length % 4 === 1) throw invalid(`${GENERIC}: illegal base64 data at input byte ${bad >= 0 ? bad : s.length - 1}`);
  const text = Buffer.from(s, "base64url").toString("utf8");
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw invalid(`${GENERIC}: ${jsonSyntaxError(text)}`);
  }
  if (j === null || typeof j !== "object" || Array.isArray(j)) {
    throw invalid(`${GENERIC}: json: cannot unmarshal ${jsonKind(j)} into Go value of type storage.continueToken`);
  }
  const field = (name: string): unknown => (Object.hasOwn(j, name) ? (j as Record<string, unknown>)[name] : undefined);
  const v = field("v") ?? "";
  const rv = field("rv") ?? 0;
  const start = field("start") ?? "";
  if (typeof v !== "string") throw invalid(`${GENERIC}: ${unmarshalError(v, "v", "string")}`);
  if (typeof rv !== "number" || !Number.isSafeInteger(rv)) throw invalid(`${GENERIC}: ${unmarshalError(rv, "rv", "int64")}`);
  if (typeof start !== "string") throw invalid(`${GENERIC}: ${unmarshalError(start, "start", "string")}`);
  if (v !== VERSION) throw invalid(`${UNRECOGNIZED_VERSION} ${v}`);
  // Negative revisions mean "latest" upstream; this server never issues them, so they are as invalid as 0.
  if (rv <= 0) throw invalid(INVALID_START_RV);
  if (start === "") throw invalid(EMPTY_START_KEY);
  // Path traversal: the start key must already be clean, so it cannot range outside the resource's prefix.
  const key = start.startsWith("/") ? start : `/${start}`;
  if (cleanPath(key) !== key || key.includes("\0")) throw invalid(`${GENERIC}: ${start}`);
  return { rv, start: key.slice(1) };
}

/** Go's path.Clean for a rooted path. */
function cleanPath(p: string): string {
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  return typeof v === "boolean" ? "bool" : typeof v;
}

function unmarshalError(v: unknown, field: string, goType: string): string {
  const what = typeof v === "number" ? `number ${v}` : jsonKind(v);
  return `json: cannot unmarshal ${what} into Go struct field continueToken.${field} of type ${goType}`;
}

/** encoding/json's syntax error for text that JSON.parse refused (first offending character). */
function jsonSyntaxError(text: string): string {
  const t = text.trim();
  if (t === "") return "unexpected end of JSON input";
  const c = t[0]!;
  if (!'{["-0123456789tfn'.includes(c)) return `invalid character ${goChar(c)} looking for beginning of value`;
  return "unexpected end of JSON input";
}

function goChar(c: string): string {
  const cp = c.codePointAt(0)!;
  return cp < 0x20 ? `'\\x${cp.toString(16).padStart(2, "0")}'` : `'${c}'`;
}
