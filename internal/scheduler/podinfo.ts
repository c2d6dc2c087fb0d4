// Per-pod facts the scheduler needs again and again, computed once when the pod enters the cache or queue:
// resource requests (upstream resourcehelper.PodRequests), non-zero requests for scoring, host ports,
// priority and parsed inter-pod affinity terms.

import type { Container, Pod, PodAffinityTerm } from "kubernetes-types/core/v1";
import type { LabelSelector } from "kubernetes-types/meta/v1";
import { intValueOrZero as intValue, milliValueOrZero as milliValue } from "../api/quantity.ts";

export interface Resources {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Extended resources (example.com/gpu, hugepages-2Mi, ...) in integer units; absent when none. */
  scalar?: Record<string, number>;
}

const BUILTIN = new Set(["cpu", "memory", "ephemeral-storage", "pods", "storage"]);

/** Extended and hugepages resources count like upstream's ScalarResources. */
export function isScalarResource(name: string): boolean {
  return !BUILTIN.has(name) && (name.includes("/") || name.startsWith("hugepages-") || name.startsWith("attachable-volumes-"));
}

export interface HostPort {
  protocol: string;
  ip: string;
  port: number;
}

export interface AffinityTerm {
  selector: LabelSelector;
  /** Explicit namespaces; with namespaceSelector undefined and namespaces empty, the pod's own namespace. */
  namespaces: Set<string>;
  namespaceSelector?: LabelSelector;
  topologyKey: string;
  weight: number;
}

export interface PodInfo {
  pod: Pod;
  key: string;
  uid: string;
  namespace: string;
  labels: Record<string, string>;
  requests: Resources;
  /** Requests with upstream defaults (100m cpu, 200Mi memory) for containers that set none; used by scoring. */
  nonZero: { milliCPU: number; memory: number };
  ports: HostPort[];
  priority: number;
  requiredAffinity: AffinityTerm[];
  requiredAntiAffinity: AffinityTerm[];
  preferredAffinity: AffinityTerm[];
  preferredAntiAffinity: AffinityTerm[];
  terminating: boolean;
  /** uid of the controlling owner (ReplicaSet, StatefulSet, ...), if any. */
  controllerUID?: string;
}

export const DEFAULT_MILLI_CPU = 100;
export const DEFAULT_MEMORY = 200 * 1024 * 1024;

function scalarOf(req: Record<string, any>, lim: Record<string, any>): Record<string, number> | undefined {
  let out: Record<string, number> | undefined;
  let any = false;
  for (const k in req) if (isScalarResource(k)) any = true;
  for (const k in lim) if (isScalarResource(k)) any = true;
  if (!any) return undefined;
  for (const name of new Set([...Object.keys(req), ...Object.keys(lim)])) {
    if (!isScalarResource(name)) continue;
    // Extended resources can't be overcommitted: the request defaults to (and must equal) the limit.
    const v = intValue(req[name] ?? lim[name]);
    if (v > 0) (out ??= {})[name] = v;
  }
  return out;
}

function containerRequests(c: Container): Resources & { cpuSet: boolean; memSet: boolean } {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  // Requests default to limits (the API server does this on create; repeated here for objects it did not default).
  const cpu = req.cpu ?? lim.cpu;
  const mem = req.memory ?? lim.memory;
  const eph = req["ephemeral-storage"] ?? lim["ephemeral-storage"];
  return {
    milliCPU: cpu !== undefined ? milliValue(cpu) : 0,
    memory: mem !== undefined ? intValue(mem) : 0,
    ephemeralStorage: eph !== undefined ? intValue(eph) : 0,
    scalar: scalarOf(req, lim),
    cpuSet: cpu !== undefined,
    memSet: mem !== undefined,
  };
}

const zero = (): Resources => ({ milliCPU: 0, memory: 0, ephemeralStorage: 0 });
const add = (a: Resources, b: Resources) => {
  a.milliCPU += b.milliCPU;
  a.memory += b.memory;
  a.ephemeralStorage += b.ephemeralStorage;
  if (b.scalar) for (const [k, v] of Object.entries(b.scalar)) (a.scalar ??= {})[k] = (a.scalar[k] ?? 0) + v;
};
const maxInto = (a: Resources, b: Resources) => {
  a.milliCPU = Math.max(a.milliCPU, b.milliCPU);
  a.memory = Math.max(a.memory, b.memory);
  a.ephemeralStorage = Math.max(a.ephemeralStorage, b.ephemeralStorage);
  if (b.scalar) for (const [k, v] of Object.entries(b.scalar)) (a.scalar ??= {})[k] = Math.max(a.scalar[k] ?? 0, v);
};

