// apiVersion + kind → the resource to write, from the API server's discovery (per group-version, cached;
// a miss refetches, so kinds a CRD just added are found).
import type { Client } from "../client/client.ts";
import { ApiError } from "../client/types.ts";

export interface Resolved {
  /** "/apis/apps/v1" or "/api/v1". */
  prefix: string;
  resource: string;
  namespaced: boolean;
}

/** URL of one object of a resolved kind. */
export function objectPath(r: Resolved, namespace: string | undefined, name: string): string {
  const ns = r.namespaced ? `/namespaces/${encodeURIComponent(namespace ?? "default")}` : "";
  return `${r.prefix}${ns}/${r.resource}/${encodeURIComponent(name)}`;
}

export class KindResolver {
  private cache = new Map<string, { name: string; kind: string; namespaced: boolean }[]>();

  constructor(private client: Client) {}

  private async fetch(apiVersion: string) {
    const path = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    try {
      const list = await this.client.request<any>("GET", path);
      const resources = (list?.resources ?? []).filter((r: any) => typeof r?.name === "string" && !r.name.includes("/"));
      this.cache.set(apiVersion, resources);
      return resources;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return [];
      throw err;
    }
  }

  /** Undefined when the server does not serve the kind (yet). */
  async resolve(apiVersion: string, kind: string): Promise<Resolved | undefined> {
    let r = (this.cache.get(apiVersion) ?? []).find((x) => x.kind === kind);
    if (!r) r = (await this.fetch(apiVersion)).find((x: any) => x.kind === kind);
    if (!r) return undefined;
    const prefix = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    return { prefix, resource: r.name, namespaced: r.namespaced };
  }

  forget(): void {
    this.cache.clear();
  }
}
