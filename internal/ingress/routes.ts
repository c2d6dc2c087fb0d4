// The routing table of the ingress proxy, built from the Ingresses of kubun's classes: host rules (exact before
// wildcard before host-less), paths as upstream defines them (Exact: the whole path; Prefix: element-wise, so
// /foo matches /foo and /foo/bar but not /foobar; ImplementationSpecific: treated as Prefix), longest match wins
// and Exact beats Prefix of the same length; then the default backend; else nothing (the proxy answers 404).
import type { Ingress, IngressBackend, IngressClass } from "kubernetes-types/networking/v1";
import { DEFAULT_CLASS_ANNOTATION, INGRESS_CONTROLLER, LEGACY_CLASS_ANNOTATION, SSL_REDIRECT_ANNOTATION } from "../api/ingress.ts";

export interface Route {
  namespace: string;
  ingress: string;
  backend: IngressBackend;
  /** Plain-HTTP requests are redirected to HTTPS (kubun.dev/ssl-redirect: "true" and a TLS entry for the host). */
  sslRedirect: boolean;
}

interface PathRule {
  exact: boolean;
  /** Exact: the path; Prefix: its elements. */
  path: string;
  elements: string[];
  route: Route;
}

export interface RouteTable {
  match(host: string, path: string): Route | undefined;
}

/** Our classes: those whose controller is kubun.dev/ingress. */
function ourClasses(classes: IngressClass[]): { names: Set<string>; isDefault: boolean } {
  const ours = classes.filter((c) => c.spec?.controller === INGRESS_CONTROLLER);
  return {
    names: new Set(ours.map((c) => c.metadata!.name!)),
    isDefault: ours.some((c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true"),
  };
}

/** Whether the proxy serves this Ingress: its class is ours (field, legacy annotation, or none while ours is default). */
export function isOurs(ing: Ingress, classes: IngressClass[]): boolean {
  const { names, isDefault } = ourClasses(classes);
  const cls = ing.spec?.ingressClassName ?? ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
  return cls ? names.has(cls) : isDefault;
}

const elementsOf = (p: string) => p.split("/").filter(Boolean);

/** Strips the port and a trailing dot, lower-cases. */
export function normalizeHost(h: string): string {
  let host = h.trim().toLowerCase();
  if (host.startsWith("[")) host = host.slice(0, host.indexOf("]") + 1);
  else if (host.includes(":")) host = host.slice(0, host.lastIndexOf(":"));
  return host.endsWith(".") ? host.slice(0, -1) : host;
}

function best(rules: PathRule[] | undefined, path: string): Route | undefined {
  if (!rules) return undefined;
  const req = elementsOf(path);
  let found: PathRule | undefined;
  let foundLen = -1;
  for (const r of rules) {
    let len: number;
    if (r.exact) {
      if (r.path !== path) continue;
      len = r.path.length;
    } else {
      if (r.elements.length > req.length || r.elements.some((e, i) => e !== req[i])) continue;
      len = r.elements.length ? r.elements.join("/").length + 1 : 0;
    }
    if (len > foundLen || (len === foundLen && r.exact && !found?.exact)) {
      found = r;
      foundLen = len;
    }
  }
  return found?.route;
}

export function buildRoutes(ingresses: Ingress[], classes: IngressClass[]): RouteTable {
  const exactHosts = new Map<string, PathRule[]>();
  const wildcardHosts = new Map<string, PathRule[]>(); // key: the suffix after "*."
  const anyHost: PathRule[] = [];
  let defaultRoute: Route | undefined;
  // Oldest first, so the first Ingress to claim the default backend keeps it (then by namespace/name).
  const sorted = ingresses
    .filter((i) => !i.metadata?.deletionTimestamp && isOurs(i, classes))
    .sort((a, b) => (a.metadata?.creationTimestamp ?? "").localeCompare(b.metadata?.creationTimestamp ?? "") || `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
  for (const ing of sorted) {
    const namespace = ing.metadata!.namespace!;
    const tlsHosts = new Set((ing.spec?.tls ?? []).flatMap((t) => t.hosts ?? []));
    const redirect = ing.metadata?.annotations?.[SSL_REDIRECT_ANNOTATION] === "true";
    const route = (backend: IngressBackend, host?: string): Route => ({
      namespace,
      ingress: ing.metadata!.name!,
      backend,
      sslRedirect: redirect && (host ? tlsHosts.has(host) || [...tlsHosts].some((t) => t.startsWith("*.") && host.endsWith(t.slice(1))) : tlsHosts.size > 0),
    });
    if (ing.spec?.defaultBackend && !defaultRoute) defaultRoute = route(ing.spec.defaultBackend);
    for (const rule of ing.spec?.rules ?? []) {
      const host = rule.host?.toLowerCase();
      let list: PathRule[];
      if (!host) list = anyHost;
      else if (host.startsWith("*.")) wildcardHosts.set(host.slice(2), (list = wildcardHosts.get(host.slice(2)) ?? []));
      else exactHosts.set(host, (list = exactHosts.get(host) ?? []));
      for (const p of rule.http?.paths ?? []) {
        const path = p.path || "/";
        list.push({ exact: p.pathType === "Exact", path, elements: elementsOf(path), route: route(p.backend, host) });
      }
    }
  }
  return {
    match(rawHost, path) {
      const host = normalizeHost(rawHost);
      const dot = host.indexOf(".");
      // A wildcard covers exactly one DNS label: *.foo.com matches bar.foo.com, not foo.com or a.bar.foo.com.
      return best(exactHosts.get(host), path) ?? (dot > 0 ? best(wildcardHosts.get(host.slice(dot + 1)), path) : undefined) ?? best(anyHost, path) ?? defaultRoute;
    },
  };
}