/**
 * Effective pod requests: max(sum of containers + sidecars, each init container + sidecars started before it),
 * plus pod overhead. `nonZero` applies the scoring defaults per container.
 */
export function podRequests(pod: Pod, nonZero = false): Resources {
  const per = (c: Container): Resources => {
    const r = containerRequests(c);
    if (nonZero) {
      if (!r.cpuSet) r.milliCPU = DEFAULT_MILLI_CPU;
      if (!r.memSet) r.memory = DEFAULT_MEMORY;
    }
    return { milliCPU: r.milliCPU, memory: r.memory, ephemeralStorage: r.ephemeralStorage, scalar: r.scalar };
  };
  const reqs = zero();
  for (const c of pod.spec?.containers ?? []) add(reqs, per(c));
  const sidecars = zero();
  const initMax = zero();
  for (const c of pod.spec?.initContainers ?? []) {
    const r = per(c);
    if (c.restartPolicy === "Always") {
      // Sidecar: runs alongside everything after it and the main containers.
      add(reqs, r);
      add(sidecars, r);
      maxInto(initMax, sidecars);
    } else {
      const tmp = { ...r, scalar: r.scalar ? { ...r.scalar } : undefined };
      add(tmp, sidecars);
      maxInto(initMax, tmp);
    }
  }
  maxInto(reqs, initMax);
  const oh = pod.spec?.overhead;
  if (oh) {
    reqs.milliCPU += oh.cpu !== undefined ? milliValue(oh.cpu) : 0;
    reqs.memory += oh.memory !== undefined ? intValue(oh.memory) : 0;
    reqs.ephemeralStorage += oh["ephemeral-storage"] !== undefined ? intValue(oh["ephemeral-storage"]) : 0;
  }
  return reqs;
}

export function hostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  const scan = (cs: Container[] | undefined) => {
    for (const c of cs ?? [])
      for (const p of c.ports ?? [])
        if (p.hostPort && p.hostPort > 0) out.push({ protocol: p.protocol ?? "TCP", ip: p.hostIP || "0.0.0.0", port: p.hostPort });
  };
  scan(pod.spec?.containers);
  // Sidecar init containers keep their ports for the pod's lifetime.
  scan(pod.spec?.initContainers?.filter((c) => c.restartPolicy === "Always"));
  return out;
}

function terms(pod: Pod, list: PodAffinityTerm[] | undefined, weight = 1): AffinityTerm[] {
  return (list ?? []).map((t) => ({
    selector: t.labelSelector ?? (null as any),
    namespaces: new Set(
      t.namespaces && t.namespaces.length > 0 ? t.namespaces : t.namespaceSelector ? [] : [pod.metadata?.namespace ?? "default"],
    ),
    namespaceSelector: t.namespaceSelector,
    topologyKey: t.topologyKey,
    weight,
  }));
}

function weighted(pod: Pod, list: { weight: number; podAffinityTerm: PodAffinityTerm }[] | undefined): AffinityTerm[] {
  return (list ?? []).flatMap((w) => terms(pod, [w.podAffinityTerm], w.weight));
}

export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
}

export function makePodInfo(pod: Pod): PodInfo {
  const a = pod.spec?.affinity;
  return {
    pod,
    key: podKey(pod),
    uid: pod.metadata?.uid ?? "",
    namespace: pod.metadata?.namespace ?? "default",
    labels: pod.metadata?.labels ?? {},
    requests: podRequests(pod),
    nonZero: (({ milliCPU, memory }) => ({ milliCPU, memory }))(podRequests(pod, true)),
    ports: hostPorts(pod),
    priority: pod.spec?.priority ?? 0,
    requiredAffinity: terms(pod, a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    requiredAntiAffinity: terms(pod, a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    preferredAffinity: weighted(pod, a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    preferredAntiAffinity: weighted(pod, a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    terminating: !!pod.metadata?.deletionTimestamp,
    controllerUID: pod.metadata?.ownerReferences?.find((r) => r.controller)?.uid,
  };
}
