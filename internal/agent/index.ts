// `kubun agent`: turns this machine into a node. Start-up reads as a list of steps, as k3s's agent:
// system setup → runtime → network → join → register node → kubelet (+ its streaming server).
import type { Node } from "kubernetes-types/core/v1";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { preflight, type HostProbe } from "./checks.ts";
import { ensureServingKey, NodeCredentialManager } from "./credentials.ts";
import { createClient } from "../client/client.ts";
import { followAPIServers, ServerPool } from "../client/servers.ts";
import { persistInformers } from "../client/snapshot.ts";
import { SharedInformerFactory } from "../client/factory.ts";
import { DEFAULT_CLUSTER_DNS, startDNS } from "../dns/index.ts";
import { startProxy } from "../proxy/index.ts";
import { startNetworkPolicies } from "../netpol/index.ts";
import { startAgentIngress, type AgentIngressOptions } from "../ingress/agent.ts";
import { runLocalPathCleanup } from "../kubelet/localpathcleanup.ts";
import { Informer } from "../client/informer.ts";
import { refs } from "../client/refs.ts";
import { CNINetwork } from "../cni/cni.ts";
import { Kubelet } from "../kubelet/kubelet.ts";
import { NodeAgent } from "../kubelet/node.ts";
import { startKubeletServer } from "../kubelet/server.ts";
import { StatsCollector } from "../kubelet/stats/collector.ts";
import { logger } from "../log/log.ts";
import type { Containerd } from "../runtime/containerd.ts";
import { prepareNode } from "./prepare.ts";
import { CtrRuntime } from "../runtime/ctr.ts";
import { loadRegistries } from "../runtime/registries.ts";

const log = logger("agent");

export interface AgentOptions {
  server: string;
  token: string;
  dataDir: string;
  nodeName?: string;
  nodeIP?: string;
  nodeLabels?: string[];
  nodeTaints?: string[];
  kubeReserved?: string;
  kubeletPort?: number;
  /** The node's ingress proxy (--ingress-http-port, --ingress-https-port, --disable ingress). */
  ingress?: AgentIngressOptions;
  signal: AbortSignal;
  // ---- extensions (tests, unusual hosts); all optional ----
  /** Use this running containerd instead of starting one. */
  containerdAddress?: string;
  /** containerd namespace (default "kubun"); tests give each node its own. */
  containerdNamespace?: string;
  /** Named netns that plays the node's network namespace for CNI (tests run nodes in test-made namespaces). */
  nodeNetns?: string;
  /** Root of container logs (default /var/log/pods). */
  podLogDir?: string;
  /** cgroup parent of pods (default /kubun). */
  cgroupRoot?: string;
  /** Address the kubelet's HTTPS server binds (default 0.0.0.0). */
  kubeletBindAddress?: string;
  /** How often the kubelet samples cgroup usage for /metrics/resource and /stats/summary (default 10 s). */
  statsIntervalMs?: number;
  /** How often the kubelet relists containerd's containers beside its event stream (default 60 s). */
  relistMs?: number;
  /** registries.yaml path (default /etc/kubun/registries.yaml). */
  registriesConfig?: string;
  clusterCIDR?: string;
  /** Service network, for the proxy's rules (default 10.43.0.0/16). */
  serviceCIDR?: string;
  clusterDNS?: string;
  /** The host the must-have checks (kubun check-config) read before anything starts; false skips them (tests). */
  hostProbe?: HostProbe | false;
  /** Steps that need no API server, started before runAgent (prepare.ts); runAgent starts them itself when absent. */
  prepared?: Promise<Containerd>;
  /** Called once the kubelet serves (tests). */
  onReady?: (info: { kubeletPort: number; nodeName: string }) => void;
}

function defaultNodeIP(): string {
  for (const addrs of Object.values(os.networkInterfaces()))
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return "127.0.0.1";
}

/** Imports OCI/docker archives from <data-dir>/agent/images once per file version (air-gapped nodes). */
async function importImages(runtime: CtrRuntime, dir: string, stateFile: string): Promise<void> {
  if (!existsSync(dir)) return;
  let done: Record<string, number> = {};
  try {
    done = JSON.parse(readFileSync(stateFile, "utf8"));
  } catch {}
  let changed = false;
  for (const f of readdirSync(dir).filter((f) => /\.(tar|tar\.gz|tgz|tar\.zst)$/.test(f))) {
    const p = join(dir, f);
    const mtime = statSync(p).mtimeMs;
    if (done[f] === mtime) continue;
    log.info("importing images", { file: p });
    await runtime.importImages(p);
    done[f] = mtime;
    changed = true;
  }
  if (changed) writeFileSync(stateFile, JSON.stringify(done));
}

