// Backend endpoints of an Ingress backend: the Service's port (by number or name) → the ready addresses of its
// EndpointSlices on that port's name, taken in round-robin order so that retries move on to the next endpoint.
// The sorted list is computed once per backend and kept until the source's version changes (any Service or
// EndpointSlice event), not rebuilt from the slices on every request.
import type { Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import type { IngressServiceBackend } from "kubernetes-types/networking/v1";

export interface Endpoint {
  ip: string;
  port: number;
}

export interface BackendSource {
  service(namespace: string, name: string): Service | undefined;
  slices(namespace: string, service: string): EndpointSlice[];
  /** Changes whenever a Service or EndpointSlice may have changed; without it nothing is cached. */
  version?(): number;
}

export class EndpointPicker {
  private next = new Map<string, number>();
  /** namespace/service/port → the sorted ready endpoints and the round-robin key, valid for cachedAt's version. */
  private cache = new Map<string, { key: string; list: Endpoint[] }>();
  private cachedAt: number | undefined;

  constructor(private src: BackendSource) {}

  /** The ready endpoints of a service backend, rotated by one on every call (round robin). */
  endpoints(namespace: string, b: IngressServiceBackend): Endpoint[] {
    const version = this.src.version?.();
    if (version === undefined || version !== this.cachedAt) {
      this.cache.clear();
      this.cachedAt = version;
    }
    const cacheKey = `${namespace}/${b.name}/${b.port?.name ?? ""}/${b.port?.number ?? ""}`;
    let entry = version === undefined ? undefined : this.cache.get(cacheKey);
    if (!entry) {
      entry = this.compute(namespace, b);
      if (version !== undefined) this.cache.set(cacheKey, entry);
    }
    const out = entry.list;
    if (out.length < 2) return out.slice();
    const start = (this.next.get(entry.key) ?? 0) % out.length;
    this.next.set(entry.key, start + 1);
    return [...out.slice(start), ...out.slice(0, start)];
  }

  private compute(namespace: string, b: IngressServiceBackend): { key: string; list: Endpoint[] } {
    const none = { key: "", list: [] };
    const svc = this.src.service(namespace, b.name);
    if (!svc) return none;
    const sp = (svc.spec?.ports ?? []).find((p) => (b.port?.name ? p.name === b.port.name : p.port === b.port?.number));
    if (!sp) return none;
    const portName = sp.name ?? "";
    const out: Endpoint[] = [];
    const seen = new Set<string>();
    for (const slice of this.src.slices(namespace, b.name)) {
      if (slice.addressType && slice.addressType !== "IPv4" && slice.addressType !== "IPv6") continue;
      const port = (slice.ports ?? []).find((p) => (p.name ?? "") === portName)?.port;
      if (!port) continue;
      for (const ep of slice.endpoints ?? []) {
        if (ep.conditions?.ready === false) continue;
        const ip = ep.addresses?.[0];
        if (!ip || seen.has(`${ip}:${port}`)) continue;
        seen.add(`${ip}:${port}`);
        out.push({ ip, port });
      }
    }
    out.sort((a, b) => a.ip.localeCompare(b.ip) || a.port - b.port);
    return { key: `${namespace}/${b.name}/${portName}`, list: out };
  }
}
