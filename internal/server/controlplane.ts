// startControlPlane: store → PKI and tokens → bootstrap RBAC → authn/authz/admission → HTTPS API server →
// default namespaces → kubeconfigs. stop() undoes it in reverse order.
import { mkdirSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";
import { join } from "node:path";
import type { ClientConfig } from "../client/types.ts";
import { logger } from "../log/log.ts";
import type { Store } from "../store/types.ts";
import type { EtcdTLSFiles } from "../store/index.ts";
import { createServiceAllocator } from "../allocator/index.ts";
import {
  createAuthenticator,
  createAuthorizer,
  defaultSANs,
  ensurePKI,
  ensureTokens,
  joinRoutes,
  reconcileBootstrapPolicy,
  runClusterRoleAggregation,
  runNodeCredentialCleanup,
  kubeletTokenSource,
  serviceAccountIssuerRoutes,
  tokenLib,
  writeKubeconfig,
  ADMIN_USER,
} from "../auth/index.ts";
import { createApiServer } from "../apiserver/app.ts";
import type { ApiServerDeps } from "../apiserver/deps.ts";
import { instrumentStore } from "../apiserver/metrics.ts";
import * as patchLib from "../apiserver/patch/index.ts";
import * as validation from "../apiserver/validation/index.ts";
import { openapiRoutes } from "../apiserver/openapi/index.ts";
import { enableCustomResources } from "../apiextensions/index.ts";
import { websocketHandlers } from "../apiserver/subresources/wsproxy.ts";
import { toTable } from "../apiserver/tables/index.ts";
import { defaultAdmissionPlugins, ensureSystemPriorityClasses } from "../admission/index.ts";
import { ensureDefaultNamespaces } from "./bootstrap.ts";
import { ensureLocalStorage } from "./localstorage.ts";
import { ensureDefaultIngressClass } from "./ingressclass.ts";
import { serveAPI } from "./serve.ts";
import { dashboardRoutes } from "../dashboard/index.ts";

export interface ControlPlaneOptions {
  dataDir: string;
  /** 0 = random free port. */
  port: number;
  bindAddress?: string;
  advertiseAddress?: string;
  tlsSANs?: string[];
  serviceCIDR?: string;
  clusterCIDR?: string;
  writeKubeconfig?: string;
  kubeconfigMode?: number;
  etcdEndpoints?: string[];
  /** etcd client TLS files (--datastore-cafile, --datastore-certfile, --datastore-keyfile). */
  etcdTLS?: EtcdTLSFiles;
  /** Server join secret (--token). */
  token?: string;
  /** Use this store instead of opening one (tests). Not closed by stop(). */
  store?: Store;
  /** In-flight limits (upstream defaults 400 mutating / 800 read-only). */
  maxMutatingInflight?: number;
  maxReadOnlyInflight?: number;
  /** API Priority and Fairness (on by default) and the request-body deadline; tests shorten the waits. */
  flowControl?: import("../apiserver/deps.ts").FlowControlOptions;
  /** Watch bookmark period (default 30 s); tests shorten it. */
  watchBookmarkIntervalMs?: number;
  /** How often the metrics.k8s.io scraper reads every kubelet (default 15 s); tests shorten it. */
  metricsScrapeIntervalMs?: number;
  /** Where local-path volumes live on nodes (--default-local-storage-path; default <data-dir>/storage). */
  defaultLocalStoragePath?: string;
  /** Create the default IngressClass `kubun` when missing (default on; `--disable ingress` turns it off). */
  ingressClass?: boolean;
  /** Serve the built-in dashboard at /dashboard/ (default on; `--disable dashboard` turns it off). */
  dashboard?: boolean;
}

export interface ControlPlane {
  /** https://<advertise or 127.0.0.1>:<port> */
  url: string;
  /** https://127.0.0.1:<port>, what the local agent uses. */
  localURL: string;
  port: number;
  adminToken: string;
  /** The cluster CA with its key, for the controller manager's CSR signer. */
  signingCA: { certPEM: string; keyPEM: string };
  caPEM: string;
  clientConfig: ClientConfig;
  joinToken: string;
  kubeconfigPath: string;
  store: Store;
  /** Advertise address + port, for the `kubernetes` Service endpoints. */
  endpoints: { ip: string; port: number }[];
  /** Least-privilege identity for an in-process component. */
  componentConfig(name: "scheduler" | "controller-manager"): ClientConfig;
  stop(): Promise<void>;
}

function firstNonLoopbackIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}

