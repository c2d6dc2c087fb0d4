// The node's API presence: registers the Node (labels, taints, capacity/allocatable from the machine minus
// --kube-reserved, addresses, nodeInfo, daemon endpoint), renews its Lease in kube-node-lease every 10 s, and
// writes Node status only when something changed (or every 5 min as upstream's nodeStatusReportFrequency):
// idle nodes must not wear out SD cards with heartbeats.
import type { Lease } from "kubernetes-types/coordination/v1";
import type { Node, NodeCondition, NodeStatus, Taint } from "kubernetes-types/core/v1";
import { readFileSync, statfsSync } from "node:fs";
import os from "node:os";
import { createClient, type Client } from "../client/client.ts";
import { sleep } from "../client/informer.ts";
import { refs } from "../client/refs.ts";
import { ApiError } from "../client/types.ts";
import { logger } from "../log/log.ts";
import { quantityValue } from "../api/quantity.ts";
import { bareLease, heartbeatTimeoutMs, jitter, NodeLease } from "../nodelease/controller.ts";

const log = logger("kubelet.node");

export const KUBELET_VERSION = "v1.32.0+kubun";
const LEASE_SECONDS = 40;
const REPORT_MS = 5 * 60_000;

export interface NodeOptions {
  client: Client;
  nodeName: string;
  nodeIP: string;
  labels?: string[];
  taints?: string[];
  kubeReserved?: string;
  kubeletPort: number;
  runtimeVersion: string;
  dataDir: string;
  leaseIntervalMs?: number;
  statusIntervalMs?: number;
}

/** "key=value:Effect" or "key:Effect" → Taint. */
export function parseTaint(s: string): Taint {
  const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(s.trim());
  if (!m) throw new Error(`invalid taint ${JSON.stringify(s)}: want key[=value]:NoSchedule|PreferNoSchedule|NoExecute`);
  const t: Taint = { key: m[1]!, effect: m[3]! };
  if (m[2]) t.value = m[2];
  return t;
}

export function parseLabels(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf("=");
    if (i <= 0) throw new Error(`invalid node label ${JSON.stringify(l)}: want key=value`);
    out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

function arch(): string {
  return process.arch === "x64" ? "amd64" : process.arch;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return fallback;
  }
}

function meminfo(key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(readOr("/proc/meminfo", ""));
  return m ? Number(m[1]) * 1024 : 0;
}

function osImage(): string {
  const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readOr("/etc/os-release", ""));
  return m?.[1] ?? "Linux";
}

function rfc3339(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z");
}

export class NodeAgent {
  private lastReport = 0;
  private lastStatusKey = "";
  private transitions = new Map<string, { status: string; at: string }>();
  node?: Node;
  /**
   * Lease renewals and status writes go through their own client with a timeout, as upstream's heartbeatClient
   * (min(nodeStatusUpdateFrequency, lease duration)): a server that stops answering costs one timeout — and with
   * several servers the next one takes the call within it — instead of holding every later heartbeat.
   */
  private heartbeat: Client;
  readonly lease: NodeLease;

  constructor(private o: NodeOptions) {
    this.heartbeat = createClient({ ...o.client.config, timeoutMs: heartbeatTimeoutMs(o.statusIntervalMs ?? 10_000, LEASE_SECONDS) });
    this.lease = new NodeLease({
      name: o.nodeName,
      leases: () => this.heartbeat.resource<Lease>(refs.leases, "kube-node-lease"),
      durationSeconds: LEASE_SECONDS,
      log,
      // Owned by the Node, so deleting the Node deletes its Lease (upstream setNodeOwnerFunc).
      newLease: () => {
        const l = bareLease(o.nodeName, LEASE_SECONDS);
        const uid = this.node?.metadata?.uid;
        if (uid) l.metadata!.ownerReferences = [{ apiVersion: "v1", kind: "Node", name: o.nodeName, uid }];
        return l;
      },
    });
  }

  capacity(): Record<string, string> {
    let storage = 0;
    try {
      const s = statfsSync(this.o.dataDir);
      storage = s.blocks * s.bsize;
    } catch {}
    return {
      cpu: String(os.cpus().length),
      memory: `${Math.floor(meminfo("MemTotal") / 1024)}Ki`,
      pods: "110",
      "ephemeral-storage": `${Math.floor(storage / 1024)}Ki`,
    };
  }

  allocatable(): Record<string, string> {
    const cap = this.capacity();
    const reserved: Record<string, string> = {};
    for (const kv of (this.o.kubeReserved ?? "").split(",").filter(Boolean)) {
      const [k, v] = kv.split("=");
      if (!k || !v) throw new Error(`invalid --kube-reserved ${JSON.stringify(this.o.kubeReserved)}: want cpu=100m,memory=256Mi`);
      reserved[k.trim()] = v.trim();
    }
    const out = { ...cap };
    if (reserved.cpu) out.cpu = `${Math.max(0, Math.round(quantityValue(cap.cpu!) * 1000 - quantityValue(reserved.cpu) * 1000))}m`;
    for (const k of ["memory", "ephemeral-storage"])
      if (reserved[k]) out[k] = `${Math.max(0, Math.floor((quantityValue(cap[k]!) - quantityValue(reserved[k]!)) / 1024))}Ki`;
    return out;
  }

