// Pod status from the kubelet's records: phase, conditions, container statuses — as upstream's
// generateAPIPodStatus / getPhase.
import type { ContainerStatus, Pod, PodCondition, PodStatus } from "kubernetes-types/core/v1";
import type { ContainerRecord, PodRecord } from "./records.ts";

function containerStatus(pod: Pod, cr: ContainerRecord | undefined, name: string, image: string): ContainerStatus {
  const s: ContainerStatus = {
    name,
    image,
    imageID: cr?.imageID ?? "",
    ready: !!cr?.ready && !!cr.running,
    restartCount: cr?.restartCount ?? 0,
    started: !!cr?.running && !!cr.started,
    state: {},
    lastState: {},
  };
  if (cr?.id) s.containerID = `containerd://${cr.id}`;
  const term = (t: NonNullable<ContainerRecord["terminated"]>) => ({ terminated: { ...t, containerID: t.containerID ? `containerd://${t.containerID}` : undefined } });
  if (cr?.running) {
    s.state = { running: { startedAt: cr.startedAt } };
    if (cr.terminated) s.lastState = term(cr.terminated);
  } else if (cr?.waiting || !cr?.terminated) {
    s.state = { waiting: cr?.waiting ?? { reason: "ContainerCreating" } };
    if (cr?.terminated) s.lastState = term(cr.terminated);
  } else {
    s.state = term(cr.terminated);
    if (cr.previous) s.lastState = term(cr.previous);
  }
  return s;
}

export function podPhase(rec: PodRecord): PodStatus["phase"] {
  if (rec.phase) return rec.phase;
  const spec = rec.pod.spec!;
  if (!rec.initDone) return "Pending";
  const policy = spec.restartPolicy ?? "Always";
  let running = 0, waitingFresh = 0, succeeded = 0, failed = 0;
  for (const c of spec.containers) {
    const cr = rec.containers[c.name];
    if (cr?.running) running++;
    else if (!cr?.terminated) waitingFresh++;
    else if (cr.terminated.exitCode === 0) succeeded++;
    else failed++;
  }
  if (waitingFresh > 0) return "Pending";
  if (running > 0) return "Running";
  if (policy === "Always") return "Running";
  if (policy === "OnFailure") return failed > 0 ? "Running" : "Succeeded";
  return failed > 0 ? "Failed" : "Succeeded";
}

function cond(type: string, ok: boolean, prev: PodCondition[] | undefined, reason?: string, message?: string): PodCondition {
  const status = ok ? "True" : "False";
  const old = prev?.find((c) => c.type === type);
  const lastTransitionTime = old && old.status === status ? old.lastTransitionTime : new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const c: PodCondition = { type, status, lastProbeTime: null as any, lastTransitionTime };
  if (!ok && reason) {
    c.reason = reason;
    if (message) c.message = message;
  }
  return c;
}

export function buildPodStatus(rec: PodRecord, hostIP: string, prev: PodStatus | undefined): PodStatus {
  const pod = rec.pod;
  const spec = pod.spec!;
  const phase = podPhase(rec);
  const containerStatuses = spec.containers.map((c) => containerStatus(pod, rec.containers[c.name], c.name, c.image!));
  const initContainerStatuses = (spec.initContainers ?? []).map((c) => {
    const st = containerStatus(pod, rec.containers[c.name], c.name, c.image!);
    if (!rec.containers[c.name]?.running && !rec.containers[c.name]?.terminated && !rec.containers[c.name]?.waiting)
      st.state = { waiting: { reason: "PodInitializing" } };
    return st;
  });
  if (!rec.initDone && spec.initContainers?.length)
    for (const st of containerStatuses) if (st.state?.waiting?.reason === "ContainerCreating") st.state = { waiting: { reason: "PodInitializing" } };
  const notReady = containerStatuses.filter((s) => !s.ready).map((s) => s.name);
  const terminal = phase === "Succeeded" || phase === "Failed";
  const containersReady = notReady.length === 0 && !terminal;
  const pendingInit = (spec.initContainers ?? []).filter((c) => !(rec.containers[c.name]?.terminated?.exitCode === 0 && !rec.containers[c.name]?.running)).map((c) => c.name);
  const pc = prev?.conditions;
  const conditions: PodCondition[] = [
    cond("PodReadyToStartContainers", !!rec.ips || !!spec.hostNetwork, pc),
    cond("Initialized", rec.initDone, pc, "ContainersNotInitialized", `containers with incomplete status: [${pendingInit.join(" ")}]`),
    cond("Ready", containersReady, pc, terminal ? "PodCompleted" : "ContainersNotReady", terminal ? undefined : `containers with unready status: [${notReady.join(" ")}]`),
    cond("ContainersReady", containersReady, pc, terminal ? "PodCompleted" : "ContainersNotReady", terminal ? undefined : `containers with unready status: [${notReady.join(" ")}]`),
    cond("PodScheduled", true, pc),
  ];
  const ips = spec.hostNetwork ? [hostIP] : (rec.ips ?? []);
  const status: PodStatus = {
    phase,
    conditions,
    hostIP,
    hostIPs: [{ ip: hostIP }],
    startTime: rec.startTime,
    containerStatuses,
    qosClass: prev?.qosClass ?? qosClass(pod),
  };
  if (ips.length) {
    status.podIP = ips[0];
    status.podIPs = ips.map((ip) => ({ ip }));
  }
  if (initContainerStatuses.length) status.initContainerStatuses = initContainerStatuses;
  return status;
}

export function qosClass(pod: Pod): "Guaranteed" | "Burstable" | "BestEffort" {
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const r = c.resources ?? {};
    for (const k of ["cpu", "memory"]) {
      const req = r.requests?.[k] ?? r.limits?.[k];
      const lim = r.limits?.[k];
      if (req !== undefined || lim !== undefined) any = true;
      if (lim === undefined || String(req) !== String(lim)) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}