export async function runAgent(opts: AgentOptions): Promise<void> {
  const { signal } = opts;
  const nodeName = (opts.nodeName ?? os.hostname()).toLowerCase();
  const nodeIP = opts.nodeIP ?? defaultNodeIP();
  const agentDir = join(opts.dataDir, "agent");
  const kubeletPort = opts.kubeletPort || 10250;

  // 0. The host has what pods need (memory cgroup, bridge, CNI plugins, …), or refuse with the fix.
  if (opts.hostProbe !== false) await preflight(opts.dataDir, opts.hostProbe);

  // 1–2. System setup and containerd: under way already when `kubun server` started them with its control plane;
  // the join (4) needs neither, so it goes on meanwhile.
  const prepared = opts.prepared ?? prepareNode(opts);
  prepared.catch(() => {}); // awaited below, after the join

  // 4. Join (cached credentials keep a restarted agent going while the server is away), through any known server.
  const servers = new ServerPool(opts.server.split(",").map((u) => u.trim()), { stateFile: join(agentDir, "servers.json"), log: log.child("servers") });
  // The node password and the kubelet's serving key go with the join; credentials are renewed in the background.
  const servingKey = await ensureServingKey(join(agentDir, "serving"));
  const credentials = new NodeCredentialManager({ server: () => servers.current(), failed: (s, e) => servers.failed(s, e), joinToken: opts.token, nodeName, dataDir: opts.dataDir, addresses: [nodeIP], servingKey });
  if (!(await credentials.start(signal))) {
    await prepared.then((c) => c.stop()).catch(() => {});
    return;
  }
  const creds = credentials.current;
  void credentials.run(signal);

  // 2b. Runtime (the version is read while the network services start).
  const registries = loadRegistries(opts.registriesConfig ?? "/etc/kubun/registries.yaml", join(agentDir, "containerd", "certs.d"));
  const containerd = await prepared;
  const runtime = new CtrRuntime({ address: containerd.address, namespace: opts.containerdNamespace, stateDir: join(agentDir, "state"), hostsDir: registries.hostsDir, plainHttp: registries.plainHttp, auth: registries.auth });
  await importImages(runtime, join(agentDir, "images"), join(agentDir, "state", "imported.json"));
  const runtimeVersion = runtime.version();
  runtimeVersion.catch(() => {}); // awaited below

  // 3. Network.
  const network = new CNINetwork({
    stateDir: join(agentDir, "cni"),
    clusterCIDR: opts.clusterCIDR,
    nodeNetns: opts.nodeNetns,
    netnsPrefix: opts.nodeNetns ? `${opts.nodeNetns}-` : undefined,
  });

  const client = createClient({ server: servers.current(), servers, token: creds.nodeToken, tokenSource: credentials.nodeToken, caPEM: creds.caPEM, userAgent: `kubelet/${nodeName}` });

  // 4b. Service proxy and cluster DNS share one Service/EndpointSlice watch, as system:kube-proxy (the node token
  // may not list endpointslices). Both keep answering from their caches while the server is away.
  let proxyDone: Promise<void> = Promise.resolve();
  if (creds.proxyToken) {
    const proxyCfg = { server: servers.current(), servers, token: creds.proxyToken, tokenSource: credentials.proxyToken, caPEM: creds.caPEM, userAgent: `kube-proxy/${nodeName}` };
    const nodeInformers = new SharedInformerFactory(createClient(proxyCfg), { maxBackoffMs: 10_000 });
    followAPIServers(nodeInformers, servers);
    // The last known Services and EndpointSlices, so cluster DNS answers after a restart while the server is away.
    persistInformers({
      file: join(agentDir, "dns", "cluster-state.json"),
      informers: { services: nodeInformers.informerFor(refs.services), endpointslices: nodeInformers.informerFor(refs.endpointslices) },
      log: log.child("state"),
      signal,
    });
    proxyDone = startProxy(proxyCfg, {
      nodeName,
      nodeIP,
      clusterCIDR: opts.clusterCIDR ?? "10.42.0.0/16",
      serviceCIDR: opts.serviceCIDR ?? "10.43.0.0/16",
      netns: opts.nodeNetns,
      informers: nodeInformers,
      cacheFile: join(agentDir, "proxy", "rules.nft"),
      signal,
    }).catch((e) => log.error("service proxy stopped with an error", { error: e }));
    // NetworkPolicies in `inet kubun-netpol`, from the same watch set (pods, namespaces, networkpolicies).
    void startNetworkPolicies({ nodeName, informers: nodeInformers, clusterDNS: opts.clusterDNS ?? DEFAULT_CLUSTER_DNS, netns: opts.nodeNetns, cacheFile: join(agentDir, "netpol", "rules.nft"), signal }).catch((e) => log.error("network policy enforcement stopped with an error", { error: e }));
    // This node answers the cluster DNS address itself (a local address), so no DNAT rule is needed for it.
    await startDNS(
      { ...proxyCfg, userAgent: `kubun-dns/${nodeName}` },
      { listen: [{ host: opts.clusterDNS ?? DEFAULT_CLUSTER_DNS, port: 53 }], addLocalAddresses: true, netns: opts.nodeNetns, informers: nodeInformers, signal },
    ).catch((e) => log.warn("cluster DNS not started", { error: e }));
  } else log.warn("no proxy credentials (cached by an older agent?): service proxy and cluster DNS not started");

  startAgentIngress({ opts: opts.ingress, servers, token: credentials.ingressToken, caPEM: creds.caPEM, nodeName, netns: opts.nodeNetns, runDir: join(agentDir, "ingress"), log: log.child("ingress"), signal });

  // 5. Kubelet: adopt what runs, before (and independent of) the API.
  const nodeAgent = new NodeAgent({
    client,
    nodeName,
    nodeIP,
    labels: opts.nodeLabels,
    taints: opts.nodeTaints,
    kubeReserved: opts.kubeReserved,
    kubeletPort,
    runtimeVersion: await runtimeVersion,
    dataDir: opts.dataDir,
  });
  const kubelet = new Kubelet({
    client,
    nodeName,
    hostIP: () => nodeIP,
    runtime,
    network,
    agentDir,
    podLogDir: opts.podLogDir,
    cgroupRoot: opts.cgroupRoot,
    clusterDNS: opts.clusterDNS,
    nodeAllocatable: () => nodeAgent.allocatable(),
    relistMs: opts.relistMs,
  });
  // The pod CIDR from a previous run lets pods (re)start before the API answers.
  const cidrFile = join(agentDir, "cni", "podcidr");
  if (existsSync(cidrFile)) await network.configure(readFileSync(cidrFile, "utf8").trim());
  const kubeletDone = kubelet.run(signal);
  const stats = new StatsCollector({ pods: () => kubelet.runningPods(), cgroupRoot: kubelet.cgroupRoot, intervalMs: opts.statsIntervalMs });
  stats.start();
  signal.addEventListener("abort", () => stats.stop(), { once: true });
  const server = await startKubeletServer({ kubelet, client, runtime, port: kubeletPort, bindAddress: opts.kubeletBindAddress, listenNetns: opts.nodeNetns ? `/var/run/netns/${opts.nodeNetns}` : undefined, certDir: join(agentDir, "serving"), nodeName, servingCert: credentials.current.servingCert ? { cert: credentials.current.servingCert, key: servingKey.keyPEM } : undefined, verificationKeys: credentials.verificationKeys, stats });
  // A renewal brings a new serving certificate (365 days each): served at once, so a node up for years stays reachable.
  credentials.onServingCert((cert) => server.setServingCert({ cert, key: servingKey.keyPEM }));

  // 6. Register the node, then follow its podCIDR and the other nodes (host-gw routes).
  await nodeAgent.register(signal);
  const nodes = new Informer<Node>(client.resource<Node>(refs.nodes), { name: "kubelet-nodes", maxBackoffMs: 10_000 });
  const onNodes = async () => {
    const me = nodes.get(nodeName);
    const cidr = me?.spec?.podCIDR;
    if (cidr && cidr !== network.podCIDR()) {
      await network.configure(cidr);
      writeFileSync(cidrFile, cidr);
      log.info("pod CIDR configured", { cidr });
    }
    const routes = nodes
      .list()
      .filter((n) => n.metadata?.name !== nodeName && n.spec?.podCIDR)
      .map((n) => ({ podCIDR: n.spec!.podCIDR!, nodeIP: n.status?.addresses?.find((a) => a.type === "InternalIP")?.address ?? "" }))
      .filter((r) => r.nodeIP);
    await network.syncRoutes(routes).catch((e) => log.warn("route sync failed", { error: e }));
  };
  let pending = Promise.resolve();
  const schedule = () => (pending = pending.then(onNodes).catch(() => {}));
  nodes.addEventHandler({ onAdd: schedule, onUpdate: schedule, onDelete: schedule });
  void nodes.run(signal);
  void nodeAgent.run(signal);
  void runLocalPathCleanup(client, nodeName, log.child("local-path"), signal).catch((e) => log.warn("local-path cleanup stopped", { error: e as Error }));
  log.info("agent running", { node: nodeName, nodeIP, kubeletPort: server.port });
  opts.onReady?.({ kubeletPort: server.port, nodeName });

  await kubeletDone;
  await proxyDone; // removes the nftables table
  server.stop();
  await runtime.close();
  // Containers live on in their shims; a containerd we started is stopped and found again next start.
  if (!opts.containerdAddress) await containerd.stop();
}