  private condition(type: string, ok: boolean, trueReason: string, falseReason: string, trueMsg: string, falseMsg: string, now: string): NodeCondition {
    // For pressure conditions "ok" means the bad state is absent (status False).
    const status = type === "Ready" ? (ok ? "True" : "False") : ok ? "False" : "True";
    const prev = this.transitions.get(type);
    if (!prev || prev.status !== status) this.transitions.set(type, { status, at: now });
    return {
      type,
      status,
      reason: ok ? trueReason : falseReason,
      message: ok ? trueMsg : falseMsg,
      lastHeartbeatTime: now,
      lastTransitionTime: this.transitions.get(type)!.at,
    };
  }

  private status(): NodeStatus {
    const now = rfc3339();
    const memAvail = meminfo("MemAvailable");
    let diskFree = 1;
    try {
      const s = statfsSync(this.o.dataDir);
      diskFree = s.bavail / s.blocks;
    } catch {}
    return {
      capacity: this.capacity(),
      allocatable: this.allocatable(),
      addresses: [
        { type: "InternalIP", address: this.o.nodeIP },
        { type: "Hostname", address: this.o.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.o.kubeletPort } },
      nodeInfo: {
        machineID: readOr("/etc/machine-id", ""),
        systemUUID: readOr("/sys/class/dmi/id/product_uuid", ""),
        bootID: readOr("/proc/sys/kernel/random/boot_id", ""),
        kernelVersion: os.release(),
        osImage: osImage(),
        containerRuntimeVersion: this.o.runtimeVersion,
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: "linux",
        architecture: arch(),
      },
      conditions: [
        this.condition("MemoryPressure", memAvail === 0 || memAvail > 100 * 1024 * 1024, "KubeletHasSufficientMemory", "KubeletHasInsufficientMemory", "kubelet has sufficient memory available", "kubelet has insufficient memory available", now),
        this.condition("DiskPressure", diskFree > 0.1, "KubeletHasNoDiskPressure", "KubeletHasDiskPressure", "kubelet has no disk pressure", "kubelet has disk pressure", now),
        this.condition("PIDPressure", true, "KubeletHasSufficientPID", "KubeletHasInsufficientPID", "kubelet has sufficient PID available", "kubelet has insufficient PID available", now),
        this.condition("Ready", true, "KubeletReady", "KubeletNotReady", "kubelet is posting ready status", "kubelet is not ready", now),
      ],
    };
  }

  /** Creates the Node or brings its labels/taints up to date. Retries until the API answers or the signal aborts. */
  async register(signal: AbortSignal): Promise<Node> {
    const nodes = this.o.client.resource<Node>(refs.nodes);
    const labels = {
      "kubernetes.io/hostname": this.o.nodeName,
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": arch(),
      "beta.kubernetes.io/os": "linux",
      "beta.kubernetes.io/arch": arch(),
      ...parseLabels(this.o.labels ?? []),
    };
    const taints = (this.o.taints ?? []).map(parseTaint);
    for (let delay = 500; !signal.aborted; delay = Math.min(delay * 2, 10_000)) {
      try {
        let node: Node;
        try {
          node = await nodes.get(this.o.nodeName);
          const mergedTaints = [...(node.spec?.taints ?? []).filter((t) => !taints.some((x) => x.key === t.key && x.effect === t.effect)), ...taints];
          node = await nodes.patch(this.o.nodeName, "merge", { metadata: { labels }, spec: taints.length ? { taints: mergedTaints } : {} });
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
          node = await nodes.create({ apiVersion: "v1", kind: "Node", metadata: { name: this.o.nodeName, labels }, spec: taints.length ? { taints } : {}, status: this.status() });
          log.info("registered node", { node: this.o.nodeName });
        }
        this.node = node;
        await this.updateStatus(true);
        return this.node!;
      } catch (e) {
        log.warn("node registration failed; retrying", { error: e, retryMs: delay });
        await Bun.sleep(delay);
      }
    }
    throw new Error("aborted");
  }

  /** Writes Node status when it changed (ignoring heartbeat times) or the report period passed. */
  async updateStatus(force = false): Promise<void> {
    const st = this.status();
    const key = JSON.stringify({ ...st, conditions: st.conditions!.map((c) => ({ ...c, lastHeartbeatTime: undefined })) });
    if (!force && key === this.lastStatusKey && Date.now() - this.lastReport < REPORT_MS) return;
    this.node = await this.heartbeat.resource<Node>(refs.nodes).patch(this.o.nodeName, "merge", { status: st }, { subresource: "status" });
    this.lastStatusKey = key;
    this.lastReport = Date.now();
  }

  /**
   * The kubelet's two heartbeat loops, each on its own as upstream's: the Lease controller (renewed at once, then
   * every 10 s with 4 % jitter after the previous pass, retried within the pass) and the node status check (every
   * nodeStatusUpdateFrequency with the same jitter; written when changed or every 5 min). A slow status write never
   * delays a Lease renewal.
   */
  async run(signal: AbortSignal): Promise<void> {
    const leaseMs = this.o.leaseIntervalMs ?? 10_000;
    const statusMs = this.o.statusIntervalMs ?? 10_000;
    const statusLoop = async () => {
      while (!signal.aborted) {
        await sleep(jitter(statusMs), signal);
        if (signal.aborted) return;
        try {
          await this.updateStatus();
        } catch (e) {
          log.warn("node status update failed", { error: e });
        }
      }
    };
    await Promise.all([this.lease.run(signal, { renewIntervalMs: leaseMs, syncNow: true }), statusLoop()]);
  }
}
