// Subresources served by the node's kubelet: pods/log, pods/exec, pods/attach, pods/portforward,
// pods/proxy and nodes/proxy. The API server finds the node, then proxies to
// https://<InternalIP>:<kubeletEndpoint.Port>, over HTTP or by bridging a websocket.
// The address and port come from the node's own status, so they are not trusted: the kubelet must present a
// serving certificate from the cluster CA for that node (kubeletServerIdentity), and what the API server sends it
// is a token for that one kubelet, valid a few minutes (deps.kubeletClient.tokenFor) — never a reusable credential.
import { decode, type KObject } from "../objects.ts";
import { findResource, storageKey } from "../../api/resources.ts";
import type { Rest } from "../rest.ts";
import type { ApiServerDeps } from "../deps.ts";
import { badRequest, methodNotAllowed, notFound, serviceUnavailable, StatusError } from "../../api/status.ts";
import { readLive } from "../writes.ts";
import { bridgeWebsocket, isWebsocketUpgrade } from "./wsproxy.ts";
import { copyRequestHeaders, forwardRequest, handleProxy, hostPort } from "./proxy.ts";
import { kubeletServerIdentity } from "../../auth/kubeletcert.ts";

async function nodeEndpoint(r: Rest, nodeName: string): Promise<string> {
  const nodes = findResource("", "v1", "nodes")!;
  const { kv } = await r.deps.store.get(storageKey(nodes, undefined, nodeName));
  if (!kv) throw notFound(nodes, nodeName);
  return kubeletEndpoint(decode(kv));
}

/** host:port of a node's kubelet from its status (InternalIP first), or 503 when it reported none yet. */
export function kubeletEndpoint(node: KObject): string {
  const nodeName = node.metadata.name;
  const addrs: { type: string; address: string }[] = node.status?.addresses ?? [];
  const ip = addrs.find((a) => a.type === "InternalIP")?.address ?? addrs.find((a) => a.type === "ExternalIP")?.address ?? addrs.find((a) => a.type === "Hostname")?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (!ip || !port) {
    throw serviceUnavailable(`node "${nodeName}" has no kubelet endpoint yet (status.addresses / status.daemonEndpoints.kubeletEndpoint.Port not reported)`);
  }
  return hostPort(ip, port);
}

function containerOf(pod: KObject, q: URLSearchParams, what: string): string {
  const name = q.get("container");
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c: any) => c.name as string);
  if (name) {
    if (!all.includes(name)) {
      throw badRequest(`container ${name} is not valid for pod ${pod.metadata.name}`);
    }
    return name;
  }
  const main = (pod.spec?.containers ?? []).map((c: any) => c.name as string);
  if (main.length === 1) return main[0]!;
  // kubectl picks the default-container annotation itself; without one, upstream asks the user to choose.
  const annotated = pod.metadata.annotations?.["kubectl.kubernetes.io/default-container"];
  if (annotated && main.includes(annotated)) return annotated;
  throw badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${main.join(" ")}]${what === "log" ? "" : ""}`);
}

/** How to reach nodeName's kubelet: its one-kubelet token and TLS that accepts only its CA-issued certificate. */
function kubeletConn(r: Rest, nodeName: string): Promise<{ headers: Record<string, string>; tls: Record<string, unknown> }> {
  return kubeletConnection(r.deps, nodeName);
}

/** The same for callers without a request (the metrics scraper). */
export async function kubeletConnection(deps: Pick<ApiServerDeps, "kubeletClient">, nodeName: string): Promise<{ headers: Record<string, string>; tls: Record<string, unknown> }> {
  const kc = deps.kubeletClient;
  if (!kc?.caPEM || !kc.tokenFor) throw serviceUnavailable("this API server has no kubelet credentials");
  const token = await kc.tokenFor(nodeName);
  // rejectUnauthorized spelled out: NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment must never send this token to
  // a kubelet whose certificate was not verified.
  return { headers: { Authorization: `Bearer ${token}` }, tls: { ca: kc.caPEM, rejectUnauthorized: true, checkServerIdentity: kubeletServerIdentity(nodeName) } };
}

async function proxyHTTP(r: Rest, nodeName: string, url: string): Promise<Response> {
  const conn = await kubeletConn(r, nodeName);
  const headers = new Headers(conn.headers);
  copyRequestHeaders(r, ["accept", "content-type"], headers);
  return forwardRequest(r, url, headers, (msg) => new StatusError(502, "InternalError", `error dialing backend: ${msg}`), { tls: conn.tls } as RequestInit);
}

async function bridgeKubelet(r: Rest, nodeName: string, url: string): Promise<Response> {
  const conn = await kubeletConn(r, nodeName);
  return bridgeWebsocket(r.c.req.raw, r.c.env as any, wsURL(url), conn.headers, conn.tls);
}

function wsURL(httpsURL: string): string {
  return "wss" + httpsURL.slice("https".length);
}

export async function handleKubeletSubresource(r: Rest, method: string): Promise<Response> {
  const sub = r.subresource!;
  if (r.ri.resource === "services" || (r.ri.resource === "pods" && sub === "proxy")) return handleProxy(r);
  if (r.ri.resource === "nodes") {
    const endpoint = await nodeEndpoint(r, r.name!);
    const rest = (r.info.rest ?? []).map(encodeURIComponent).join("/");
    const url = `https://${endpoint}/${rest}${new URL(r.c.req.url).search}`;
    if (isWebsocketUpgrade(r.c.req.raw)) return bridgeKubelet(r, r.name!, url);
    return proxyHTTP(r, r.name!, url);
  }
  const live = await readLive(r.deps, r.ri, r.namespace, r.name!);
  if (!live) throw notFound(r.ri, r.name!);
  const pod = live.obj;
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
  const endpoint = await nodeEndpoint(r, nodeName);
  const ns = encodeURIComponent(r.namespace!);
  const pn = encodeURIComponent(r.name!);
  const q = new URLSearchParams(r.q);
  switch (sub) {
    case "log": {
      if (method !== "GET") throw methodNotAllowed();
      const container = containerOf(pod, q, "log");
      q.delete("container");
      const qs = q.toString();
      return proxyHTTP(r, nodeName, `https://${endpoint}/containerLogs/${ns}/${pn}/${encodeURIComponent(container)}${qs ? "?" + qs : ""}`);
    }
    case "exec":
    case "attach": {
      const container = containerOf(pod, q, sub);
      q.delete("container");
      const url = `https://${endpoint}/${sub}/${ns}/${pn}/${encodeURIComponent(container)}?${q.toString()}`;
      if (!isWebsocketUpgrade(r.c.req.raw)) {
        throw badRequest("Upgrade request required");
      }
      return bridgeKubelet(r, nodeName, url);
    }
    case "portforward": {
      const url = `https://${endpoint}/portForward/${ns}/${pn}?${q.toString()}`;
      if (!isWebsocketUpgrade(r.c.req.raw)) {
        throw badRequest("Upgrade request required");
      }
      return bridgeKubelet(r, nodeName, url);
    }
  }
  throw notFound(r.ri, r.name!);
}
