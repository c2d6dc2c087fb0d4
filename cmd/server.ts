// kubun server: the control plane (API server, scheduler, controller manager), then — unless
// --disable-agent — a local agent pointed at itself, as `k3s server` does.
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { createClient } from "../internal/client/client.ts";
import { refs } from "../internal/client/refs.ts";
import { ApiError, type ClientConfig } from "../internal/client/types.ts";
import { serverFlags } from "../internal/config/flags.ts";
import { UsageError, type Settings } from "../internal/config/load.ts";
import { logger } from "../internal/log/log.ts";
import { agentOptions } from "./agent.ts";
import { commandFromFlags } from "./command.ts";
import { joinTokenFrom } from "./tokensource.ts";
import { notifyReady } from "./notify.ts";
import { collectStartupCodeLater, releaseStartupPagesLater } from "./startuppages.ts";
import { untilSignal } from "./signals.ts";
import { checkSnapshotSchedule } from "../internal/ops/snapshotschedule.ts";

const log = logger("server");

function parseMode(s: Settings): number {
  const mode = String(s["write-kubeconfig-mode"]);
  if (!/^0?[0-7]{3}$/.test(mode)) throw new UsageError(`--write-kubeconfig-mode: want an octal mode like 0600, got ${JSON.stringify(mode)}`);
  return parseInt(mode, 8);
}

function checkCIDR(flag: string, value: string): void {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 30) {
    throw new UsageError(`--${flag}: want an IPv4 CIDR like 10.43.0.0/16, got ${JSON.stringify(value)}`);
  }
}

/**
 * Marks the server's own node with the control-plane role once it has registered. The kubelet may not set
 * node-role labels itself (NodeRestriction), so the server does it with its own credentials, as k3s does.
 */
async function labelControlPlaneNode(cfg: ClientConfig, nodeName: string, signal: AbortSignal): Promise<void> {
  const nodes = createClient(cfg).resource(refs.nodes);
  const labels = { "node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true" };
  for (let delay = 500; !signal.aborted; delay = Math.min(delay * 2, 10_000)) {
    try {
      await nodes.patch(nodeName, "merge", { metadata: { labels } });
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) log.warn("labelling the control-plane node failed; retrying", { node: nodeName, error: err });
    }
    await Bun.sleep(delay);
  }
}

/** --datastore-cafile/-certfile/-keyfile: readable files, cert and key together (checked before anything starts). */
function datastoreTLS(s: Settings): { caFile?: string; certFile?: string; keyFile?: string } | undefined {
  const [caFile, certFile, keyFile] = (["datastore-cafile", "datastore-certfile", "datastore-keyfile"] as const).map((k) => (s[k] ? String(s[k]) : undefined));
  if (!caFile && !certFile && !keyFile) return undefined;
  if (!s["datastore-endpoint"]) throw new UsageError("--datastore-cafile/--datastore-certfile/--datastore-keyfile need --datastore-endpoint (etcd)");
  if (!certFile !== !keyFile) throw new UsageError("--datastore-certfile and --datastore-keyfile go together");
  for (const [flag, f] of [["datastore-cafile", caFile], ["datastore-certfile", certFile], ["datastore-keyfile", keyFile]] as const) {
    if (f && !existsSync(f)) throw new UsageError(`--${flag}: no such file ${JSON.stringify(f)}`);
  }
  return { caFile, certFile, keyFile };
}

