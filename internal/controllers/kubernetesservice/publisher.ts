// Each server advertises its API endpoint in a kube-system Lease (label kubun.io/apiserver-endpoint), so the
// `kubernetes` Service lists every live API server, like upstream's lease endpoint reconciler (/masterleases).
// Idle cost matters on edge disks: a lone server writes its Lease once and never renews it; renewals (every
// RENEW_MS, expiring after DURATION_S) happen only while another server's Lease is live, i.e. in HA.

import type { Lease } from "kubernetes-types/coordination/v1";
import type { Client } from "../../client/client.ts";
import { Informer, sleep } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import { logger } from "../../log/log.ts";
import { computeHash } from "../deployment/hash.ts";

export const ENDPOINT_LABEL = "kubun.io/apiserver-endpoint";
export const ENDPOINT_ANNOTATION = "kubun.io/endpoint";
export const DURATION_S = 45;
const RENEW_MS = 15_000;

const microTime = () => new Date().toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

export function endpointLeaseName(ip: string, port: number): string {
  return `apiserver-${computeHash({ metadata: { name: `${ip}:${port}` } })}`;
}

export function parseEndpoint(l: Lease): { ip: string; port: number } | undefined {
  const m = /^(.+):(\d+)$/.exec(l.metadata?.annotations?.[ENDPOINT_ANNOTATION] ?? "");
  return m ? { ip: m[1]!, port: Number(m[2]) } : undefined;
}

export function leaseLive(l: Lease, now = Date.now()): boolean {
  const t = Date.parse(l.spec?.renewTime ?? l.spec?.acquireTime ?? "");
  return Number.isFinite(t) && t + (l.spec?.leaseDurationSeconds ?? DURATION_S) * 1000 > now;
}

export function endpointLeaseInformer(client: Client): Informer<Lease> {
  return new Informer<Lease>(client.resource<Lease>(refs.leases, "kube-system"), { labelSelector: `${ENDPOINT_LABEL}=true`, name: "apiserver-endpoints" });
}

/** Keeps this server's endpoint Leases until the signal aborts, then deletes them. */
export async function publishEndpoints(client: Client, endpoints: { ip: string; port: number }[], identity: string, signal: AbortSignal): Promise<void> {
  if (!endpoints.length) return;
  const log = logger("apiserver-endpoints");
  const leases = client.resource<Lease>(refs.leases, "kube-system");
  const inf = endpointLeaseInformer(client);
  void inf.run(signal);
  const mine = new Set(endpoints.map((e) => endpointLeaseName(e.ip, e.port)));
  const othersLive = () => inf.list().some((l) => !mine.has(l.metadata!.name!) && leaseLive(l));

  async function write(e: { ip: string; port: number }, force: boolean): Promise<void> {
    const name = endpointLeaseName(e.ip, e.port);
    const cur = inf.get(`kube-system/${name}`);
    const spec = { holderIdentity: identity, leaseDurationSeconds: DURATION_S, renewTime: microTime() };
    try {
      if (!cur) {
        await leases.create({
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name, namespace: "kube-system", labels: { [ENDPOINT_LABEL]: "true" }, annotations: { [ENDPOINT_ANNOTATION]: `${e.ip}:${e.port}` } },
          spec: { ...spec, acquireTime: spec.renewTime },
        });
      } else if (force || cur.spec?.holderIdentity !== identity) {
        await leases.update({ ...structuredClone(cur), spec: { ...cur.spec, ...spec } });
      }
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 409 || err.code === 404))) log.warn("could not publish API endpoint", { error: err as Error });
    }
  }

  await inf.synced;
  for (const e of endpoints) await write(e, true);
  while (!signal.aborted) {
    await sleep(RENEW_MS, signal);
    if (signal.aborted) break;
    // Renew only in HA (another server is live), or when ours was lost.
    const renew = othersLive();
    for (const e of endpoints) if (renew || !inf.get(`kube-system/${endpointLeaseName(e.ip, e.port)}`)) await write(e, renew);
  }
  // Clean shutdown: take our address out at once.
  for (const name of mine) await leases.delete(name).catch(() => undefined);
}
