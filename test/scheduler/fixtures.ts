// Plain-object builders for scheduler unit tests.
import type { Node, Pod } from "kubernetes-types/core/v1";
import { SchedulerCache } from "../../internal/scheduler/cache.ts";

export function node(name: string, opts: { cpu?: string; memory?: string; pods?: number; labels?: Record<string, string>; taints?: any[]; unschedulable?: boolean; zone?: string } = {}): Node {
  const alloc = { cpu: opts.cpu ?? "4", memory: opts.memory ?? "16Gi", pods: String(opts.pods ?? 110), "ephemeral-storage": "100Gi" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: { "kubernetes.io/hostname": name, ...(opts.zone ? { "topology.kubernetes.io/zone": opts.zone } : {}), ...opts.labels },
    },
    spec: { taints: opts.taints, unschedulable: opts.unschedulable },
    status: { capacity: alloc, allocatable: alloc },
  };
}

let n = 0;
export function pod(name: string, opts: { cpu?: string; memory?: string; labels?: Record<string, string>; node?: string; priority?: number; spec?: any; ns?: string; start?: string } = {}): Pod {
  const requests: Record<string, string> = {};
  if (opts.cpu) requests.cpu = opts.cpu;
  if (opts.memory) requests.memory = opts.memory;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: opts.ns ?? "default", uid: `uid-${name}-${n++}`, labels: opts.labels, creationTimestamp: opts.start },
    spec: {
      nodeName: opts.node,
      priority: opts.priority,
      containers: [{ name: "c", image: "x", resources: Object.keys(requests).length ? { requests } : undefined }],
      ...opts.spec,
    },
    status: opts.start ? { startTime: opts.start } : {},
  };
}

export function cluster(nodes: Node[], pods: Pod[] = []): SchedulerCache {
  const c = new SchedulerCache();
  for (const x of nodes) c.addOrUpdateNode(x);
  for (const p of pods) c.upsertPod(p);
  return c;
}
