// Pod networking with the standard CNI plugins run directly (no CRI): loopback, bridge "kubun0" with host-local
// IPAM on the node's podCIDR, portmap for hostPort; host-gw routes to other nodes; masquerade of pod traffic
// leaving the cluster CIDR with one nft table. Results are cached on disk for DEL and for agent restarts.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { logger } from "../log/log.ts";
import { addNetns, delNetns } from "../runtime/netns.ts";
import { run, type RunOptions } from "../runtime/run.ts";
import { loopbackUp } from "./loopback.ts";
import type { Network, NodeRoute, PodNetwork, PodNetworkRequest } from "./types.ts";

const log = logger("cni");
/** Routes we own carry this protocol number, so a resync removes only ours. */
const ROUTE_PROTO = "75";

export interface CNIOptions {
  /** Where CNI state (IPAM leases, cached results) lives, e.g. <data-dir>/agent/cni */
  stateDir: string;
  pluginDir?: string;
  bridge?: string;
  clusterCIDR?: string;
  /** Named network namespace that plays the node's host namespace (tests); undefined = this process's namespace. */
  nodeNetns?: string;
  /** Prefix of pod namespace names (/var/run/netns/<prefix><uid>). */
  netnsPrefix?: string;
}

interface Cached {
  netnsPath: string;
  ips: string[];
  results: { bridge?: any; portmap?: any };
  config: any;
}

export class CNINetwork implements Network {
  private cidr?: string;
  private readonly pluginDir: string;
  private readonly bridge: string;
  private readonly prefix: string;

  constructor(private opts: CNIOptions) {
    this.pluginDir = opts.pluginDir ?? "/usr/lib/cni";
    this.bridge = opts.bridge ?? "kubun0";
    this.prefix = opts.netnsPrefix ?? "kubun-";
    mkdirSync(join(opts.stateDir, "results"), { recursive: true });
    mkdirSync(join(opts.stateDir, "netns"), { recursive: true });
  }

  /** Marks a pod namespace as made by this node before it exists: several agents on one host (tests) or a
   *  killall must never take another node's namespace for an orphan of theirs. */
  private markerPath(uid: string): string {
    return join(this.opts.stateDir, "netns", uid);
  }

  /** A namespace this node made (marked), or one of a pod this agent has a directory for (<agent>/pods/<uid>). */
  private ours(uid: string): boolean {
    return existsSync(this.markerPath(uid)) || existsSync(join(this.opts.stateDir, "..", "pods", uid));
  }

  /** Runs a command in the node's namespace (spawned from inside it: no nsenter process per plugin call). */
  private host(argv: string[], o: RunOptions = {}) {
    return run(argv, this.opts.nodeNetns ? { ...o, netns: `/var/run/netns/${this.opts.nodeNetns}` } : o);
  }

  podCIDR(): string | undefined {
    return this.cidr;
  }

  async configure(podCIDR: string): Promise<void> {
    this.cidr = podCIDR;
    await this.host(["sysctl", "-qw", "net.ipv4.ip_forward=1"], { allowFail: true });
    const cluster = this.opts.clusterCIDR ?? "10.42.0.0/16";
    // Pods reach the world through the node's address; traffic between pods keeps pod IPs.
    const rules = `table ip kubun-nat
delete table ip kubun-nat
table ip kubun-nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${cluster} ip daddr != ${cluster} masquerade
  }
}
`;
    await this.host(["nft", "-f", "-"], { stdin: rules, allowFail: true }).then((r) => {
      if (r.code !== 0) log.warn("could not install masquerade rules", { error: r.stderr.trim() });
    });
  }

  private netnsName(uid: string): string {
    return `${this.prefix}${uid}`;
  }

  private cachePath(uid: string): string {
    return join(this.opts.stateDir, "results", `${uid}.json`);
  }

  get(uid: string): PodNetwork | undefined {
    try {
      const c = JSON.parse(readFileSync(this.cachePath(uid), "utf8")) as Cached;
      if (!existsSync(c.netnsPath)) return undefined;
      return { netnsPath: c.netnsPath, ips: c.ips };
    } catch {
      return undefined;
    }
  }

  /** Pods with a cached network result, or only a namespace this node made left behind (a crash between creating it and ADD). */
  list(): string[] {
    const uids = new Set(
      readdirSync(join(this.opts.stateDir, "results"))
        .filter((f) => f.endsWith(".json"))
        .map((f) => f.slice(0, -5)),
    );
    const uid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    if (existsSync("/var/run/netns"))
      for (const ns of readdirSync("/var/run/netns"))
        if (ns.startsWith(this.prefix) && uid.test(ns.slice(this.prefix.length)) && this.ours(ns.slice(this.prefix.length))) uids.add(ns.slice(this.prefix.length));
    return [...uids];
  }

