// The API objects a hollow kubelet writes: its Node (with capacity and conditions) and the status
// of a pod it "runs" (Running and Ready, without containers), shaped as a real kubelet's.

import type { Node, NodeCondition, Pod, PodCondition } from "kubernetes-types/core/v1";

export interface HollowNodeShape {
  cpu: string;
  memory: string;
  pods: number;
  ephemeralStorage: string;
  labels?: Record<string, string>;
  taints?: Node["spec"] extends infer S ? (S extends { taints?: infer T } ? T : never) : never;
  ip: string;
}

export const KUBELET_VERSION = "v1.32.0-kubun-hollow";

export function nowRFC3339(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z");
}

export function microTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function arch(): string {
  return process.arch === "x64" ? "amd64" : process.arch;
}

export function nodeConditions(now: string, transition: string): NodeCondition[] {
  const c = (type: string, status: string, reason: string, message: string): NodeCondition => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: transition,
  });
  return [
    c("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    c("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    c("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    c("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
  ];
}

export function nodeObject(name: string, shape: HollowNodeShape): Node {
  const now = nowRFC3339();
  const resources = { cpu: shape.cpu, memory: shape.memory, pods: String(shape.pods), "ephemeral-storage": shape.ephemeralStorage };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch(),
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": arch(),
        "node.kubernetes.io/instance-type": "hollow",
        ...shape.labels,
      },
      annotations: { "node.alpha.kubernetes.io/ttl": "0", "kubun.io/hollow": "true" },
    },
    spec: shape.taints ? { taints: shape.taints } : {},
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: nodeConditions(now, now),
      addresses: [
        { type: "InternalIP", address: shape.ip },
        { type: "Hostname", address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: "",
        systemUUID: "",
        bootID: "",
        kernelVersion: "hollow",
        osImage: "kubun hollow node",
        containerRuntimeVersion: "hollow://1.0.0",
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: "",
        operatingSystem: "linux",
        architecture: arch(),
      },
    },
  };
}

function qosClass(pod: Pod): string {
  const cs = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of cs) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ["cpu", "memory"]) {
      const l = lim[r];
      if (l === undefined || (req[r] !== undefined && String(req[r]) !== String(l))) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

/** Status of a pod that started at `started` and is running (or finished with exitCode). */
export function podStatus(pod: Pod, hostIP: string, podIP: string, started: string, exitCode?: number): Pod["status"] {
  const uid = pod.metadata?.uid ?? "";
  const finished = exitCode !== undefined;
  const now = nowRFC3339();
  const ready = !finished;
  const cond = (type: string, status: boolean, reason?: string): PodCondition => ({
    type,
    status: status ? "True" : "False",
    lastProbeTime: null as any,
    lastTransitionTime: type === "PodScheduled" || type === "Initialized" || type === "PodReadyToStartContainers" ? started : finished ? now : started,
    ...(reason ? { reason } : {}),
  });
  return {
    phase: finished ? (exitCode === 0 ? "Succeeded" : "Failed") : "Running",
    conditions: [
      cond("PodReadyToStartContainers", !finished),
      cond("Initialized", true),
      cond("Ready", ready, ready ? undefined : "PodCompleted"),
      cond("ContainersReady", ready, ready ? undefined : "PodCompleted"),
      cond("PodScheduled", true),
    ],
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: started,
    qosClass: qosClass(pod),
    initContainerStatuses: (pod.spec?.initContainers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? "",
      imageID: `hollow://${c.image ?? ""}`,
      containerID: `hollow://${uid}-${c.name}`,
      ready: c.restartPolicy === "Always" && !finished,
      started: c.restartPolicy === "Always" && !finished,
      restartCount: 0,
      state:
        c.restartPolicy === "Always" && !finished
          ? { running: { startedAt: started } }
          : { terminated: { exitCode: 0, reason: "Completed", startedAt: started, finishedAt: started, containerID: `hollow://${uid}-${c.name}` } },
    })),
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? "",
      imageID: `hollow://${c.image ?? ""}`,
      containerID: `hollow://${uid}-${c.name}`,
      ready,
      started: !finished,
      restartCount: 0,
      state: finished
        ? {
            terminated: {
              exitCode: exitCode!,
              reason: exitCode === 0 ? "Completed" : "Error",
              startedAt: started,
              finishedAt: now,
              containerID: `hollow://${uid}-${c.name}`,
            },
          }
        : { running: { startedAt: started } },
    })),
  };
}
