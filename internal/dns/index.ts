// Cluster DNS: a small authoritative server for the cluster domain (Kubernetes DNS specification, schema 1.1.0)
// fed by one Service and one EndpointSlice informer, forwarding other names to upstream resolvers.
//
//   const dns = await startDNS(proxyClientConfig, { listen: [{ host: "10.43.0.10", port: 53 }], netns, signal });
//   dns.listeners[0].udpPort; await dns.stopped;
//
// The identity needs list/watch on services and endpointslices (system:kube-proxy has them).
import type { Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import { createClient } from "../client/client.ts";
import { SharedInformerFactory } from "../client/factory.ts";
import { indexers } from "../client/informer.ts";
import { refs } from "../client/refs.ts";
import type { ClientConfig } from "../client/types.ts";
import { logger } from "../log/log.ts";
import { ensureLocalAddress } from "./iface.ts";
import { Forwarder, parseUpstream, upstreamsFromResolvConf } from "./forward.ts";
import { ClusterZone, sliceServiceKey } from "./records.ts";
import { DNSHandler, listen, type Listener } from "./server.ts";

export { TTL, SCHEMA_VERSION } from "./records.ts";
export { ensureLocalAddress, DNS_INTERFACE } from "./iface.ts";
export type { Listener } from "./server.ts";

export const DEFAULT_CLUSTER_DNS = "10.43.0.10";

export interface DNSOptions {
  /** Addresses to serve on, UDP and TCP each (port 0: a free port, the same for both). */
  listen: { host: string; port: number }[];
  clusterDomain?: string;
  /**
   * Resolvers for names outside the cluster domain ("IP" or "IP:port"). Undefined: the host's /etc/resolv.conf
   * nameservers (minus our own listen addresses); [] forwards nothing (those queries get REFUSED).
   */
  upstream?: string[];
  /** Named network namespace (or a path such as /var/run/netns/x) to open the sockets in. */
  netns?: string;
  /**
   * Make every listen host that is not local yet a local address first (dummy interface `kubun-dns`, or loopback):
   * how a node serves the cluster DNS IP itself, with no DNAT rule.
   */
  addLocalAddresses?: boolean;
  /**
   * Share the Service/EndpointSlice watch with other node components (the service proxy watches the same two
   * resources): one informer set per agent. The factory's client needs list/watch on both; its owner starts it.
   * Default: a factory of our own on cfg.
   */
  informers?: SharedInformerFactory;
  /** resolv.conf read when upstream is undefined (tests). */
  resolvConf?: string;
  signal: AbortSignal;
}

export interface ClusterDNS {
  listeners: Listener[];
  /** Resolves when the informers have their first full list (answers before that are SERVFAIL). */
  synced: Promise<void>;
  /** Resolves once the signal aborted and the sockets are closed. */
  stopped: Promise<void>;
}

export async function startDNS(cfg: ClientConfig, opts: DNSOptions): Promise<ClusterDNS> {
  const log = logger("dns");
  const { signal } = opts;
  const zone = (opts.clusterDomain ?? "cluster.local").toLowerCase().replace(/\.$/, "");
  const netnsPath = opts.netns ? (opts.netns.startsWith("/") ? opts.netns : `/var/run/netns/${opts.netns}`) : undefined;
  const upstreams =
    opts.upstream !== undefined
      ? opts.upstream.map(parseUpstream)
      : upstreamsFromResolvConf(opts.resolvConf ?? "/etc/resolv.conf", [...opts.listen.map((l) => l.host), DEFAULT_CLUSTER_DNS]);

  const informers = opts.informers ?? new SharedInformerFactory(createClient({ ...cfg, userAgent: cfg.userAgent ?? "kubun-dns" }), { log: log.child("informer"), maxBackoffMs: 10_000 });
  const services = informers.informerFor<Service>(refs.services);
  services.addIndexer("namespace", indexers.byNamespace);
  const slices = informers.informerFor<EndpointSlice>(refs.endpointslices);
  slices.addIndexer("service", sliceServiceKey);
  const clusterZone = new ClusterZone(zone, services, slices);
  const handler = new DNSHandler(clusterZone, new Forwarder(upstreams, netnsPath, log.child("forward")), log);

  if (opts.addLocalAddresses) {
    const netnsName = netnsPath?.startsWith("/var/run/netns/") ? netnsPath.slice("/var/run/netns/".length) : undefined;
    for (const l of opts.listen) if (!["0.0.0.0", "::", "127.0.0.1", "::1"].includes(l.host)) await ensureLocalAddress(l.host, { netns: netnsName });
  }
  const listeners: Listener[] = [];
  try {
    for (const l of opts.listen) listeners.push(await listen(l.host, l.port, handler, log, netnsPath));
  } catch (e) {
    for (const l of listeners) l.stop();
    throw e;
  }
  // A shared factory is started (and stopped) by its owner; our own one lives as long as our signal.
  const runs = opts.informers ? [] : [services.run(signal), slices.run(signal)];
  if (!opts.informers) informers.start(signal);
  const synced = Promise.all([services.synced, slices.synced]).then(() => {
    log.info("cluster DNS in sync", { services: services.size, endpointSlices: slices.size });
  });
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      for (const l of listeners) l.stop();
      void Promise.allSettled(runs).then(() => resolve());
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  });
  log.info("cluster DNS serving", {
    zone,
    listen: listeners.map((l) => `${l.host}:${l.udpPort}`),
    upstream: upstreams.map((u) => `${u.host}:${u.port}`),
  });
  return { listeners, synced, stopped };
}
