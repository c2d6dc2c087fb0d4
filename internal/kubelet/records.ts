// What the kubelet knows about each pod and container on this node; persisted in the pod checkpoint so that a
// restarted agent (even with the API server down) knows what it runs and how often each container restarted.
import type { Pod } from "kubernetes-types/core/v1";
import type { ProbeWorker } from "./probes.ts";

export interface Termination {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt?: string;
  finishedAt: string;
  containerID?: string;
}

export interface ContainerRecord {
  name: string;
  init: boolean;
  /** containerd id of the current (or last) instance. */
  id?: string;
  running: boolean;
  startedAt?: string;
  restartCount: number;
  /** Number of instances started so far (next instance's attempt number). */
  attempts: number;
  /** Latest termination; the one before is lastState when this one is the current state. */
  terminated?: Termination;
  previous?: Termination;
  waiting?: { reason: string; message?: string };
  backoffUntil?: number;
  backoffSeconds?: number;
  imageID?: string;
  /** Host files of the current instance: termination-log and CRI log. */
  termFile?: string;
  logFile?: string;
  ready: boolean;
  started: boolean;
  /** Not persisted. */
  probes?: ProbeWorker[];
}

export interface PodRecord {
  uid: string;
  pod: Pod;
  containers: Record<string, ContainerRecord>;
  ips?: string[];
  netnsPath?: string;
  startTime?: string;
  initDone: boolean;
  /** The network and the cgroup of a finished pod were released. */
  netReleased?: boolean;
  /** Terminal phase reached by this kubelet (Succeeded/Failed). */
  phase?: "Succeeded" | "Failed";
  /** The API object is gone (deleted while we were away, or force-deleted). */
  apiGone?: boolean;
  /** Not persisted: last status sent. */
  lastStatus?: string;
  /** Not persisted: volume paths by name and when they were last refreshed. */
  volumes?: Record<string, string>;
  volumesAt?: number;
}

export function containerRecord(name: string, init: boolean): ContainerRecord {
  return { name, init, running: false, restartCount: 0, attempts: 0, ready: false, started: false };
}

export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}
