// list continue tokens, in upstream's shape: base64(JSON {"v":"meta.k8s.io/v1","rv":<revision>,"start":<key>}).
// The revision pins later pages to the same snapshot; once compacted the token has expired (410).
import { badRequest } from "../api/status.ts";

export interface ContinueToken {
  rv: number;
  /** Key (relative to the resource prefix) to continue after. */
  start: string;
}

export function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: t.rv, start: t.start })).toString("base64url");
}

export function decodeContinue(s: string): ContinueToken {
  try {
    const j = JSON.parse(Buffer.from(s, "base64url").toString("utf8"));
    if (j.v !== "meta.k8s.io/v1" || typeof j.rv !== "number" || typeof j.start !== "string") throw new Error("bad");
    if (j.start.includes("..") || j.start.startsWith("/")) throw new Error("bad");
    return { rv: j.rv, start: j.start };
  } catch {
    throw badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
  }
}
