// discovery's storageVersionHash: lets storage-version migrators notice when a resource's storage version
// changes. Upstream hashes "group/version/kind" of the version the resource is stored in.
import type { ResourceInfo } from "../api/resources.ts";
import { isEventsV1 } from "./conversion.ts";

const cache = new Map<string, string>();

/** base64 of the first 8 bytes of sha256("group/version/kind") (upstream's discovery.StorageVersionHash). */
export function hashGVK(group: string, version: string, kind: string): string {
  const gvk = `${group}/${version}/${kind}`;
  let h = cache.get(gvk);
  if (!h) {
    const sum = new Bun.CryptoHasher("sha256").update(gvk).digest();
    h = Buffer.from(sum.subarray(0, 8)).toString("base64");
    cache.set(gvk, h);
  }
  return h;
}

/** The hash discovery reports for a resource; none for what is never stored (reviews, bindings). */
export function storageVersionHash(ri: ResourceInfo): string | undefined {
  if (ri.virtual) return undefined;
  // events.k8s.io Events share the core Events' storage, in the core v1 shape.
  if (isEventsV1(ri)) return hashGVK("", "v1", "Event");
  return hashGVK(ri.group, ri.version, ri.kind);
}
