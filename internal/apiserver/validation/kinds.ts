// Per-kind validation on create (upstream's registry strategies: Validate), dispatching to the
// validators of each API area.
import type { ResourceInfo } from "../../api/resources.ts";
import { Errors } from "./errors.ts";
import { validateFlowSchema, validatePriorityLevelConfiguration } from "../flowcontrol/validation.ts";
import { validateObjectMeta, type NameCheck } from "./meta.ts";
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isValidPathSegmentName } from "./names.ts";
import { validatePodSpec } from "./pod.ts";
import { validateConfigMap, validateSecret } from "./config.ts";
import { validateEndpointSlice, validateNode, validateService } from "./network.ts";
import { validateEndpoints, validateEndpointSliceAddresses } from "./endpoints.ts";
import { validateBinding, validateRoleRules } from "./rbac.ts";
import { nonNegative, isObj, type Obj } from "./util.ts";
import { validateCronJob, validateDaemonSet, validateDeployment, validateJobSpec, validatePodDisruptionBudget, validateReplicaSet, validateReplicationController, validateStatefulSet } from "./workloads.ts";
import { validateCSR } from "./certificates.ts";
import { validatePodTemplate } from "./pod.ts";
import { validateWebhookConfiguration } from "./admissionregistration.ts";
import { validateNetworkPolicy } from "./networkpolicy.ts";
import { validateIngress, validateIngressClass } from "./ingress.ts";
import { validatePersistentVolume, validatePersistentVolumeClaim, validateStorageClass } from "./storage.ts";
import { validateHorizontalPodAutoscaler } from "./autoscaling.ts";

/** Which name syntax each kind uses (upstream's ValidateXName functions). */
export function nameCheckFor(kind: string): NameCheck {
  switch (kind) {
    case "Namespace":
      return isDNS1123Label;
    case "Service":
      return isDNS1035Label;
    case "Role":
    case "ClusterRole":
    case "RoleBinding":
    case "ClusterRoleBinding":
      return isValidPathSegmentName;
    case "CronJob":
      return (n) => [...isDNS1123Subdomain(n), ...(n.length > 52 ? ["must be no more than 52 characters"] : [])];
    default:
      return isDNS1123Subdomain;
  }
}

/** Create-time validation of one object; `old` (on update) lets kinds keep values only older objects could have. */
export function validateCreate(ri: ResourceInfo, obj: Obj, old?: Obj): Errors {
  const e = new Errors();
  if (!isObj(obj)) {
    e.invalid("", obj, "must be an object");
    return e;
  }
  // Reviews and bindings are never stored and carry no name of their own.
  if (ri.virtual) return e;
  validateObjectMeta(e, obj.metadata, ri.namespaced, nameCheckFor(ri.kind));
  switch (ri.kind) {
    case "Pod":
      validatePodSpec(e, obj.spec, "spec");
      break;
    case "Deployment":
      validateDeployment(e, obj);
      break;
    case "ReplicaSet":
      validateReplicaSet(e, obj);
      break;
    case "DaemonSet":
      validateDaemonSet(e, obj);
      break;
    case "StatefulSet":
      validateStatefulSet(e, obj);
      break;
    case "Job":
      if (!isObj(obj.spec)) e.required("spec");
      else validateJobSpec(e, obj.spec, "spec", false);
      break;
    case "CronJob":
      validateCronJob(e, obj);
      break;
    case "Service":
      validateService(e, obj);
      break;
    case "ConfigMap":
      validateConfigMap(e, obj);
      break;
    case "Secret":
      validateSecret(e, obj);
      break;
    case "Role":
    case "ClusterRole":
      validateRoleRules(e, obj.rules, "rules");
      break;
    case "RoleBinding":
    case "ClusterRoleBinding":
      validateBinding(e, obj, ri.kind === "RoleBinding");
      break;
    case "EndpointSlice":
      validateEndpointSlice(e, obj);
      validateEndpointSliceAddresses(e, obj);
      break;
    case "Endpoints":
      validateEndpoints(e, obj);
      break;
    case "Node":
      validateNode(e, obj);
      break;
    case "PodDisruptionBudget":
      validatePodDisruptionBudget(e, obj);
      break;
    case "FlowSchema":
      validateFlowSchema(e, obj);
      break;
    case "PriorityLevelConfiguration":
      validatePriorityLevelConfiguration(e, obj);
      break;
    case "HorizontalPodAutoscaler":
      if (ri.group === "autoscaling") validateHorizontalPodAutoscaler(e, obj);
      break;
    case "PriorityClass":
      if (typeof obj.value !== "number") e.required("value");
      else if (obj.value > 1000000000 && !String(obj.metadata?.name ?? "").startsWith("system-")) {
        e.forbidden("value", "maximum allowed value of a user defined priority is 1000000000");
      }
      if (String(obj.metadata?.name ?? "").startsWith("system-") && !["system-node-critical", "system-cluster-critical"].includes(obj.metadata.name)) {
        e.forbidden("metadata.name", "priority class names with 'system-' prefix are reserved for system use only");
      }
      break;
    case "ReplicationController":
      validateReplicationController(e, obj);
      break;
    case "PodTemplate":
      validatePodTemplate(e, obj.template, "template");
      break;
    case "CertificateSigningRequest":
      validateCSR(e, obj);
      break;
    case "RuntimeClass":
      if (typeof obj.handler !== "string" || obj.handler === "") e.required("handler");
      else e.invalidEach("handler", obj.handler, isDNS1123Label(obj.handler));
      if (obj.overhead?.podFixed !== undefined && !isObj(obj.overhead.podFixed)) e.invalid("overhead.podFixed", obj.overhead.podFixed, "must be a map");
      break;
    case "MutatingWebhookConfiguration":
    case "ValidatingWebhookConfiguration":
      if (ri.group === "admissionregistration.k8s.io") validateWebhookConfiguration(e, obj, ri.kind === "MutatingWebhookConfiguration", old);
      break;
    case "PersistentVolumeClaim":
      validatePersistentVolumeClaim(e, obj);
      break;
    case "PersistentVolume":
      validatePersistentVolume(e, obj);
      break;
    case "StorageClass":
      validateStorageClass(e, obj);
      break;
    case "Ingress":
      if (ri.group === "networking.k8s.io") validateIngress(e, obj);
      break;
    case "IngressClass":
      if (ri.group === "networking.k8s.io") validateIngressClass(e, obj);
      break;
    case "NetworkPolicy":
      if (ri.group === "networking.k8s.io") validateNetworkPolicy(e, obj);
      break;
    case "Lease":
      nonNegative(e, obj.spec?.leaseDurationSeconds, "spec.leaseDurationSeconds");
      nonNegative(e, obj.spec?.leaseTransitions, "spec.leaseTransitions");
      break;
  }
  return e;
}

