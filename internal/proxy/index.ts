// The node's service proxy, as kube-proxy's nftables mode: informers on Services and EndpointSlices; on any change
// (debounced) the whole `ip kubun` table is rendered and applied in one nft transaction. No per-packet userspace
// work, and nothing is written while nothing changes. The table outlives the proxy, as the pods do (killall removes it).
//
//   await startProxy({ server, token: proxyToken, caPEM }, { nodeName, nodeIP, clusterCIDR, signal });
//   (resolves after the signal aborts; the table stays)
import type { Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import { readFileSync } from "node:fs";
import { writeAtomic } from "../api/files.ts";
import { createClient } from "../client/client.ts";
import { SharedInformerFactory } from "../client/factory.ts";
import { sleep } from "../client/informer.ts";
import { refs } from "../client/refs.ts";
import type { ClientConfig } from "../client/types.ts";
import { logger, type Logger } from "../log/log.ts";
import { SERVICE_NAME_LABEL, servicePorts, type ServicePort } from "./model.ts";
import { healthChecks, HealthCheckServers } from "./healthcheck.ts";
import { nftRunner, transaction, type NftRunner } from "./nft.ts";
import { renderRuleset, type Ruleset } from "./render.ts";

export { renderRuleset } from "./render.ts";
export { servicePorts } from "./model.ts";

export interface ProxyOptions {
  nodeName: string;
  nodeIP: string;
  /** Pod network: traffic from outside it is masqueraded. */
  clusterCIDR: string;
  /** When given, traffic to unallocated ClusterIPs is dropped instead of leaking out of the node. */
  serviceCIDR?: string;
  /** Run nft inside this named network namespace (tests). */
  netns?: string;
  signal: AbortSignal;
  /**
   * Share the Service/EndpointSlice watch with the node's other components (cluster DNS watches the same two):
   * one informer set per agent. Its client needs list/watch on both (the proxy token has it). Default: its own.
   */
  informers?: SharedInformerFactory;
  /**
   * Where the last applied table is kept (e.g. <data-dir>/agent/proxy/rules.nft). A proxy that starts while the API
   * server is unreachable applies it, so services keep working across an agent restart during an outage; the first
   * real sync replaces it. Written only when the rules change.
   */
  cacheFile?: string;
  /** Quiet period after a change before a sync (default 150 ms). */
  debounceMs?: number;
  log?: Logger;
  /** Called after every successful sync that wrote rules (tests, metrics). */
  onSync?: (info: { servicePorts: number; chains: number }) => void;
}

export async function startProxy(cfg: ClientConfig, opts: ProxyOptions): Promise<void> {
  const log = opts.log ?? logger("proxy");
  const nft = opts.netns ? nftRunner(opts.netns) : nftRunner();
  const informers = opts.informers ?? new SharedInformerFactory(createClient({ userAgent: `kube-proxy/${opts.nodeName}`, ...cfg }), { log: log.child("informer"), maxBackoffMs: 10_000 });
  const services = informers.informerFor<Service>(refs.services);
  const slices = informers.informerFor<EndpointSlice>(refs.endpointslices);
  // Same name and key ("namespace/service") as cluster DNS's index, so a shared informer keeps one.
  slices.addIndexer("service", (s) => {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    return svc ? [`${s.metadata?.namespace}/${svc}`] : [];
  });

  const desired = (): ServicePort[] => {
    const out: ServicePort[] = [];
    for (const svc of services.values()) {
      const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
      out.push(...servicePorts(svc, slices.byIndex("service", key)));
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  };

  const syncer = new Syncer(nft, log, opts, () => renderRuleset(desired(), opts));
  // Health check node ports (ETP Local LoadBalancers), from the same caches once they are complete.
  const health = new HealthCheckServers(log.child("healthcheck"), opts.netns ? `/var/run/netns/${opts.netns}` : undefined);
  let serving = false;
  const refreshHealth = () => {
    if (serving) health.update(healthChecks(services.values(), (svc) => slices.byIndex("service", `${svc.metadata?.namespace}/${svc.metadata?.name}`), opts.nodeName));
  };
  const changed = () => {
    syncer.trigger();
    refreshHealth();
  };
  for (const inf of [services, slices]) inf.addEventHandler({ onAdd: changed, onUpdate: (o, n) => o !== n && changed(), onDelete: changed });

  // Services keep working across an agent restart: a table a previous run left (pods kept running) stays in
  // place until the first sync replaces it in one transaction; with no table (a reboot), the last saved rules go
  // in at once. Either way nothing is torn down while we wait for the API server.
  if (opts.cacheFile && !(await nft.list().catch(() => undefined))) await applyCached(nft, opts.cacheFile, log);
  informers.start(opts.signal); // idempotent when the factory is shared and already running
  const synced = Promise.all([services.synced, slices.synced]);
  await Promise.race([synced, aborted(opts.signal)]);
  if (!opts.signal.aborted) {
    log.info("service proxy running", { node: opts.nodeName, nodeIP: opts.nodeIP, netns: opts.netns });
    serving = true;
    refreshHealth();
    syncer.start();
    await aborted(opts.signal);
  }
  await syncer.stop();
  health.stop();
  // The table stays, as the pods do: a stopped agent's services keep working until it is back (or killall).
  log.info("service proxy stopped; its nftables table stays for the pods that keep running");
}

async function applyCached(nft: NftRunner, file: string, log: Logger): Promise<void> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return; // nothing cached yet
  }
  try {
    await nft.apply(transaction({ text, chains: new Set(), affinitySets: new Map() }));
    log.info("no service rules in the kernel (reboot?): applied the last known ones until the API server answers", { file });
  } catch (e) {
    log.warn("could not apply the cached service rules", { file, error: e });
  }
}


