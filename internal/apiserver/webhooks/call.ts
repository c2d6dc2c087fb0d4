// Calls one webhook: where it is (clientConfig.url, or clientConfig.service resolved to one of the service's ready
// endpoints, as k3s runs kube-apiserver with --enable-aggregator-routing), TLS verified against caBundle (the
// system roots without one) with the service's DNS name for service references, the deadline from timeoutSeconds,
// and upstream's "failed to call webhook" reasons. Returns the AdmissionReview response.
import { checkServerIdentity } from "node:tls";
import type { Store } from "../../store/types.ts";
import { findResource, storageKey } from "../../api/resources.ts";
import type { Webhook } from "./types.ts";

/** A call that did not produce a usable answer; failurePolicy decides what the request sees. */
export class CallError extends Error {
  constructor(
    readonly webhook: string,
    readonly reason: string,
    /** A Status the webhook's server answered with (sent on to the client under failurePolicy Fail). */
    readonly status?: { code: number; reason?: string; message?: string },
  ) {
    super(`failed calling webhook "${webhook}": ${reason}`);
  }
}

/** Largest AdmissionReview answer read (upstream bounds it too; a webhook must not make the server allocate more). */
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

interface Target {
  url: string;
  /** Name the certificate must be valid for, when it differs from the URL's host (service references). */
  serverName?: string;
}

async function readObject(store: Store, resource: string, namespace: string, name: string): Promise<any> {
  const { kv } = await store.get(storageKey(findResource("", "v1", resource)!, namespace, name));
  return kv ? JSON.parse(kv.value) : undefined;
}

const hostPort = (ip: string, port: number | string) => (ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`);

/** One ready endpoint of the service's port (upstream's ResolveEndpoint). */
async function resolveService(store: Store, svc: NonNullable<Webhook["clientConfig"]["service"]>): Promise<Target> {
  const port = svc.port ?? 443;
  const service = await readObject(store, "services", svc.namespace, svc.name);
  if (!service) throw new Error(`service "${svc.name}" not found`);
  const sp = (service.spec?.ports ?? []).find((p: any) => p?.port === port);
  if (!sp) throw new Error(`no service port ${port} found for service "${svc.name}"`);
  const eps = await readObject(store, "endpoints", svc.namespace, svc.name);
  const candidates: string[] = [];
  for (const subset of eps?.subsets ?? []) {
    const ep = (subset.ports ?? []).find((p: any) => (p?.name ?? "") === (sp.name ?? ""));
    if (!ep) continue;
    for (const addr of subset.addresses ?? []) if (addr?.ip) candidates.push(hostPort(addr.ip, ep.port));
  }
  if (!candidates.length) throw new Error(`no endpoints available for service "${svc.name}"`);
  const pick = candidates[Math.floor(Math.random() * candidates.length)]!;
  return { url: `https://${pick}${svc.path ?? ""}`, serverName: `${svc.name}.${svc.namespace}.svc` };
}

function caBundlePEM(b64: string | undefined): string | undefined {
  if (!b64) return undefined;
  return Buffer.from(b64, "base64").toString("utf8");
}

/** Go's wording for the usual dial and TLS failures, so messages read like upstream's. */
function describe(err: unknown, url: URL, timedOut: boolean): string {
  if (timedOut) return "context deadline exceeded";
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? "";
  const msg = e?.message ?? String(err);
  if (code === "ConnectionRefused" || code === "ECONNREFUSED" || /refused/i.test(msg)) return `dial tcp ${url.host}: connect: connection refused`;
  if (/UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER|CERT_UNTRUSTED|unknown authority|self.signed/i.test(code + " " + msg)) {
    return "tls: failed to verify certificate: x509: certificate signed by unknown authority";
  }
  if (/ERR_TLS_CERT_ALTNAME|altname|Hostname\/IP does not match/i.test(code + " " + msg)) {
    return `tls: failed to verify certificate: x509: certificate is not valid for this host: ${msg}`;
  }
  return msg;
}

async function readCapped(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw new Error(`the response is larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** POSTs the AdmissionReview; resolves to the parsed review the webhook answered with. */
export async function callWebhook(store: Store, hook: Webhook, review: { apiVersion: string; request: { uid: string } }): Promise<any> {
  // The first AdmissionReview version the webhook lists that this server speaks (v1 and v1beta1 have one shape).
  const version = (hook.admissionReviewVersions ?? ["v1"]).find((v) => v === "v1" || v === "v1beta1");
  if (!version) {
    throw new CallError(hook.name, `webhook does not accept known AdmissionReview versions: ${JSON.stringify(hook.admissionReviewVersions ?? [])} (this server speaks v1, v1beta1)`);
  }
  const apiVersion = `admission.k8s.io/${version}`;
  review = { ...review, apiVersion };
  const cc = hook.clientConfig ?? {};
  let target: Target;
  try {
    target = cc.url ? { url: cc.url } : await resolveService(store, cc.service!);
  } catch (err) {
    throw new CallError(hook.name, `could not get REST client: ${(err as Error).message}`);
  }
  const timeout = hook.timeoutSeconds ?? 10;
  const url = new URL(target.url);
  url.searchParams.set("timeout", `${timeout}s`);
  const ca = caBundlePEM(cc.caBundle);
  // Explicit: NODE_TLS_REJECT_UNAUTHORIZED=0 in the server's environment must not turn verification off.
  const tls: Record<string, unknown> = { rejectUnauthorized: true };
  if (ca) tls.ca = ca;
  if (target.serverName) {
    const name = target.serverName;
    tls.checkServerIdentity = (_host: string, cert: any) => checkServerIdentity(name, cert);
  }
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeout * 1000);
  const post = `Post ${JSON.stringify(url.toString())}`;
  try {
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(review),
        signal: controller.signal,
        redirect: "error",
        tls,
      } as RequestInit);
    } catch (err) {
      throw new CallError(hook.name, `failed to call webhook: ${post}: ${describe(err, url, timedOut)}`);
    }
    let text: string;
    try {
      text = await readCapped(res);
    } catch (err) {
      throw new CallError(hook.name, `failed to call webhook: ${post}: ${describe(err, url, timedOut)}`);
    }
    if (res.status < 200 || res.status > 299) {
      let status: any;
      try {
        status = JSON.parse(text);
      } catch {}
      if (status?.kind === "Status" && typeof status.code === "number") {
        throw new CallError(hook.name, `failed to call webhook: ${status.message ?? ""}`, status);
      }
      const shown = text.length > 1024 ? `${text.slice(0, 1024)}...` : text;
      throw new CallError(hook.name, `failed to call webhook: an error on the server (${JSON.stringify(shown)}) has prevented the request from succeeding`);
    }
    let body: any;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new CallError(hook.name, `received invalid webhook response: ${(err as Error).message}`);
    }
    if (!body || typeof body !== "object" || body.apiVersion !== apiVersion || body.kind !== "AdmissionReview") {
      const got = body && typeof body === "object" ? `${body.apiVersion ?? ""}, Kind=${body.kind ?? ""}` : "";
      throw new CallError(hook.name, `received invalid webhook response: expected webhook response of ${apiVersion}, Kind=AdmissionReview, got ${got}`);
    }
    const response = body.response;
    if (!response || typeof response !== "object") throw new CallError(hook.name, "received invalid webhook response: webhook response was absent");
    if (response.uid !== review.request.uid) {
      throw new CallError(hook.name, `received invalid webhook response: expected response.uid="${review.request.uid}", got "${response.uid ?? ""}"`);
    }
    return response;
  } finally {
    clearTimeout(timer);
  }
}
