// kubun killall / kubun uninstall (k3s-killall.sh and k3s-uninstall.sh as subcommands): stop kubun and everything
// it started on this node — containers and their shims, pod volumes and network namespaces, the CNI bridge, the routes
// and nftables tables it added — while keeping its data (killall), or also remove every file install.sh put down
// (uninstall). Only what belongs to this data dir is touched: shims of its containerd, namespaces of its pods.
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { logger } from "../log/log.ts";
import { nftRunner } from "../proxy/nft.ts";
import { run } from "../runtime/run.ts";

const log = logger("killall");
/** The cluster DNS address every node makes local (DEFAULT_CLUSTER_DNS of internal/dns). */
const CLUSTER_DNS = "10.43.0.10";

export interface KillallOptions {
  dataDir: string;
  /** Service name (INSTALL_KUBUN_NAME): systemd units <name>.service and <name>-agent.service, OpenRC <name>. */
  name?: string;
  /** Where the background (no init system) process's pid is kept; default <data-dir>/kubun.pid. */
  pidFile?: string;
  /** Root of /etc, /run/systemd etc. (INSTALL_KUBUN_ROOT, for tests and packaging); default "/". */
  root?: string;
  /** Route protocol number, bridge and table names the agent uses. */
  bridge?: string;
}

/** Each line is what was done; the caller prints them. */
export type Report = string[];

interface Proc {
  pid: number;
  ppid: number;
  argv: string[];
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").filter(Boolean);
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      out.push({ pid: Number(d), ppid, argv });
    } catch {}
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = pids.filter(alive);
  while (left.length && Date.now() < deadline) {
    await Bun.sleep(100);
    left = left.filter(alive);
  }
  return left;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {}
}

/** pid and all its descendants, children first. */
function tree(procs: Proc[], pid: number): number[] {
  const kids = procs.filter((p) => p.ppid === pid).flatMap((p) => tree(procs, p.pid));
  return [...kids, pid];
}

function isSystemd(root: string): boolean {
  return root === "/" && existsSync("/run/systemd/system") && !!Bun.which("systemctl");
}

function isOpenRC(root: string): boolean {
  return root === "/" && existsSync("/run/openrc") && !!Bun.which("rc-service");
}

/** Stops the kubun service (systemd, OpenRC) or the background process of the pid file. */
async function stopKubun(o: Required<KillallOptions>, report: Report): Promise<void> {
  if (isSystemd(o.root)) {
    for (const unit of [`${o.name}.service`, `${o.name}-agent.service`]) {
      const r = await run(["systemctl", "stop", unit], { allowFail: true });
      if (r.code === 0) report.push(`stopped ${unit}`);
    }
  }
  if (isOpenRC(o.root)) {
    for (const svc of [o.name, `${o.name}-agent`])
      if (existsSync(`/etc/init.d/${svc}`) && (await run(["rc-service", svc, "stop"], { allowFail: true })).code === 0) report.push(`stopped OpenRC service ${svc}`);
  }
  // install.sh's pid file (no init system), and the one every kubun server keeps in its data dir (a server started
  // by hand); the latter is the server's own, removed by it on exit.
  for (const file of [o.pidFile, join(o.dataDir, "server", "kubun.pid")]) {
    if (!existsSync(file)) continue;
    const pid = Number(readFileSync(file, "utf8").trim());
    if (Number.isInteger(pid) && pid > 1 && pid !== process.pid && alive(pid) && isKubun(pid)) {
      signal(pid, "SIGTERM");
      if ((await waitGone([pid], 30_000)).length) signal(pid, "SIGKILL");
      await waitGone([pid], 5000);
      report.push(`stopped kubun (pid ${pid})`);
    }
    if (file === o.pidFile) rmSync(file, { force: true });
  }
}

/** A pid file may be stale and its pid reused: only a kubun server or agent is stopped. */
function isKubun(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.some((a) => a === "server" || a === "agent");
  } catch {
    return false;
  }
}