/** --snapshot-schedule-cron/-retention/-dir, checked before anything starts; undefined with --disable-snapshots. */
function snapshotSettings(s: Settings): { cron: string; retention: number; dir?: string } | undefined {
  if (s["disable-snapshots"]) return undefined;
  const cron = String(s["snapshot-schedule-cron"]);
  const retention = Number(s["snapshot-retention"]);
  try {
    checkSnapshotSchedule(cron, retention);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return { cron, retention, dir: s["snapshot-dir"] ? String(s["snapshot-dir"]) : undefined };
}

export const serverCommand = commandFromFlags("server", "Run the control plane (and a local agent)", serverFlags, async (s) => {
  checkCIDR("service-cidr", String(s["service-cidr"]));
  checkCIDR("cluster-cidr", String(s["cluster-cidr"]));
  const port = Number(s["https-listen-port"]);
  if (port < 1 || port > 65535) throw new UsageError(`--https-listen-port: want 1-65535, got ${port}`);
  const kubeconfigMode = parseMode(s);
  const etcdEndpoints = s["datastore-endpoint"] ? String(s["datastore-endpoint"]).split(",").map((e) => e.trim()) : undefined;
  const etcdTLS = datastoreTLS(s);
  const snapshots = snapshotSettings(s);
  const signal = untilSignal();
  const started = performance.now();

  // The local agent's must-haves are checked before the API server starts: refuse with the fix, not half a node.
  if (!s["disable-agent"]) await (await import("../internal/agent/checks.ts")).preflight(String(s["data-dir"]));
  // The node's containerd starts alongside the control plane (another process: it uses the other core meanwhile).
  const prepared = s["disable-agent"] ? undefined : (await import("../internal/agent/prepare.ts")).prepareNode({ dataDir: String(s["data-dir"]) });
  prepared?.catch(() => {}); // runAgent reports it
  const { startControlPlane } = await import("../internal/server/controlplane.ts");
  const cp = await startControlPlane({
    dataDir: String(s["data-dir"]),
    port,
    bindAddress: String(s["bind-address"]),
    advertiseAddress: (s["advertise-address"] ?? s["node-ip"]) as string | undefined,
    tlsSANs: (s["tls-san"] as string[] | undefined) ?? [],
    serviceCIDR: String(s["service-cidr"]),
    clusterCIDR: String(s["cluster-cidr"]),
    writeKubeconfig: String(s["write-kubeconfig"]),
    kubeconfigMode,
    etcdEndpoints,
    etcdTLS,
    token: joinTokenFrom(s, log),
    defaultLocalStoragePath: s["default-local-storage-path"] ? String(s["default-local-storage-path"]) : undefined,
    ingressClass: !((s.disable as string[] | undefined) ?? []).includes("ingress"),
    // --disable names manifests and built-in components alike (k3s's --disable traefik).
    dashboard: !((s.disable as string[] | undefined) ?? []).includes("dashboard"),
  }).catch(async (err) => {
    // No containerd left behind by a server that did not start.
    await prepared?.then((c) => c.stop()).catch(() => {});
    throw err;
  });
  log.info("API server ready", { url: cp.url, kubeconfig: cp.kubeconfigPath, ms: Math.round(performance.now() - started) });

  const identity = `${hostname()}_${crypto.randomUUID()}`;
  const stops: Promise<unknown>[] = [];
  const { runServerOps } = await import("../internal/ops/serverops.ts");
  stops.push(runServerOps({ dataDir: String(s["data-dir"]), snapshots, etcdEndpoints, etcdTLS, nodeName: s["node-name"] as string | undefined, signal }));
  // k3s's auto-deploying manifests: <data-dir>/server/manifests applied now and on every change.
  const { startDeployController } = await import("../internal/deploy/index.ts");
  void startDeployController({
    client: createClient({ ...cp.clientConfig, userAgent: "kubun-deploy" }),
    dir: join(String(s["data-dir"]), "server", "manifests"),
    disable: (s.disable as string[] | undefined) ?? [],
    signal,
  }).catch((err) => log.error("manifests directory not started", { err: err instanceof Error ? err.message : String(err) }));
  // The local node comes up first: the scheduler and controller manager (dozens of informers listing and
  // watching) start once it has registered, or after 2 s, so they do not compete with it for the one JS thread.
  let nodeUp = () => {};
  const gate = s["disable-agent"] ? Promise.resolve() : Promise.race([new Promise<void>((r) => (nodeUp = r)), Bun.sleep(2000), new Promise((r) => signal.addEventListener("abort", r, { once: true }))]);
  if (!s["disable-agent"]) {
    const { runAgent } = await import("../internal/agent/index.ts");
    stops.push(
      runAgent({
        ...agentOptions(s, cp.localURL, cp.joinToken, signal),
        prepared,
        clusterCIDR: String(s["cluster-cidr"]),
        serviceCIDR: String(s["service-cidr"]),
        hostProbe: false,
        onReady: () => {
          nodeUp();
          notifyReady("server and local agent ready");
          void releaseStartupPagesLater(signal);
          void collectStartupCodeLater(signal);
        },
      }),
    );
    void labelControlPlaneNode(cp.clientConfig, String(s["node-name"] ?? hostname()).toLowerCase(), signal);
  } else {
    notifyReady("server ready");
    void releaseStartupPagesLater(signal);
    void collectStartupCodeLater(signal);
  }
  const startComponents = async (): Promise<unknown> => {
    await gate;
    if (signal.aborted) return;
    const running: Promise<unknown>[] = [];
    if (!s["disable-scheduler"]) {
      const { startScheduler } = await import("../internal/scheduler/index.ts");
      running.push(startScheduler(cp.componentConfig("scheduler"), { identity, signal }));
    }
    if (!s["disable-controller-manager"]) {
      const { startControllerManager } = await import("../internal/controllers/index.ts");
      running.push(
        startControllerManager(cp.componentConfig("controller-manager"), {
          identity,
          serviceCIDR: String(s["service-cidr"]),
          clusterCIDR: String(s["cluster-cidr"]),
          apiServerEndpoints: cp.endpoints,
          signingCA: cp.signingCA,
          // k3s's --disable servicelb: LoadBalancer Services are left to another load balancer.
          disabled: ((s.disable as string[] | undefined) ?? []).filter((c) => c === "servicelb"),
          signal,
        }),
      );
    }
    return Promise.allSettled(running);
  };
  stops.push(startComponents());

  await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  // Components step down (releasing their Leases) before the API goes away; a stuck one must not hold the exit.
  const graceful = await Promise.race([Promise.allSettled(stops).then(() => true), Bun.sleep(20_000).then(() => false)]);
  if (!graceful) log.warn("components did not stop within 20 s; stopping the API server anyway");
  await Promise.race([cp.stop(), Bun.sleep(10_000)]);
  process.exit(0);
});
