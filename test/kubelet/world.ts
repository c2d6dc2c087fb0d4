// A test-made network world for kubun nodes: a "lan" namespace with a bridge, one namespace per node wired to
// it (172.31.<k>.<i>/24), and a veth from the host (172.31.<k>.254) so the API server can reach the kubelets.
// Nothing routes out. Plus a private containerd with the offline busybox image. Everything is removed in cleanup.
import { mkdtempSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startContainerd, type Containerd } from "../../internal/runtime/containerd.ts";
import { writeBusyboxImage } from "../../internal/runtime/busybox-image.ts";
import { run } from "../../internal/runtime/run.ts";
import type { TestCluster } from "../helpers/cluster.ts";
import { removeHostLeftovers } from "../helpers/hostleftovers.ts";

export interface NodeHandle {
  name: string;
  netns: string;
  ip: string;
  dataDir: string;
  logDir: string;
  namespace: string;
  proc?: ReturnType<typeof Bun.spawn>;
  /** Starts (or restarts) the agent process. */
  start(): Promise<void>;
  /** kill -9 */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export interface World {
  dir: string;
  containerd: Containerd;
  prefix: string;
  subnet: string;
  /** `agent`: extra AgentOptions for this node (e.g. a shorter statsIntervalMs). */
  addNode(cluster: TestCluster, name: string, agent?: Record<string, unknown>): Promise<NodeHandle>;
  ctr(ns: string, args: string[]): Promise<string>;
  cleanup(): Promise<void>;
}

const sh = (argv: string[]) => run(argv, { allowFail: true });

export async function createWorld(): Promise<World> {
  const id = Math.random().toString(36).slice(2, 6);
  const prefix = `kt${id}`;
  const k = 1 + Math.floor(Math.random() * 250);
  const subnet = `172.31.${k}`;
  const dir = mkdtempSync(join(tmpdir(), `kubun-kubelet-${id}-`));
  const lan = `${prefix}-lan`;
  await run(["ip", "netns", "add", lan]);
  await run(["ip", "-n", lan, "link", "set", "lo", "up"]);
  await run(["ip", "-n", lan, "link", "add", "br0", "type", "bridge"]);
  await run(["ip", "-n", lan, "link", "set", "br0", "up"]);
  await run(["ip", "link", "add", `${prefix}h`, "type", "veth", "peer", "name", `${prefix}hl`]);
  await run(["ip", "link", "set", `${prefix}hl`, "netns", lan]);
  await run(["ip", "-n", lan, "link", "set", `${prefix}hl`, "master", "br0", "up"]);
  await run(["ip", "addr", "add", `${subnet}.254/24`, "dev", `${prefix}h`]);
  await run(["ip", "link", "set", `${prefix}h`, "up"]);
  const containerd = await startContainerd({ dir: join(dir, "containerd") });
  const image = join(dir, "busybox.tar");
  writeBusyboxImage(image);
  const nodes: NodeHandle[] = [];
  const world: World = {
    dir,
    containerd,
    prefix,
    subnet,
    async ctr(ns, args) {
      return (await run(["ctr", "--address", containerd.address, "-n", ns, ...args])).stdout;
    },
    async addNode(cluster, name, agent) {
      const i = nodes.length + 1;
      const netns = `${prefix}-n${i}`;
      const ip = `${subnet}.${i}`;
      await run(["ip", "netns", "add", netns]);
      await run(["ip", "-n", netns, "link", "set", "lo", "up"]);
      await run(["ip", "link", "add", `${prefix}n${i}`, "type", "veth", "peer", "name", `${prefix}n${i}l`]);
      await run(["ip", "link", "set", `${prefix}n${i}`, "netns", netns]);
      await run(["ip", "-n", netns, "link", "set", `${prefix}n${i}`, "name", "eth0"]);
      await run(["ip", "-n", netns, "addr", "add", `${ip}/24`, "dev", "eth0"]);
      await run(["ip", "-n", netns, "link", "set", "eth0", "up"]);
      await run(["ip", "link", "set", `${prefix}n${i}l`, "netns", lan]);
      await run(["ip", "-n", lan, "link", "set", `${prefix}n${i}l`, "master", "br0", "up"]);
      const dataDir = join(dir, `node${i}`);
      const logDir = join(dataDir, "pods-logs");
      mkdirSync(join(dataDir, "agent", "images"), { recursive: true });
      // Air-gapped: the image comes from <data-dir>/agent/images, imported at agent start.
      await run(["cp", image, join(dataDir, "agent", "images", "busybox.tar")]);
      const namespace = `${prefix}-n${i}`;
      const opts = {
        server: cluster.localURL,
        token: cluster.joinToken,
        dataDir,
        nodeName: name,
        nodeIP: ip,
        kubeletPort: 0,
        containerdAddress: containerd.address,
        containerdNamespace: namespace,
        nodeNetns: netns,
        podLogDir: logDir,
        cgroupRoot: `/${prefix}-n${i}`,
        registriesConfig: join(dataDir, "registries.yaml"),
        ...agent,
      };
      const logFile = Bun.file(join(dataDir, "agent.log"));
      const node: NodeHandle = {
        name,
        netns,
        ip,
        dataDir,
        logDir,
        namespace,
        async start() {
          const fd = (await import("node:fs")).openSync(join(dataDir, "agent.log"), "a");
          // KUBUN_AGENT_BUN_FLAGS="--cpu-prof --cpu-prof-dir=…": profile the agent (written when it stops).
          const flags = process.env.KUBUN_AGENT_BUN_FLAGS?.split(" ").filter(Boolean) ?? [];
          node.proc = Bun.spawn(["bun", ...flags, join(import.meta.dir, "agent-main.ts"), JSON.stringify(opts)], {
            stdout: fd,
            stderr: fd,
            stdin: "ignore",
            env: { ...process.env, KUBUN_LOG_LEVEL: process.env.KUBUN_AGENT_LOG_LEVEL ?? "info" },
          });
          void logFile;
        },
        async kill9() {
          node.proc?.kill("SIGKILL");
          await node.proc?.exited;
          node.proc = undefined;
        },
        async stop() {
          if (!node.proc) return;
          node.proc.kill("SIGTERM");
          const t = setTimeout(() => node.proc?.kill("SIGKILL"), 10_000);
          await node.proc.exited;
          clearTimeout(t);
          node.proc = undefined;
        },
      };
      nodes.push(node);
      await node.start();
      return node;
    },
    async cleanup() {
      for (const n of nodes) await n.kill9();
      // Containers, tasks, snapshots and rootfs mounts of every node namespace.
      for (const n of nodes) {
        const ids = (await sh(["ctr", "--address", containerd.address, "-n", n.namespace, "containers", "ls", "-q"])).stdout.split("\n").filter(Boolean);
        for (const cid of ids) {
          await sh(["ctr", "--address", containerd.address, "-n", n.namespace, "tasks", "kill", "-a", "-s", "SIGKILL", cid]);
        }
        await Bun.sleep(ids.length ? 300 : 0);
        for (const cid of ids) {
          await sh(["ctr", "--address", containerd.address, "-n", n.namespace, "tasks", "delete", "-f", cid]);
          await sh(["ctr", "--address", containerd.address, "-n", n.namespace, "containers", "delete", cid]);
        }
      }
      const mounts = (await sh(["sh", "-c", `grep -o ' ${dir}[^ ]*' /proc/mounts | sort -r`])).stdout.split("\n").map((s) => s.trim()).filter(Boolean);
      for (const m of mounts) await sh(["umount", "-l", m]);
      await containerd.stop();
      for (const ns of readdirSync("/var/run/netns")) if (ns.startsWith(prefix)) await sh(["ip", "netns", "del", ns]);
      await sh(["ip", "link", "del", `${prefix}h`]);
      // cgroups the nodes' pods used, and runc's state for their namespaces.
      for (const n of nodes) removeHostLeftovers({ cgroupRoot: `/${n.namespace}`, containerdNamespace: n.namespace });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}