function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((r) => (signal.aborted ? r() : signal.addEventListener("abort", () => r(), { once: true })));
}

/** One sync at a time; changes during a sync coalesce into the next; failures retry with backoff. */
class Syncer {
  private applied?: Ruleset;
  private dirty = false;
  private started = false;
  private timer?: ReturnType<typeof setTimeout>;
  private backoffMs = 0;
  private loop?: Promise<void>;
  private wake?: () => void;
  private stopping = false;

  constructor(
    private nft: NftRunner,
    private log: Logger,
    private opts: ProxyOptions,
    private render: () => Ruleset,
  ) {}

  start(): void {
    this.started = true;
    this.dirty = true;
    this.loop = this.run();
  }

  trigger(): void {
    this.dirty = true;
    if (!this.started || this.timer) return;
    // Debounce: wait for a quiet moment so a burst of watch events becomes one transaction.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake?.();
    }, this.opts.debounceMs ?? 150);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping && !this.opts.signal.aborted) {
      if (!this.dirty || this.timer) {
        await new Promise<void>((r) => (this.wake = r));
        this.wake = undefined;
        continue;
      }
      this.dirty = false;
      try {
        await this.syncOnce();
        this.backoffMs = 0;
      } catch (e) {
        // Unknown table state after a failure: the retry replaces the whole table.
        this.applied = undefined;
        this.dirty = true;
        this.backoffMs = Math.min(this.backoffMs ? this.backoffMs * 2 : 500, 30_000);
        this.log.error("nftables sync failed; retrying", { error: e, retryMs: this.backoffMs });
        await sleep(this.backoffMs, this.opts.signal);
      }
    }
  }

  private async syncOnce(): Promise<void> {
    const next = this.render();
    if (this.applied && this.applied.text === next.text) return; // nothing changed: write nothing
    const started = performance.now();
    const full = !this.applied;
    await this.nft.apply(transaction(next, this.applied));
    this.applied = next;
    if (this.opts.cacheFile) {
      try {
        writeAtomic(this.opts.cacheFile, next.text);
      } catch (e) {
        this.log.warn("could not save the service rules", { file: this.opts.cacheFile, error: e });
      }
    }
    this.log.debug("nftables rules synced", { chains: next.chains.size, ms: Math.round(performance.now() - started), full });
    this.opts.onSync?.({ servicePorts: [...next.chains].filter((c) => c.startsWith("svc-")).length, chains: next.chains.size });
  }
}
