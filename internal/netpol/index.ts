// NetworkPolicy enforcement on this node: informers on NetworkPolicies, Pods and Namespaces (the agent's shared
// factory); on any change (debounced) the whole `inet kubun-netpol` table is rendered and replaced with ONE
// `nft -f -` (one kernel transaction). The last applied table is cached on disk and the table is left in place
// when the agent stops, so policies keep holding across an agent restart while the API server is away.
//
//   await startNetworkPolicies({ nodeName, informers, clusterDNS, cacheFile, signal });
import type { Namespace, Pod } from "kubernetes-types/core/v1";
import type { NetworkPolicy } from "kubernetes-types/networking/v1";
import { readFileSync } from "node:fs";
import { writeAtomic } from "../api/files.ts";
import type { SharedInformerFactory } from "../client/factory.ts";
import { sleep } from "../client/informer.ts";
import { refs } from "../client/refs.ts";
import { logger, type Logger } from "../log/log.ts";
import { run } from "../runtime/run.ts";
import { podInfo, podPolicies, type PodInfo } from "./model.ts";
import { netpolTransaction, renderNetpol, TABLE } from "./render.ts";

export { podPolicies } from "./model.ts";
export { renderNetpol } from "./render.ts";

export interface NetpolOptions {
  nodeName: string;
  /** Needs list/watch on pods, namespaces and networkpolicies (system:kube-proxy has it: system:kubun-network-policy). */
  informers: SharedInformerFactory;
  /**
   * The node-local cluster DNS address (10.43.0.10). Policies see it as a kube-system pod labelled
   * k8s-app=kube-dns with ports dns/53 UDP and dns-tcp/53 TCP, as k3s's CoreDNS pods, so the usual
   * "allow DNS to kube-system" egress rule works.
   */
  clusterDNS?: string;
  /** Where the last applied table is kept (<data-dir>/agent/netpol/rules.nft); applied at start when the kernel has none. */
  cacheFile?: string;
  /** Run nft inside this named network namespace (tests). */
  netns?: string;
  debounceMs?: number;
  signal: AbortSignal;
  log?: Logger;
  onSync?: (info: { pods: number }) => void;
}

function dnsPseudoPod(ip: string): PodInfo {
  return {
    namespace: "kube-system",
    name: "kubun-cluster-dns",
    ip,
    labels: Object.assign(Object.create(null), { "k8s-app": "kube-dns" }),
    namedPorts: [
      { name: "dns", port: 53, protocol: "udp" },
      { name: "dns-tcp", port: 53, protocol: "tcp" },
    ],
  };
}

export async function startNetworkPolicies(opts: NetpolOptions): Promise<void> {
  const log = opts.log ?? logger("netpol");
  const nft = (args: string[], stdin?: string) => run([...(opts.netns ? ["ip", "netns", "exec", opts.netns] : []), "nft", ...args], { stdin, timeoutMs: 30_000, allowFail: stdin === undefined });
  const policies = opts.informers.informerFor<NetworkPolicy>(refs.networkpolicies);
  const pods = opts.informers.informerFor<Pod>(refs.pods);
  const namespaces = opts.informers.informerFor<Namespace>(refs.namespaces);

  const render = () => {
    const infos = pods.list().map(podInfo).filter((p): p is PodInfo => !!p);
    if (opts.clusterDNS) infos.push(dnsPseudoPod(opts.clusterDNS));
    return renderNetpol(podPolicies({ policies: policies.list(), pods: infos, namespaces: namespaces.list() }, opts.nodeName));
  };

  // A table a previous run left stays until the first sync replaces it; with none (a reboot), the cached one goes in.
  if (opts.cacheFile && (await nft(["list", "table", "inet", TABLE])).code !== 0) {
    try {
      await nft(["-f", "-"], netpolTransaction({ text: readFileSync(opts.cacheFile, "utf8"), pods: 0 }));
      log.info("no network policy rules in the kernel (reboot?): applied the last known ones until the API server answers", { file: opts.cacheFile });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") log.warn("could not apply the cached network policy rules", { file: opts.cacheFile, error: e });
    }
  }

  let applied: string | undefined;
  let dirty = true;
  let wake: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ready = false;
  const changed = () => {
    dirty = true;
    if (!ready || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      wake?.();
    }, opts.debounceMs ?? 100);
  };
  for (const inf of [policies, pods, namespaces]) inf.addEventHandler({ onAdd: changed, onUpdate: (o: unknown, n: unknown) => o !== n && changed(), onDelete: changed });
  opts.informers.start(opts.signal);
  await Promise.race([Promise.all([policies.synced, pods.synced, namespaces.synced]), sleepUntilAbort(opts.signal)]);
  ready = true;
  const stop = () => wake?.();
  opts.signal.addEventListener("abort", stop, { once: true });
  if (!opts.signal.aborted) log.info("network policies enforced", { node: opts.nodeName, netns: opts.netns });
  let backoffMs = 0;
  while (!opts.signal.aborted) {
    if (!dirty || timer) {
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
      continue;
    }
    dirty = false;
    const next = render();
    if (next.text === applied) continue;
    try {
      await nft(["-f", "-"], netpolTransaction(next));
      applied = next.text;
      backoffMs = 0;
      if (opts.cacheFile) {
        try {
          writeAtomic(opts.cacheFile, next.text);
        } catch (e) {
          log.warn("could not save the network policy rules", { file: opts.cacheFile, error: e });
        }
      }
      log.debug("network policy rules synced", { pods: next.pods });
      opts.onSync?.({ pods: next.pods });
    } catch (e) {
      dirty = true;
      backoffMs = Math.min(backoffMs ? backoffMs * 2 : 500, 30_000);
      log.error("network policy sync failed; retrying", { error: e, retryMs: backoffMs });
      await sleep(backoffMs, opts.signal);
    }
  }
  if (timer) clearTimeout(timer);
  // The table stays, as the pods do: isolation holds while the agent is down (killall removes it).
  log.info("network policy enforcement stopped; its nftables table stays for the pods that keep running");
}

function sleepUntilAbort(signal: AbortSignal): Promise<void> {
  return new Promise((r) => (signal.aborted ? r() : signal.addEventListener("abort", () => r(), { once: true })));
}
