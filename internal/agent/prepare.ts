// The first start-up steps of a node, which need no API server: the agent's directories, the host's network
// settings and containerd. `kubun server` runs them alongside the control plane's start (containerd is another
// process, so its start overlaps with the API server's on the other core); `kubun agent` runs them first.
// Kept apart from index.ts so that starting them early loads nothing else of the agent.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { logger } from "../log/log.ts";
import { startContainerd, type Containerd } from "../runtime/containerd.ts";
import { run } from "../runtime/run.ts";

const log = logger("agent");

export interface PrepareOptions {
  dataDir: string;
  /** Nodes in test-made network namespaces leave the host's settings alone. */
  nodeNetns?: string;
  /** Use this running containerd instead of starting one. */
  containerdAddress?: string;
}

/** Writes a sysctl through /proc/sys (no sysctl process); a host that refuses keeps its value, as before. */
function setSysctl(name: string, value: string): void {
  try {
    writeFileSync(`/proc/sys/${name.replaceAll(".", "/")}`, value);
  } catch (e) {
    log.debug("sysctl not set", { name, value, error: e as Error });
  }
}

/** ip_forward, and bridged pod → ClusterIP → pod traffic through conntrack (as k3s sets up). */
async function hostNetworkSetup(): Promise<void> {
  setSysctl("net.ipv4.ip_forward", "1");
  if (!existsSync("/sys/module/br_netfilter")) await run(["modprobe", "br_netfilter"], { allowFail: true });
  setSysctl("net.bridge.bridge-nf-call-iptables", "1");
}

export async function prepareNode(o: PrepareOptions): Promise<Containerd> {
  const agentDir = join(o.dataDir, "agent");
  for (const d of ["", "containerd", "state", "pods", "cni", "images", "cred"]) mkdirSync(join(agentDir, d), { recursive: true });
  const [containerd] = await Promise.all([
    startContainerd({ dir: join(agentDir, "containerd"), address: o.containerdAddress, external: !!o.containerdAddress }),
    o.nodeNetns ? undefined : hostNetworkSetup(),
  ]);
  return containerd;
}
