// Content negotiation of response bodies: which of JSON, YAML and Kubernetes protobuf the client prefers
// (Accept, in order, with q-values as upstream's negotiation weighs them), and the protobuf answers.
import type { Context } from "hono";
import { StatusError } from "../api/status.ts";
import { canEncode, encodeKubernetesProtobuf } from "./protobuf/encode.ts";

export const PROTOBUF = "application/vnd.kubernetes.protobuf";
export const PROTOBUF_WATCH = `${PROTOBUF};stream=watch`;

type Media = "json" | "yaml" | "protobuf" | "any";

/** The media types of the Accept header we could answer with, most preferred first. */
export function acceptedMedia(c: Context): Media[] {
  const accept = c.req.header("accept");
  if (!accept) return ["any"];
  const out: { m: Media; q: number; i: number }[] = [];
  accept.split(",").forEach((part, i) => {
    const [type, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const qp = params.find((p) => p.startsWith("q="));
    const q = qp ? Number(qp.slice(2)) : 1;
    if (!(q > 0)) return;
    const m: Media | undefined =
      type === "application/json" || type === "application/json-seq" ? "json"
      : type === "application/yaml" ? "yaml"
      : type === PROTOBUF ? "protobuf"
      : type === "*/*" || type === "application/*" || type === "" ? "any"
      : undefined;
    if (m) out.push({ m, q, i });
  });
  return out.sort((a, b) => b.q - a.q || a.i - b.i).map((x) => x.m);
}

/** True when the client ranks protobuf above every text form (client-go: "application/vnd.kubernetes.protobuf, *\/*"). */
export function prefersProtobuf(c: Context): boolean {
  return acceptedMedia(c)[0] === "protobuf";
}

/** True when a JSON answer is acceptable (JSON, YAML, or a wildcard is accepted). */
export function acceptsText(c: Context): boolean {
  return acceptedMedia(c).some((m) => m !== "protobuf");
}

export function notAcceptable(): StatusError {
  return new StatusError(406, "NotAcceptable", `only the following media types are accepted: application/json, application/yaml, ${PROTOBUF}`);
}

/**
 * The protobuf answer for a body, when the client prefers protobuf and the body is a kind in the protobuf
 * table; undefined to answer in JSON instead (upstream too serves kinds without a protobuf form as JSON to
 * clients that also accept it); 406 when the client accepts only protobuf.
 */
export function protobufBody(c: Context, body: unknown): Uint8Array | undefined {
  if (!prefersProtobuf(c)) return undefined;
  let obj = body;
  if (typeof body === "string") {
    try {
      obj = JSON.parse(body);
    } catch {
      obj = undefined;
    }
  }
  if (canEncode(obj)) {
    try {
      return encodeKubernetesProtobuf(obj as Record<string, unknown>);
    } catch {
      // A value the table cannot represent: answer in JSON if the client takes it.
    }
  }
  if (!acceptsText(c)) throw notAcceptable();
  return undefined;
}