  private async plugin(type: string, command: "ADD" | "DEL" | "CHECK", uid: string, netnsPath: string, ifname: string, config: any): Promise<any> {
    const r = await this.host([join(this.pluginDir, type)], {
      stdin: JSON.stringify(config),
      allowFail: true,
      timeoutMs: 60_000,
      env: {
        PATH: process.env.PATH,
        CNI_COMMAND: command,
        CNI_CONTAINERID: uid,
        CNI_NETNS: netnsPath,
        CNI_IFNAME: ifname,
        CNI_PATH: this.pluginDir,
      },
    });
    if (r.code !== 0) {
      let msg = r.stdout || r.stderr;
      try {
        const e = JSON.parse(r.stdout);
        msg = `${e.msg}${e.details ? `: ${e.details}` : ""}`;
      } catch {}
      throw new Error(`CNI ${type} ${command} failed: ${msg.trim()}`);
    }
    return r.stdout.trim() ? JSON.parse(r.stdout) : {};
  }

  private netConfig(name: string, extra: any): any {
    return { cniVersion: "1.0.0", name: "kubun", ...extra, type: name };
  }

  async setup(req: PodNetworkRequest): Promise<PodNetwork> {
    const existing = this.get(req.uid);
    if (existing) return existing;
    if (!this.cidr) throw new Error("node has no podCIDR yet");
    const name = this.netnsName(req.uid);
    const netnsPath = `/var/run/netns/${name}`;
    if (!existsSync(netnsPath)) {
      writeFileSync(this.markerPath(req.uid), "");
      await addNetns(name);
    }
    req.onNamespace?.(netnsPath);
    const bridgeConf = this.netConfig("bridge", {
      bridge: this.bridge,
      isGateway: true,
      ipMasq: false,
      hairpinMode: true,
      ipam: {
        type: "host-local",
        ranges: [[{ subnet: this.cidr }]],
        routes: [{ dst: "0.0.0.0/0" }],
        dataDir: join(this.opts.stateDir, "networks"),
      },
    });
    try {
      // What the loopback plugin does, without spawning it (or `ip`).
      loopbackUp(netnsPath);
      const bridge = await this.plugin("bridge", "ADD", req.uid, netnsPath, "eth0", bridgeConf);
      const results: Cached["results"] = { bridge };
      if (req.portMappings.length) {
        const pmConf = this.netConfig("portmap", {
          capabilities: { portMappings: true },
          runtimeConfig: { portMappings: req.portMappings },
          prevResult: bridge,
          snat: true,
        });
        results.portmap = await this.plugin("portmap", "ADD", req.uid, netnsPath, "eth0", pmConf);
      }
      const ips = (bridge.ips ?? []).map((i: any) => String(i.address).split("/")[0]);
      const cached: Cached = { netnsPath, ips, results, config: { bridge: bridgeConf, portMappings: req.portMappings } };
      writeFileSync(this.cachePath(req.uid), JSON.stringify(cached));
      log.info("pod network up", { pod: `${req.namespace}/${req.name}`, ips });
      return { netnsPath, ips };
    } catch (e) {
      await this.teardownWith(req.uid, netnsPath, { bridge: bridgeConf, portMappings: req.portMappings }, {}).catch(() => {});
      throw e;
    }
  }

  private async teardownWith(uid: string, netnsPath: string, config: any, results: Cached["results"]): Promise<void> {
    if (config.portMappings?.length) {
      await this.plugin("portmap", "DEL", uid, netnsPath, "eth0", this.netConfig("portmap", {
        capabilities: { portMappings: true },
        runtimeConfig: { portMappings: config.portMappings },
        prevResult: results.bridge,
        snat: true,
      })).catch((e) => log.warn("portmap DEL failed", { uid, error: e }));
    }
    await this.plugin("bridge", "DEL", uid, existsSync(netnsPath) ? netnsPath : "", "eth0", { ...config.bridge, prevResult: results.bridge }).catch((e) =>
      log.warn("bridge DEL failed", { uid, error: e }),
    );
    delNetns(netnsPath.split("/").pop()!);
  }

  async teardown(uid: string): Promise<void> {
    let cached: Cached | undefined;
    try {
      cached = JSON.parse(readFileSync(this.cachePath(uid), "utf8"));
    } catch {}
    const netnsPath = cached?.netnsPath ?? `/var/run/netns/${this.netnsName(uid)}`;
    if (cached) await this.teardownWith(uid, netnsPath, cached.config, cached.results);
    else delNetns(this.netnsName(uid));
    rmSync(this.cachePath(uid), { force: true });
    rmSync(this.markerPath(uid), { force: true });
  }

  async syncRoutes(routes: NodeRoute[]): Promise<void> {
    const want = new Map(routes.filter((r) => r.podCIDR !== this.cidr).map((r) => [r.podCIDR, r.nodeIP]));
    const cur = await this.host(["ip", "-4", "route", "show", "proto", ROUTE_PROTO], { allowFail: true });
    const have = new Map<string, string>();
    for (const l of cur.stdout.split("\n")) {
      const m = /^(\S+) via (\S+)/.exec(l.trim());
      if (m) have.set(m[1]!, m[2]!);
    }
    for (const [cidr, via] of want)
      if (have.get(cidr) !== via) {
        const r = await this.host(["ip", "route", "replace", cidr, "via", via, "proto", ROUTE_PROTO], { allowFail: true });
        if (r.code !== 0) log.warn("could not add route", { cidr, via, error: r.stderr.trim() });
      }
    for (const cidr of have.keys()) if (!want.has(cidr)) await this.host(["ip", "route", "del", cidr, "proto", ROUTE_PROTO], { allowFail: true });
  }
}
