// Per-node aggregates kept up to date as pods come and go, so a filter or score is O(1) per node
// (upstream framework.NodeInfo).

import type { Node } from "kubernetes-types/core/v1";
import { isScalarResource, type HostPort, type PodInfo, type Resources } from "./podinfo.ts";
import { intValueOrZero as intValue, milliValueOrZero as milliValue } from "../api/quantity.ts";

export interface Allocatable extends Resources {
  pods: number;
}

export class NodeInfo {
  node!: Node;
  name: string;
  allocatable!: Allocatable;
  requested: Resources = { milliCPU: 0, memory: 0, ephemeralStorage: 0 };
  nonZeroRequested = { milliCPU: 0, memory: 0 };
  pods = new Map<string, PodInfo>();
  /** "proto/port" → host IPs in use. */
  usedPorts = new Map<string, Map<string, number>>();
  /** Controller uid → number of its live (not terminating) pods here, for default spreading. */
  owners = new Map<string, number>();
  podsWithAffinity = 0;
  podsWithRequiredAntiAffinity = 0;
  /** Bumped on every change; lets callers cache per-node derived data. */
  generation = 0;

  constructor(node: Node) {
    this.name = node.metadata!.name!;
    this.setNode(node);
  }

  setNode(node: Node): void {
    this.node = node;
    const a = node.status?.allocatable ?? node.status?.capacity ?? {};
    this.allocatable = {
      milliCPU: milliValue(a.cpu ?? 0),
      memory: intValue(a.memory ?? 0),
      ephemeralStorage: intValue(a["ephemeral-storage"] ?? 0),
      pods: intValue(a.pods ?? 0),
    };
    for (const [k, v] of Object.entries(a)) if (isScalarResource(k)) (this.allocatable.scalar ??= {})[k] = intValue(v);
    this.generation++;
  }

  get labels(): Record<string, string> {
    return this.node.metadata?.labels ?? {};
  }

  addPod(pi: PodInfo): void {
    if (this.pods.has(pi.key)) this.removePod(pi.key);
    this.pods.set(pi.key, pi);
    this.requested.milliCPU += pi.requests.milliCPU;
    this.requested.memory += pi.requests.memory;
    this.requested.ephemeralStorage += pi.requests.ephemeralStorage;
    if (pi.requests.scalar)
      for (const [k, v] of Object.entries(pi.requests.scalar)) (this.requested.scalar ??= {})[k] = (this.requested.scalar[k] ?? 0) + v;
    this.nonZeroRequested.milliCPU += pi.nonZero.milliCPU;
    this.nonZeroRequested.memory += pi.nonZero.memory;
    for (const p of pi.ports) {
      const k = `${p.protocol}/${p.port}`;
      let ips = this.usedPorts.get(k);
      if (!ips) this.usedPorts.set(k, (ips = new Map()));
      ips.set(p.ip, (ips.get(p.ip) ?? 0) + 1);
    }
    if (pi.requiredAffinity.length || pi.preferredAffinity.length || pi.requiredAntiAffinity.length || pi.preferredAntiAffinity.length)
      this.podsWithAffinity++;
    if (pi.requiredAntiAffinity.length) this.podsWithRequiredAntiAffinity++;
    if (pi.controllerUID && !pi.terminating) this.owners.set(pi.controllerUID, (this.owners.get(pi.controllerUID) ?? 0) + 1);
    this.generation++;
  }

  removePod(key: string): PodInfo | undefined {
    const pi = this.pods.get(key);
    if (!pi) return undefined;
    this.pods.delete(key);
    this.requested.milliCPU -= pi.requests.milliCPU;
    this.requested.memory -= pi.requests.memory;
    this.requested.ephemeralStorage -= pi.requests.ephemeralStorage;
    if (pi.requests.scalar) for (const [k, v] of Object.entries(pi.requests.scalar)) this.requested.scalar![k]! -= v;
    this.nonZeroRequested.milliCPU -= pi.nonZero.milliCPU;
    this.nonZeroRequested.memory -= pi.nonZero.memory;
    for (const p of pi.ports) {
      const k = `${p.protocol}/${p.port}`;
      const ips = this.usedPorts.get(k);
      if (!ips) continue;
      const n = (ips.get(p.ip) ?? 1) - 1;
      if (n <= 0) ips.delete(p.ip);
      else ips.set(p.ip, n);
      if (ips.size === 0) this.usedPorts.delete(k);
    }
    if (pi.requiredAffinity.length || pi.preferredAffinity.length || pi.requiredAntiAffinity.length || pi.preferredAntiAffinity.length)
      this.podsWithAffinity--;
    if (pi.requiredAntiAffinity.length) this.podsWithRequiredAntiAffinity--;
    if (pi.controllerUID && !pi.terminating) {
      const n = (this.owners.get(pi.controllerUID) ?? 1) - 1;
      if (n <= 0) this.owners.delete(pi.controllerUID);
      else this.owners.set(pi.controllerUID, n);
    }
    this.generation++;
    return pi;
  }

  ownerCount(uid: string): number {
    return this.owners.get(uid) ?? 0;
  }

  /** Host port conflict: same protocol and port, and same IP or either side is 0.0.0.0 (upstream HostPortInfo). */
  portConflict(p: HostPort): boolean {
    const ips = this.usedPorts.get(`${p.protocol}/${p.port}`);
    if (!ips) return false;
    if (p.ip === "0.0.0.0") return ips.size > 0;
    return ips.has(p.ip) || ips.has("0.0.0.0");
  }

  /** A copy with its own aggregates (for preemption dry runs); PodInfos are shared, not copied. */
  clone(): NodeInfo {
    const c = Object.create(NodeInfo.prototype) as NodeInfo;
    c.node = this.node;
    c.name = this.name;
    c.allocatable = this.allocatable;
    c.requested = { ...this.requested, scalar: this.requested.scalar ? { ...this.requested.scalar } : undefined };
    c.nonZeroRequested = { ...this.nonZeroRequested };
    c.pods = new Map(this.pods);
    c.usedPorts = new Map([...this.usedPorts].map(([k, v]) => [k, new Map(v)]));
    c.owners = new Map(this.owners);
    c.podsWithAffinity = this.podsWithAffinity;
    c.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity;
    c.generation = this.generation;
    return c;
  }
}
