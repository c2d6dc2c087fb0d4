// kubun's ingress proxy, one per agent (as k3s runs Traefik on every node): Bun's HTTP server on the node's ports
// 80 and 443 (--ingress-http-port, --ingress-https-port), driven by Ingresses of kubun's classes, Services,
// EndpointSlices and the TLS Secrets they name, all read as system:kubun-ingress (read-only). The routing table is
// rebuilt on every change; the HTTPS listener is replaced (SO_REUSEPORT, old one drains) when a certificate changes.
//
//   const ingress = await startIngress(clientConfig, { httpPort: 80, httpsPort: 443, signal });
import type { Secret, Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import type { Ingress, IngressClass } from "kubernetes-types/networking/v1";
import type { Server } from "bun";
import { existsSync, readFileSync } from "node:fs";
import { writeAtomic } from "../api/files.ts";
import { join } from "node:path";
import { persistInformers } from "../client/snapshot.ts";
import { createClient } from "../client/client.ts";
import { SharedInformerFactory } from "../client/factory.ts";
import type { Informer } from "../client/informer.ts";
import { refs } from "../client/refs.ts";
import type { ClientConfig } from "../client/types.ts";
import { INGRESS_REFS } from "../api/ingress.ts";
import { logger, type Logger } from "../log/log.ts";
import { inNetns } from "../runtime/netns.ts";
import { EndpointPicker } from "./backends.ts";
import { NetnsDialer } from "./netnsdial.ts";
import { makeHandler, websocketHandlers, type WsData } from "./proxy.ts";
import { buildRoutes, isOurs, type RouteTable } from "./routes.ts";
import { collectCerts, type CertEntry } from "./tls.ts";

export interface IngressOptions {
  httpPort: number;
  httpsPort: number;
  /** Listen address (default all). */
  hostname?: string;
  /** Named network namespace of the node (tests): listen there and reach pods through it. */
  netns?: string;
  /** Where the netns relay keeps its unix sockets. */
  runDir?: string;
  /**
   * Where the last known Ingresses, classes, Services, EndpointSlices (cluster-state.json) and TLS certificates
   * (tls.json, 0600) are kept, so a node restarted while the server is away keeps routing and serving HTTPS.
   */
  stateDir?: string;
  /** One info line per request (otherwise debug). */
  accessLog?: boolean;
  signal: AbortSignal;
  log?: Logger;
}

export interface IngressProxy {
  httpPort: number;
  /** 0 while no Ingress has a usable TLS certificate. */
  httpsPort(): number;
  ready: Promise<void>;
}

const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export async function startIngress(cfg: ClientConfig, opts: IngressOptions): Promise<IngressProxy> {
  const log = opts.log ?? logger("ingress");
  const informers = new SharedInformerFactory(createClient(cfg), { maxBackoffMs: 10_000 });
  const ingresses: Informer<Ingress> = informers.informerFor(INGRESS_REFS.ingresses);
  const classes: Informer<IngressClass> = informers.informerFor(INGRESS_REFS.ingressclasses);
  const services: Informer<Service> = informers.informerFor(refs.services);
  const slices: Informer<EndpointSlice> = informers.informerFor(refs.endpointslices);
  const secrets: Informer<Secret> = informers.informerFor(refs.secrets);
  slices.addIndexer("service", (s) => {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    return svc ? [`${s.metadata!.namespace}/${svc}`] : [];
  });

  let routes: RouteTable = buildRoutes([], []);
  // Bumped on every Service/EndpointSlice event (incl. a relist's), so the picker's cached lists never outlive them.
  let backendsVersion = 0;
  const bump = () => void backendsVersion++;
  for (const inf of [services, slices] as Informer[]) inf.addEventHandler({ onAdd: bump, onUpdate: bump, onDelete: bump });
  const picker = new EndpointPicker({
    service: (ns, name) => services.getByName(ns, name),
    slices: (ns, svc) => slices.byIndex("service", `${ns}/${svc}`),
    version: () => backendsVersion,
  });
  const netnsPath = opts.netns ? (opts.netns.startsWith("/") ? opts.netns : `/var/run/netns/${opts.netns}`) : undefined;
  const dialer = netnsPath ? new NetnsDialer(netnsPath, opts.runDir ?? `/run/kubun-ingress-${process.pid}`) : undefined;
  const ctx = { routes: () => routes, picker, dialer, httpsPort: opts.httpsPort, log, accessLog: !!opts.accessLog };

  const serve = (port: number, proto: "http" | "https", tls?: CertEntry[]): Server<WsData> =>
    inNetns(netnsPath, () => {
      const handler = makeHandler(ctx, proto, port);
      return Bun.serve<WsData>({
        port,
        hostname: opts.hostname ?? "0.0.0.0",
        reusePort: true,
        idleTimeout: 120,
        maxRequestBodySize: 1024 * 1024 * 1024,
        // The first entry (no serverName) is the default certificate for clients without SNI.
        ...(tls ? { tls: [{ cert: tls[0]!.cert, key: tls[0]!.key }, ...tls.map((t) => ({ serverName: t.serverName, cert: t.cert, key: t.key }))] } : {}),
        fetch: (req, server) => handler(req, server),
        websocket: websocketHandlers,
      });
    });

  const http = serve(opts.httpPort, "http");
  let https: Server<WsData> | undefined;
  let certsKey = "";

  const served = () => ingresses.list().filter((i) => isOurs(i, classes.list()));
  const refreshRoutes = () => {
    routes = buildRoutes(ingresses.list(), classes.list());
  };
  const tlsFile = opts.stateDir ? join(opts.stateDir, "tls.json") : undefined;
  const saveCerts = (text: string) => {
    if (!tlsFile) return;
    try {
      writeAtomic(tlsFile, text);
    } catch (err) {
      log.warn("could not save the TLS certificates", { error: err as Error });
    }
  };
  const allSynced = () => [ingresses, classes, services, slices, secrets].every((i) => (i as Informer).hasSynced());
  const refreshCerts = (saved?: CertEntry[]) => {
    // Until every cache is filled, a partial view must not drop certificates; the saved ones serve meanwhile.
    if (!saved && !allSynced()) return;
    const certs =
      saved ??
      collectCerts(served(), (ns, name) => {
        const s = secrets.getByName(ns, name);
        return s?.type === "kubernetes.io/tls" || s?.type === undefined ? s : undefined;
      }, (ns, name) => log.warn("TLS Secret skipped: its tls.crt/tls.key are not a matching certificate and key", { secret: `${ns}/${name}` }));
    const key = JSON.stringify(certs);
    if (key === certsKey) return;
    if (!saved) saveCerts(key);
    certsKey = key;
    const old = https;
    try {
      https = certs.length ? serve(opts.httpsPort || 0, "https", certs) : undefined;
      log.info("TLS certificates loaded", { hosts: certs.map((c) => c.serverName) });
    } catch (err) {
      https = old;
      certsKey = "";
      log.warn("cannot serve HTTPS with the Ingresses' certificates", { error: err as Error });
      return;
    }
    // In-flight requests on the old listener finish; new connections already reach the new one.
    old?.stop(false);
  };
  // Coalesce bursts (a relist delivers every object) into one rebuild.
  let pending: ReturnType<typeof setTimeout> | undefined;
  const changed = () => {
    pending ??= setTimeout(() => {
      pending = undefined;
      refreshRoutes();
      refreshCerts();
    }, 20);
  };
  for (const inf of [ingresses, classes, secrets] as Informer[]) inf.addEventHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });

  if (opts.stateDir) {
    persistInformers({
      file: join(opts.stateDir, "cluster-state.json"),
      informers: { ingresses, ingressclasses: classes, services, endpointslices: slices } as Record<string, Informer>,
      log: log.child("state"),
      signal: opts.signal,
    });
    refreshRoutes();
    if (tlsFile && existsSync(tlsFile)) {
      try {
        refreshCerts(JSON.parse(readFileSync(tlsFile, "utf8")) as CertEntry[]);
      } catch (err) {
        log.warn("ignoring unreadable saved TLS certificates", { error: err as Error });
      }
    }
  }
  informers.start(opts.signal);
  const ready = informers.waitForSync(opts.signal).then(() => {
    refreshRoutes();
    refreshCerts();
    log.info("ingress proxy serving", { http: http.port, https: https?.port ?? 0 });
  });
  opts.signal.addEventListener(
    "abort",
    () => {
      if (pending) clearTimeout(pending);
      http.stop(true);
      https?.stop(true);
      dialer?.close();
    },
    { once: true },
  );
  return { httpPort: http.port ?? opts.httpPort, httpsPort: () => https?.port ?? 0, ready };
}
