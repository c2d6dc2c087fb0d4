// pods/<name[:port]>/proxy and services/<name[:port]>/proxy: HTTP proxied from the API server to a pod IP,
// for a service to one of its ready endpoints, as upstream (`kubectl proxy` URLs, dashboards).
// Names may carry a scheme and port: "web", "web:8080", "https:web:8443"; a service port may be named.
// As upstream, only proxyable addresses are dialled (never loopback, link-local or unspecified: those would reach
// services on the API server's own host), and a service endpoint must point at a pod of the same namespace that
// has that IP (an Endpoints object alone cannot aim the proxy anywhere).
import { decode, type KObject } from "../objects.ts";
import { findResource, storageKey } from "../../api/resources.ts";
import type { Rest } from "../rest.ts";
import { badRequest, notFound, serviceUnavailable, StatusError } from "../../api/status.ts";
import { isProxyableIP } from "../validation/endpointip.ts";
import { readBodyWithin } from "../flowcontrol/bodytimeout.ts";

export function splitSchemeNamePort(id: string): { scheme: string; name: string; port: string } {
  const parts = id.split(":");
  if (parts.length === 1) return { scheme: "", name: parts[0]!, port: "" };
  if (parts.length === 2) return { scheme: "", name: parts[0]!, port: parts[1]! };
  if (parts.length === 3 && (parts[0] === "http" || parts[0] === "https")) return { scheme: parts[0], name: parts[1]!, port: parts[2]! };
  throw badRequest(`invalid request "${id}"`);
}

async function readObject(r: Rest, resource: string, name: string): Promise<KObject | undefined> {
  const ri = findResource("", "v1", resource)!;
  const { kv } = await r.deps.store.get(storageKey(ri, r.namespace, name));
  return kv ? decode(kv) : undefined;
}

/** host:port of a ready endpoint of the service for the given service port (name or number; "" = the only one). */
async function serviceTarget(r: Rest, name: string, port: string): Promise<string> {
  const svc = await readObject(r, "services", name);
  if (!svc) throw notFound(r.ri, name);
  const ports: any[] = svc.spec?.ports ?? [];
  const sp = port === "" ? (ports.length === 1 ? ports[0] : undefined) : ports.find((p) => p.name === port || String(p.port) === port);
  if (!sp) throw serviceUnavailable(`no service port "${port}" found for service "${name}"`);
  const eps = await readObject(r, "endpoints", name);
  for (const subset of eps?.subsets ?? []) {
    const ep = (subset.ports ?? []).find((p: any) => (p.name ?? "") === (sp.name ?? "") || (subset.ports.length === 1 && !sp.name));
    if (!ep) continue;
    for (const addr of subset.addresses ?? []) {
      if (addr?.ip && (await isPodAddress(r, addr))) return hostPort(addr.ip, ep.port);
    }
  }
  throw serviceUnavailable(`no endpoints available for service "${name}"`);
}

/** Upstream's isValidAddress: the endpoint names a pod of this namespace that has this (proxyable) IP. */
async function isPodAddress(r: Rest, addr: { ip: string; targetRef?: { kind?: string; namespace?: string; name?: string } }): Promise<boolean> {
  const ref = addr.targetRef;
  if (!ref?.name || (ref.kind && ref.kind !== "Pod") || (ref.namespace ?? r.namespace) !== r.namespace) return false;
  if (!isProxyableIP(addr.ip)) return false;
  const pod = await readObject(r, "pods", ref.name);
  const ips: string[] = (pod?.status?.podIPs ?? []).map((p: any) => p?.ip).concat(pod?.status?.podIP ? [pod.status.podIP] : []);
  return ips.includes(addr.ip);
}

async function podTarget(r: Rest, name: string, port: string): Promise<string> {
  const pod = await readObject(r, "pods", name);
  if (!pod) throw notFound(r.ri, name);
  const ip = pod.status?.podIP;
  if (!ip || !isProxyableIP(ip)) throw badRequest("address not allowed");
  let p = port;
  if (!p) {
    for (const c of pod.spec?.containers ?? []) {
      if (c.ports?.length) {
        p = String(c.ports[0].containerPort);
        break;
      }
    }
  }
  return p ? hostPort(ip, p) : ip;
}

export function hostPort(ip: string, port: string | number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * Sends the client's request (method, body, the given headers) to url and relays the answer, minus
 * hop-by-hop headers. A failure to reach the backend becomes `dialError(message)`; the callers differ
 * there (kubelet: 502, pod/service proxy: 503) and in `init` (the pod/service proxy does not follow redirects).
 */
export async function forwardRequest(
  r: Rest,
  url: string,
  headers: Headers,
  dialError: (message: string) => StatusError,
  init: RequestInit = {},
): Promise<Response> {
  const method = r.c.req.method;
  // Read first (within the body deadline): a slow or broken request body is the client's error, not a dial error.
  const body = method === "GET" || method === "HEAD" ? undefined : await readBodyWithin(r.c);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body,
      signal: r.c.req.raw.signal,
      ...init,
      // Pods' serving certificates are not verified, as upstream; the kubelet's are (its caller passes `tls`).
      tls: (init as { tls?: unknown }).tls ?? { rejectUnauthorized: false },
      decompress: false,
    } as RequestInit);
  } catch (err) {
    throw dialError(err instanceof Error ? err.message : String(err));
  }
  const out = new Headers();
  for (const [k, v] of res.headers) if (!["connection", "transfer-encoding", "content-length"].includes(k)) out.set(k, v);
  return new Response(res.body, { status: res.status, headers: out });
}

/** Copies the named request headers the client sent into `into`. */
export function copyRequestHeaders(r: Rest, names: string[], into: Headers = new Headers()): Headers {
  for (const h of names) {
    const v = r.c.req.header(h);
    if (v) into.set(h, v);
  }
  return into;
}

export async function handleProxy(r: Rest): Promise<Response> {
  const { scheme, name, port } = splitSchemeNamePort(r.name!);
  const host = r.ri.resource === "services" ? await serviceTarget(r, name, port) : await podTarget(r, name, port);
  const path = (r.info.rest ?? []).map(encodeURIComponent).join("/");
  const url = `${scheme || "http"}://${host}/${path}${new URL(r.c.req.url).search}`;
  const headers = copyRequestHeaders(r, ["accept", "content-type", "accept-encoding"]);
  const target = r.ri.resource === "services" ? "service" : "pod";
  return forwardRequest(
    r,
    url,
    headers,
    (msg) => new StatusError(503, "ServiceUnavailable", `error trying to reach ${target}: ${msg}`),
    { redirect: "manual" },
  );
}