/** Kills every container of this node (the process trees of the shims of our containerd), then that containerd. */
async function killContainers(o: Required<KillallOptions>, report: Report): Promise<void> {
  const cdir = join(o.dataDir, "agent", "containerd");
  const address = join(cdir, "containerd.sock");
  const procs = processes();
  const shims = procs.filter((p) => /containerd-shim/.test(p.argv[0] ?? "") && p.argv.includes(address));
  const victims = [...new Set(shims.flatMap((s) => tree(procs, s.pid)))];
  for (const pid of victims) signal(pid, "SIGKILL");
  await waitGone(victims, 10_000);
  if (shims.length) report.push(`killed ${shims.length} shim(s) and ${victims.length - shims.length} container process(es)`);
  // ctr helpers of a kubun that died without cleaning up (event watchers, execs) talk to our socket too.
  const helpers = processes().filter((p) => /(^|\/)ctr$/.test(p.argv[0] ?? "") && p.argv.includes(address));
  for (const h of helpers) signal(h.pid, "SIGKILL");
  const ours = procs.filter((p) => /(^|\/)containerd$/.test(p.argv[0] ?? "") && p.argv.includes(join(cdir, "config.toml")));
  for (const c of ours) signal(c.pid, "SIGTERM");
  const left = await waitGone(ours.map((c) => c.pid), 15_000);
  for (const pid of left) signal(pid, "SIGKILL");
  if (ours.length) report.push(`stopped containerd (pid ${ours.map((c) => c.pid).join(", ")})`);
}

/** Unescapes a mountinfo path (\040 for a space etc.). */
function unescape(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points at or below dir in this mount namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  const base = existsSync(dir) ? realpathSync(dir) : dir;
  const out = new Set<string>();
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const mp = line.split(" ")[4];
    if (!mp) continue;
    const p = unescape(mp);
    if (p === base || p.startsWith(base + "/")) out.add(p);
  }
  return [...out].sort((a, b) => b.length - a.length);
}

async function unmountAll(dir: string, report: Report): Promise<void> {
  // Repeated: a path may be mounted over more than once (each umount pops one).
  for (let round = 0; round < 5; round++) {
    const mounts = mountsUnder(dir);
    if (!mounts.length) return;
    for (const m of mounts) {
      const r = await run(["umount", m], { allowFail: true });
      if (r.code !== 0) await run(["umount", "-l", m], { allowFail: true });
    }
    report.push(`unmounted ${mounts.length} mount(s) under ${dir}`);
  }
}

/** Pod network namespaces this node's CNI created (from its cached results and its pods' records). */
function podNetnsPaths(dataDir: string): string[] {
  const paths = new Set<string>();
  const results = join(dataDir, "agent", "cni", "results");
  if (existsSync(results))
    for (const f of readdirSync(results).filter((f) => f.endsWith(".json"))) {
      try {
        const c = JSON.parse(readFileSync(join(results, f), "utf8"));
        if (typeof c.netnsPath === "string" && c.netnsPath.startsWith("/var/run/netns/")) paths.add(c.netnsPath);
      } catch {}
      // A result may be missing for a pod whose namespace was made just before a crash: the name says which.
      paths.add(`/var/run/netns/kubun-${f.slice(0, -5)}`);
    }
  // Namespaces the CNI marked before creating them (internal/cni).
  const marked = join(dataDir, "agent", "cni", "netns");
  if (existsSync(marked)) for (const uid of readdirSync(marked)) paths.add(`/var/run/netns/kubun-${uid}`);
  const pods = join(dataDir, "agent", "pods");
  if (existsSync(pods))
    for (const f of readdirSync(pods)) {
      const uid = f.replace(/\.json$/, "");
      if (/^[0-9a-f-]{36}$/.test(uid)) paths.add(`/var/run/netns/kubun-${uid}`);
    }
  return [...paths].filter((p) => existsSync(p));
}

async function removeNetworking(o: Required<KillallOptions>, report: Report): Promise<void> {
  for (const p of podNetnsPaths(o.dataDir)) {
    const name = p.slice("/var/run/netns/".length);
    const r = await run(["ip", "netns", "delete", name], { allowFail: true });
    if (r.code !== 0) {
      await run(["umount", p], { allowFail: true });
      rmSync(p, { force: true });
    }
    report.push(`removed network namespace ${name}`);
  }
  if ((await run(["ip", "link", "show", o.bridge], { allowFail: true })).code === 0) {
    await run(["ip", "link", "delete", o.bridge], { allowFail: true });
    report.push(`removed bridge ${o.bridge}`);
  }
  if ((await run(["ip", "link", "show", "kubun-dns"], { allowFail: true })).code === 0) {
    await run(["ip", "link", "delete", "kubun-dns"], { allowFail: true });
    report.push("removed interface kubun-dns");
  }
  // Without a dummy driver the cluster DNS address sits on loopback (internal/dns/iface.ts).
  const onLo = await run(["ip", "-o", "-4", "addr", "show", "dev", "lo", "to", `${CLUSTER_DNS}/32`], { allowFail: true });
  if (onLo.stdout.trim()) {
    await run(["ip", "addr", "del", `${CLUSTER_DNS}/32`, "dev", "lo"], { allowFail: true });
    report.push(`removed ${CLUSTER_DNS} from lo`);
  }
  // Routes to other nodes' pod networks carry the agent's route protocol (75).
  const routes = await run(["ip", "-4", "route", "show", "proto", "75"], { allowFail: true });
  if (routes.stdout.trim()) {
    await run(["ip", "-4", "route", "flush", "proto", "75"], { allowFail: true });
    report.push(`removed ${routes.stdout.trim().split("\n").length} route(s) to other nodes`);
  }
  // The service proxy leaves `ip kubun` in place when the agent stops (pods keep being served); killall removes it.
  const nft = nftRunner();
  if (await nft.list()) {
    await nft.deleteTable();
    report.push("removed nftables table ip kubun");
  }
  if ((await run(["nft", "list", "table", "ip", "kubun-nat"], { allowFail: true })).code === 0) {
    await run(["nft", "delete", "table", "ip", "kubun-nat"], { allowFail: true });
    report.push("removed nftables table ip kubun-nat");
  }
  // Network policies stay in force while the agent is down, too.
  if ((await run(["nft", "list", "table", "inet", "kubun-netpol"], { allowFail: true })).code === 0) {
    await run(["nft", "delete", "table", "inet", "kubun-netpol"], { allowFail: true });
    report.push("removed nftables table inet kubun-netpol");
  }
}

