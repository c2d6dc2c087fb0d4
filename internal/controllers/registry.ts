// The list of controllers the manager runs, by upstream name.

import type { Controller, ControllerContext } from "./context.ts";
import { newDeploymentController } from "./deployment/controller.ts";
import { newCronJobController } from "./cronjob/controller.ts";
import { newDaemonSetController } from "./daemonset/controller.ts";
import { newStatefulSetController } from "./statefulset/controller.ts";
import { newDisruptionController } from "./disruption/controller.ts";
import { newEndpointsController } from "./endpoints/controller.ts";
import { newJobController } from "./job/controller.ts";
import { newKubernetesServiceController } from "./kubernetesservice/controller.ts";
import { newServiceLBController } from "./servicelb/controller.ts";
import { newNodeIpamController } from "./nodeipam/controller.ts";
import { newGarbageCollector } from "./garbagecollector/controller.ts";
import { newNamespaceController } from "./namespace/controller.ts";
import { newNodeLifecycleController } from "./nodelifecycle/controller.ts";
import { newPodGCController } from "./podgc/controller.ts";
import { newReplicaSetController, newReplicationControllerManager } from "./replicaset/controller.ts";
import { newCSRSigningController } from "./certificates/signer.ts";
import { newCSRApprovingController } from "./certificates/approver.ts";
import { newCSRCleanerController } from "./certificates/cleaner.ts";
import { newTokenCleanerController } from "./bootstrap/tokencleaner.ts";
import { newResourceQuotaController } from "./resourcequota/controller.ts";
import { newServiceAccountController } from "./serviceaccount/controller.ts";
import { newHorizontalPodAutoscalerController } from "./podautoscaler/controller.ts";
import { newPersistentVolumeController } from "./volume/binder.ts";
import { newPVCProtectionController, newPVProtectionController } from "./volume/protection.ts";
import { newIngressStatusController } from "./ingress/controller.ts";

export interface ControllerEntry {
  name: string;
  create(ctx: ControllerContext): Controller;
}

/** The controllers a manager with these options runs: `controllers` (all when unset) minus `disabled`. */
export function enabledControllers(opts: { controllers?: string[]; disabled?: string[] }): ControllerEntry[] {
  return CONTROLLERS.filter((c) => (!opts.controllers || opts.controllers.includes(c.name)) && !opts.disabled?.includes(c.name));
}

export const CONTROLLERS: ControllerEntry[] = [
  { name: "replicaset", create: newReplicaSetController },
  { name: "replicationcontroller", create: newReplicationControllerManager },
  { name: "csrapproving", create: newCSRApprovingController },
  { name: "csrsigning", create: newCSRSigningController },
  { name: "csrcleaner", create: (ctx) => newCSRCleanerController(ctx, ctx.options.csrCleanerPeriodMs) },
  { name: "tokencleaner", create: newTokenCleanerController },
  { name: "deployment", create: newDeploymentController },
  { name: "garbagecollector", create: newGarbageCollector },
  { name: "namespace", create: newNamespaceController },
  { name: "serviceaccount", create: newServiceAccountController },
  { name: "nodelifecycle", create: newNodeLifecycleController },
  { name: "nodeipam", create: (ctx) => newNodeIpamController(ctx) },
  { name: "podgc", create: (ctx) => newPodGCController(ctx, podGCTimings(ctx.options.podGCQuarantineMs)) },
  { name: "job", create: newJobController },
  { name: "cronjob", create: newCronJobController },
  { name: "daemonset", create: newDaemonSetController },
  { name: "statefulset", create: newStatefulSetController },
  { name: "endpoints", create: newEndpointsController },
  { name: "disruption", create: newDisruptionController },
  { name: "resourcequota", create: newResourceQuotaController },
  { name: "kubernetes-service", create: newKubernetesServiceController },
  { name: "servicelb", create: newServiceLBController },
  { name: "horizontalpodautoscaling", create: newHorizontalPodAutoscalerController },
  { name: "persistentvolume-binder", create: newPersistentVolumeController },
  { name: "pvc-protection", create: newPVCProtectionController },
  { name: "pv-protection", create: newPVProtectionController },
  { name: "ingress-status", create: newIngressStatusController },
];

function podGCTimings(quarantineMs?: number) {
  return quarantineMs === undefined ? {} : { quarantineMs, periodMs: Math.max(100, quarantineMs / 2) };
}
