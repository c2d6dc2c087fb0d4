// Discovery documents: /api, /apis, /apis/<group>, per group-version resource lists, and the aggregated
// apidiscovery.k8s.io/v2 form that kubectl 1.32 asks for first.
import { Hono, type Context } from "hono";
import { groupVersion, onResourcesChanged, RESOURCES, type ResourceInfo } from "../api/resources.ts";
import { storageVersionHash } from "./storageversion.ts";

interface SubInfo {
  kind: string;
  group?: string;
  version?: string;
  verbs: string[];
}

/** Kind and verbs of each subresource, as upstream reports them. */
function subresourceInfo(ri: ResourceInfo, sub: string): SubInfo {
  switch (sub) {
    case "status":
    case "approval":
      return { kind: ri.kind, verbs: ["get", "patch", "update"] };
    case "scale":
      return { kind: "Scale", group: "autoscaling", version: "v1", verbs: ["get", "patch", "update"] };
    case "binding":
      return { kind: "Binding", verbs: ["create"] };
    case "eviction":
      return { kind: "Eviction", group: "policy", version: "v1", verbs: ["create"] };
    case "log":
      return { kind: "Pod", verbs: ["get"] };
    case "exec":
      return { kind: "PodExecOptions", verbs: ["create", "get"] };
    case "attach":
      return { kind: "PodAttachOptions", verbs: ["create", "get"] };
    case "portforward":
      return { kind: "PodPortForwardOptions", verbs: ["create", "get"] };
    case "proxy":
      return { kind: `${ri.kind}ProxyOptions`, verbs: ["create", "delete", "get", "patch", "update"] };
    case "ephemeralcontainers":
      return { kind: "Pod", verbs: ["get", "patch", "update"] };
    case "token":
      return { kind: "TokenRequest", group: "authentication.k8s.io", version: "v1", verbs: ["create"] };
    case "finalize":
      return { kind: ri.kind, verbs: ["update"] };
    default:
      return { kind: ri.kind, verbs: ["get"] };
  }
}

export interface GroupVersion {
  group: string;
  version: string;
  resources: ResourceInfo[];
}

export function groupVersions(): GroupVersion[] {
  const map = new Map<string, GroupVersion>();
  for (const ri of RESOURCES) {
    const key = groupVersion(ri);
    let gv = map.get(key);
    if (!gv) map.set(key, (gv = { group: ri.group, version: ri.version, resources: [] }));
    gv.resources.push(ri);
  }
  return [...map.values()];
}