function defaults(o: KillallOptions): Required<KillallOptions> {
  // Everything mounted or running under the data dir is ended: "/" (or nothing) would mean the whole machine.
  if (!o.dataDir || resolve(o.dataDir) === "/") throw new Error(`kubun killall: refusing --data-dir ${JSON.stringify(o.dataDir)}`);
  return { name: "kubun", pidFile: join(o.dataDir, "kubun.pid"), root: "/", bridge: "kubun0", ...o };
}

export async function killall(opts: KillallOptions): Promise<Report> {
  const o = defaults(opts);
  const report: Report = [];
  await stopKubun(o, report);
  await killContainers(o, report);
  await unmountAll(o.dataDir, report);
  await removeNetworking(o, report);
  log.debug("killall done", { steps: report.length });
  return report;
}

/** runc's default state root, where the shims of our containerd keep each container's state (`<root>/<namespace>/<id>`). */
const RUNC_ROOT = "/run/containerd/runc";

/**
 * runc's state of this node's containers (their processes were killed, so runc never deleted it): the entries whose
 * bundle lies under this data dir's containerd. On a node that keeps its data the next start's clean-up deletes them
 * through containerd; after an uninstall nothing else would.
 */
function removeRuncState(o: Required<KillallOptions>, report: Report): void {
  // runc writes here whatever INSTALL_KUBUN_ROOT says; an entry is ours only by its bundle's path.
  const root = RUNC_ROOT;
  const cdir = join(o.dataDir, "agent", "containerd");
  const ours = `bundle=${existsSync(cdir) ? realpathSync(cdir) : resolve(cdir)}/`;
  let removed = 0;
  for (const ns of existsSync(root) ? readdirSync(root) : [])
    for (const id of readdirSync(join(root, ns))) {
      const dir = join(root, ns, id);
      try {
        const labels: string[] = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")).config?.labels ?? [];
        if (!labels.some((l) => l.startsWith(ours))) continue;
      } catch {
        continue; // not a container's state (or not readable): not ours to judge
      }
      rmSync(dir, { recursive: true, force: true });
      removed++;
      // The namespace's folder goes once it is empty (another node's containers keep it).
      if (readdirSync(join(root, ns)).length === 0) rmSync(join(root, ns), { recursive: true, force: true });
    }
  if (removed) report.push(`removed runc state of ${removed} container(s)`);
}

export interface UninstallOptions extends KillallOptions {
  /** Files and folders install.sh wrote (units, env files, binary, scripts, config, kubeconfig, logs). */
  remove: string[];
}

export async function uninstall(opts: UninstallOptions): Promise<Report> {
  const o = defaults(opts);
  const report = await killall(o);
  removeRuncState(o, report);
  if (isSystemd(o.root)) {
    await run(["systemctl", "disable", `${o.name}.service`, `${o.name}-agent.service`], { allowFail: true });
  }
  if (isOpenRC(o.root)) for (const svc of [o.name, `${o.name}-agent`]) await run(["rc-update", "del", svc, "default"], { allowFail: true });
  for (const p of [...opts.remove, o.dataDir]) {
    if (!p || p === "/" || !existsSync(p)) continue;
    // Nothing may stay mounted under a folder we delete (rm would descend into the mount).
    if (mountsUnder(p).length) await unmountAll(p, report);
    rmSync(p, { recursive: true, force: true });
    report.push(`removed ${p}`);
  }
  if (isSystemd(o.root)) await run(["systemctl", "daemon-reload"], { allowFail: true });
  return report;
}
