// pod-template-hash as upstream computes it: FNV-32a over the template (here its canonical JSON) plus the
// collision count, printed in decimal and mapped through rand.SafeEncodeString's alphabet (≤ 10 chars, no vowels).

import type { PodTemplateSpec } from "kubernetes-types/core/v1";

export const POD_TEMPLATE_HASH = "pod-template-hash";
const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** JSON with object keys sorted, so equal objects give equal text. */
export function canonicalJSON(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(",")}]`;
  const keys = Object.keys(v as object)
    .filter((k) => (v as any)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON((v as any)[k])}`).join(",")}}`;
}

function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  const bytes = new TextEncoder().encode(s);
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function safeEncode(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let text = canonicalJSON(template ?? {});
  if (collisionCount !== undefined && collisionCount !== null) text += String(collisionCount);
  return safeEncode(String(fnv32a(text)));
}

// Pointer fields in pod templates where false/0 differ from "unset" (Go *bool / *int64); for every other field
// an explicit zero value equals an absent one, as upstream's semantic DeepEqual on typed objects sees it.
const POINTER_BOOLS = new Set([
  "automountServiceAccountToken",
  "enableServiceLinks",
  "shareProcessNamespace",
  "hostUsers",
  "setHostnameAsFQDN",
  "runAsNonRoot",
  "privileged",
  "readOnlyRootFilesystem",
  "allowPrivilegeEscalation",
  "hostProcess",
  "optional",
]);
const POINTER_INTS = new Set([
  "terminationGracePeriodSeconds",
  "activeDeadlineSeconds",
  "runAsUser",
  "runAsGroup",
  "fsGroup",
  "priority",
  "tolerationSeconds",
  "defaultMode",
  "mode",
  "expirationSeconds",
]);

/** Drops null, empty objects/arrays/strings, and zero values of non-pointer fields (recursively). */
export function semanticNormalize(v: unknown, key = ""): unknown {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) {
    const out = v.map((x) => semanticNormalize(x) ?? {});
    return out.length ? out : undefined;
  }
  if (typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as object)) {
      const n = semanticNormalize(x, k);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (v === "") return undefined;
  if (v === false && !POINTER_BOOLS.has(key)) return undefined;
  if (v === 0 && !POINTER_INTS.has(key)) return undefined;
  return v;
}

/** Template without the pod-template-hash label, for comparisons. */
function stripHash(t: PodTemplateSpec | undefined): PodTemplateSpec {
  const c: PodTemplateSpec = structuredClone(t ?? {});
  if (c.metadata?.labels) {
    delete c.metadata.labels[POD_TEMPLATE_HASH];
    if (!Object.keys(c.metadata.labels).length) delete c.metadata.labels;
  }
  if (c.metadata && !Object.keys(c.metadata).length) delete c.metadata;
  return c;
}

/** Upstream EqualIgnoreHash: same template apart from the pod-template-hash label. */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return canonicalJSON(semanticNormalize(stripHash(a)) ?? {}) === canonicalJSON(semanticNormalize(stripHash(b)) ?? {});
}