export function apiResourceList(gv: GroupVersion) {
  const resources: Record<string, unknown>[] = [];
  for (const ri of gv.resources) {
    const r: Record<string, unknown> = {
      name: ri.resource,
      singularName: ri.singular,
      namespaced: ri.namespaced,
      kind: ri.kind,
      verbs: ri.verbs,
    };
    if (ri.shortNames?.length) r.shortNames = ri.shortNames;
    if (ri.categories?.length) r.categories = ri.categories;
    const svh = storageVersionHash(ri);
    if (svh) r.storageVersionHash = svh;
    resources.push(r);
    for (const sub of ri.subresources ?? []) {
      const s = subresourceInfo(ri, sub);
      const e: Record<string, unknown> = { name: `${ri.resource}/${sub}`, singularName: "", namespaced: ri.namespaced, kind: s.kind, verbs: s.verbs };
      if (s.group !== undefined) e.group = s.group;
      if (s.version !== undefined) e.version = s.version;
      resources.push(e);
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: groupVersion(gv), resources };
}

function discoveryResource(ri: ResourceInfo) {
  const r: Record<string, unknown> = {
    resource: ri.resource,
    responseKind: { group: ri.group, version: ri.version, kind: ri.kind },
    scope: ri.namespaced ? "Namespaced" : "Cluster",
    singularResource: ri.singular,
    verbs: ri.verbs,
  };
  if (ri.shortNames?.length) r.shortNames = ri.shortNames;
  if (ri.categories?.length) r.categories = ri.categories;
  if (ri.subresources?.length) {
    r.subresources = ri.subresources.map((sub) => {
      const s = subresourceInfo(ri, sub);
      return {
        subresource: sub,
        responseKind: { group: s.group ?? ri.group, version: s.version ?? ri.version, kind: s.kind },
        verbs: s.verbs,
      };
    });
  }
  return r;
}

function aggregated(gvs: GroupVersion[]) {
  const byGroup = new Map<string, GroupVersion[]>();
  for (const gv of gvs) {
    const list = byGroup.get(gv.group) ?? [];
    list.push(gv);
    byGroup.set(gv.group, list);
  }
  const items = [...byGroup.entries()].map(([group, list]) => ({
    metadata: group ? { name: group, creationTimestamp: null } : { creationTimestamp: null },
    versions: list.map((gv) => ({ version: gv.version, resources: gv.resources.map(discoveryResource), freshness: "Current" })),
  }));
  return { kind: "APIGroupDiscoveryList", apiVersion: "apidiscovery.k8s.io/v2", metadata: {}, items };
}

const AGG_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
const AGG_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

/** Which aggregated form, if any, the Accept header asks for (first acceptable wins). */
function aggregatedWanted(c: Context): string | undefined {
  const accept = c.req.header("accept") ?? "";
  for (const part of accept.split(",")) {
    const params = part.split(";").map((s) => s.trim());
    const get = (k: string) => params.find((p) => p.startsWith(k + "="))?.slice(k.length + 1);
    if (get("g") === "apidiscovery.k8s.io" && get("as") === "APIGroupDiscoveryList") {
      if (get("v") === "v2") return AGG_V2;
      if (get("v") === "v2beta1") return AGG_V2BETA1;
    }
    if (params[0] === "application/json" && !get("as")) return undefined;
  }
  return undefined;
}

function send(c: Context, body: unknown, contentType = "application/json"): Response {
  return new Response(JSON.stringify(body), { headers: { "Content-Type": contentType, Vary: "Accept" } });
}

/** Routes for /api and /apis (the per-version lists are served by the group sub-apps). */
/** Upstream's version.CompareKubeAwareVersionStrings: > 0 when a has priority (GA > beta > alpha, then numbers). */
export function compareKubeAwareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    return m ? [m[2] === "alpha" ? 0 : m[2] === "beta" ? 1 : 2, Number(m[1]), Number(m[3] ?? 0)] : undefined;
  };
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : b.localeCompare(a);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

/** The documents, rebuilt after the registry changes (CRDs come and go). */
function discoveryState() {
  const gvs = groupVersions();
  const core = gvs.filter((gv) => gv.group === "");
  // Several versions of a group (CRDs): preferred first, as upstream orders them.
  const groups = gvs.filter((gv) => gv.group !== "").sort((a, b) => (a.group === b.group ? compareKubeAwareVersions(b.version, a.version) : 0));
  const groupEntry = (name: string) => {
    const versions = groups.filter((g) => g.group === name).map((g) => ({ groupVersion: `${name}/${g.version}`, version: g.version }));
    return { name, versions, preferredVersion: versions[0] };
  };
  return { aggCore: aggregated(core), aggGroups: aggregated(groups), groupEntry, groupNames: new Set(groups.map((g) => g.group)) };
}

let state: ReturnType<typeof discoveryState> | undefined;
onResourcesChanged(() => {
  state = undefined;
});

export function discoveryRoutes(serverAddress: () => string): Hono {
  const app = new Hono();
  const current = () => (state ??= discoveryState());

  app.get("/api", (c) => {
    const agg = aggregatedWanted(c);
    const { aggCore } = current();
    if (agg) return send(c, { ...aggCore, apiVersion: agg.includes("v2beta1") ? "apidiscovery.k8s.io/v2beta1" : "apidiscovery.k8s.io/v2" }, agg);
    return send(c, {
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: serverAddress() }],
    });
  });
  app.get("/apis", (c) => {
    const agg = aggregatedWanted(c);
    const { aggGroups, groupNames, groupEntry } = current();
    if (agg) return send(c, { ...aggGroups, apiVersion: agg.includes("v2beta1") ? "apidiscovery.k8s.io/v2beta1" : "apidiscovery.k8s.io/v2" }, agg);
    return send(c, { kind: "APIGroupList", apiVersion: "v1", groups: [...groupNames].map(groupEntry) });
  });
  app.get("/apis/:group", (c) => {
    const { groupNames, groupEntry } = current();
    const name = c.req.param("group");
    if (!groupNames.has(name)) return c.text("404 page not found\n", 404);
    return send(c, { kind: "APIGroup", apiVersion: "v1", ...groupEntry(name) });
  });
  return app;
}