function firstServiceIP(cidr: string): string {
  const [base] = cidr.split("/");
  const p = base!.split(".").map(Number);
  p[3] = p[3]! + 1;
  return p.join(".");
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = logger("apiserver");
  const abort = new AbortController();
  mkdirSync(join(opts.dataDir, "server", "cred"), { recursive: true, mode: 0o700 });

  let ownStore: Store | undefined;
  let rawStore = opts.store;
  if (!rawStore) {
    const { openStore } = await import("../store/index.ts");
    rawStore = ownStore = await openStore({ dataDir: opts.dataDir, etcdEndpoints: opts.etcdEndpoints, etcdTLS: opts.etcdTLS, log: log.child("store") });
  }
  const store = instrumentStore(rawStore);
  const serviceCIDR = opts.serviceCIDR ?? "10.43.0.0/16";
  const advertise = opts.advertiseAddress ?? firstNonLoopbackIPv4();

  const sans = defaultSANs({
    dns: [...(opts.tlsSANs ?? []), hostname()],
    ips: [advertise ?? "", opts.bindAddress && opts.bindAddress !== "0.0.0.0" ? opts.bindAddress : "", firstServiceIP(serviceCIDR)],
  });
  // With a shared store (HA), the first server publishes the CA and admin token there and later ones adopt them.
  const pki = await ensurePKI(opts.dataDir, { sans, store: rawStore, token: opts.token });
  const tokens = await ensureTokens(opts.dataDir, { token: opts.token, store: rawStore });

  await reconcileBootstrapPolicy(rawStore);
  const authn = createAuthenticator({ store: rawStore, dataDir: opts.dataDir, adminToken: tokens.adminToken });
  const authz = createAuthorizer({ store: rawStore });
  runClusterRoleAggregation(rawStore, authz.rbacCache, abort.signal);
  void runNodeCredentialCleanup(rawStore, abort.signal).catch((err) => log.warn("node credential cleanup not started", { err }));
  await Promise.all([authn.ready, authz.ready]);

  const allocator = createServiceAllocator(rawStore, { serviceCIDR, nodePortRange: "30000-32767" });
  allocator.startRepairLoop(60_000, abort.signal);

  const deps: ApiServerDeps = {
    store,
    authenticator: authn,
    authorizer: authz,
    admission: [],
    log,
    schema: validation,
    patch: patchLib as unknown as ApiServerDeps["patch"],
    tables: { toTable },
    tokens: tokenLib(authn),
    serviceAllocator: allocator,
    kubeletClient: { caPEM: pki.caCertPEM, tokenFor: kubeletTokenSource(authn) },
    openapi: { routes: openapiRoutes },
    maxMutatingInflight: opts.maxMutatingInflight,
    maxReadOnlyInflight: opts.maxReadOnlyInflight,
    flowControl: opts.flowControl,
    bookmarkIntervalMs: opts.watchBookmarkIntervalMs,
    metricsScrapeIntervalMs: opts.metricsScrapeIntervalMs,
  };
  deps.admission = defaultAdmissionPlugins({ store: rawStore, authorizer: authz, authenticator: authn, caPEM: pki.caCertPEM, signal: abort.signal });
  await ensureSystemPriorityClasses(rawStore);
  // CRDs already stored are served before the first request.
  const customResources = enableCustomResources(deps);
  abort.signal.addEventListener("abort", () => customResources.stop());
  await customResources.ready;

  let port = opts.port;
  const api = createApiServer(deps, {
    serverAddress: () => `${advertise ?? "127.0.0.1"}:${port}`,
    publicRoutes: [
      { prefix: "/", app: joinRoutes({ dataDir: opts.dataDir, store: rawStore, onIssued: () => authn.flushCache() }) },
      // The built-in dashboard's static files (--disable dashboard turns it off); its data calls are ordinary API calls.
      ...(opts.dashboard === false ? [] : [{ prefix: "/dashboard", app: dashboardRoutes() }]),
    ],
    routes: [serviceAccountIssuerRoutes(authn, { externalURL: () => `https://${advertise ?? "127.0.0.1"}:${port}` })],
  });

  let server: ReturnType<typeof serveAPI>;
  try {
    server = serveAPI({
      port: opts.port,
      hostname: opts.bindAddress ?? "0.0.0.0",
      tls: { cert: pki.serverCertPEM, key: pki.serverKeyPEM },
      socketDir: join(opts.dataDir, "server"),
      maxRequestBodySize: 16 * 1024 * 1024,
      app: api.app,
      websocket: websocketHandlers,
    });
  } catch (err) {
    // Leave nothing running behind a failed start (timers, watches, the database).
    abort.abort();
    api.stop();
    authz.close();
    if (ownStore) await ownStore.close();
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot serve the API on ${opts.bindAddress ?? "0.0.0.0"}:${opts.port}: ${why}`);
  }
  port = server.port;

  await ensureDefaultNamespaces(deps, ADMIN_USER);
  // Independent of each other (both need the namespaces): written together.
  await Promise.all([
    ensureLocalStorage(deps, ADMIN_USER, opts.defaultLocalStoragePath ?? join(opts.dataDir, "storage")),
    opts.ingressClass !== false ? ensureDefaultIngressClass(deps, ADMIN_USER) : undefined,
  ]);
  api.markReady();

  const localURL = `https://127.0.0.1:${port}`;
  const url = advertise ? `https://${advertise}:${port}` : localURL;
  const kubeconfigPath = opts.writeKubeconfig ?? join(opts.dataDir, "server", "cred", "admin.kubeconfig");
  const kcMode = opts.kubeconfigMode ?? 0o600;
  writeKubeconfig(join(opts.dataDir, "server", "cred", "admin.kubeconfig"), { server: localURL, caPEM: pki.caCertPEM, token: tokens.adminToken, mode: 0o600 });
  if (opts.writeKubeconfig) writeKubeconfig(opts.writeKubeconfig, { server: localURL, caPEM: pki.caCertPEM, token: tokens.adminToken, mode: kcMode });

  const [schedulerToken, controllerManagerToken] = await Promise.all([authn.issueComponentToken("scheduler"), authn.issueComponentToken("controller-manager")]);
  const componentTokens = { scheduler: schedulerToken, "controller-manager": controllerManagerToken };
  const clientConfig: ClientConfig = { server: localURL, token: tokens.adminToken, caPEM: pki.caCertPEM };
  log.info("API server listening", { url, port });

  let stopped = false;
  return {
    url,
    localURL,
    port,
    adminToken: tokens.adminToken,
    caPEM: pki.caCertPEM,
    signingCA: { certPEM: pki.caCertPEM, keyPEM: pki.caKeyPEM },
    clientConfig,
    joinToken: tokens.joinToken,
    kubeconfigPath,
    store: rawStore,
    endpoints: [{ ip: advertise ?? "127.0.0.1", port }],
    // In-process components call the API's handler directly: the GC alone watches ~50 resources, and every watch
    // event and request through a socket cost a write, a read and HTTP framing on both ends (memory and CPU).
    componentConfig: (name) => ({ server: localURL, token: componentTokens[name], caPEM: pki.caCertPEM, userAgent: `kube-${name}`, localFetch: (req) => api.app.fetch(req, {}) }),
    async stop() {
      if (stopped) return;
      stopped = true;
      abort.abort();
      // End watch streams first so clients see a clean end of stream, then close the listener.
      api.stop();
      await server.stop();
      authz.close();
      if (ownStore) await ownStore.close();
    },
  };
}
