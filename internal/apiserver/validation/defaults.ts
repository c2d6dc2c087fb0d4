// Upstream defaulting (pkg/apis/*/v1/defaults.go and the registry strategies) for the kinds kubun serves.
// Mutates the object in place; runs before admission and validation on create and update.
import type { ResourceInfo } from "../../api/resources.ts";
import { stripNulls } from "./nulls.ts";
import { defaultFlowSchema, defaultPriorityLevelConfiguration } from "../flowcontrol/validation.ts";
import { markWellTyped, takeWellTyped, typeMismatches } from "./types.ts";
import { defaultWebhookConfiguration } from "./admissionregistration.ts";
import { defaultNetworkPolicy } from "./networkpolicy.ts";
import { defaultIngress, defaultIngressClass } from "./ingress.ts";

type Obj = Record<string, any>;

// Go defaulting tests zero values: an empty string is as unset as a missing field (protobuf clients such as
// `kubectl create deployment` send "" for every string enum they leave alone).
const setDefault = (o: Obj, key: string, value: unknown) => {
  if (o[key] === undefined || o[key] === null || (o[key] === "" && typeof value === "string")) o[key] = value;
};
/** For non-pointer integers upstream defaults when zero (probe timings, hostPort). */
const setDefaultIfZero = (o: Obj, key: string, value: unknown) => {
  if (o[key] === undefined || o[key] === null || o[key] === 0) o[key] = value;
};
/** Lists upstream defaults when empty. */
const setDefaultIfEmpty = (o: Obj, key: string, value: unknown[]) => {
  if (o[key] === undefined || o[key] === null || (Array.isArray(o[key]) && o[key].length === 0)) o[key] = value;
};

function defaultProbe(p: Obj | undefined) {
  if (!p || typeof p !== "object") return;
  setDefaultIfZero(p, "timeoutSeconds", 1);
  setDefaultIfZero(p, "periodSeconds", 10);
  setDefaultIfZero(p, "successThreshold", 1);
  setDefaultIfZero(p, "failureThreshold", 3);
  if (p.httpGet && typeof p.httpGet === "object") setDefault(p.httpGet, "path", "/"), setDefault(p.httpGet, "scheme", "HTTP");
}

/** ":latest" or no tag (and no digest) pulls Always, anything else IfNotPresent. */
export function defaultPullPolicy(image: string | undefined): "Always" | "IfNotPresent" {
  if (!image) return "IfNotPresent";
  if (image.includes("@")) return "IfNotPresent";
  const lastSlash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  if (colon <= lastSlash) return "Always";
  return image.slice(colon + 1) === "latest" ? "Always" : "IfNotPresent";
}

function defaultContainer(c: Obj) {
  if (!c || typeof c !== "object") return;
  setDefault(c, "imagePullPolicy", defaultPullPolicy(c.image));
  setDefault(c, "terminationMessagePath", "/dev/termination-log");
  setDefault(c, "terminationMessagePolicy", "File");
  // Go serializes the empty struct, so upstream objects always show `resources: {}`.
  setDefault(c, "resources", {});
  for (const p of Array.isArray(c.ports) ? c.ports : []) if (p && typeof p === "object") setDefault(p, "protocol", "TCP");
  for (const e of Array.isArray(c.env) ? c.env : []) {
    const f = e?.valueFrom?.fieldRef;
    if (f && typeof f === "object") setDefault(f, "apiVersion", "v1");
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  // Limits without requests default the requests to the limits.
  const r = c.resources;
  if (r && typeof r === "object" && r.limits && typeof r.limits === "object") {
    r.requests = { ...r.limits, ...(r.requests ?? {}) };
  }
}

function defaultVolume(v: Obj) {
  if (!v || typeof v !== "object") return;
  const mode = (src: Obj | undefined) => src && typeof src === "object" && setDefault(src, "defaultMode", 0o644);
  mode(v.secret);
  mode(v.configMap);
  mode(v.downwardAPI);
  if (v.projected && typeof v.projected === "object") setDefault(v.projected, "defaultMode", 0o644);
  if (v.hostPath && typeof v.hostPath === "object") setDefault(v.hostPath, "type", "");
  if (v.emptyDir === null) v.emptyDir = {};
}

export function defaultPodSpec(spec: Obj | undefined) {
  if (!spec || typeof spec !== "object") return;
  setDefault(spec, "restartPolicy", "Always");
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  setDefault(spec, "terminationGracePeriodSeconds", 30);
  setDefault(spec, "schedulerName", "default-scheduler");
  setDefault(spec, "securityContext", {});
  setDefault(spec, "enableServiceLinks", true);
  // serviceAccount is the deprecated alias of serviceAccountName; upstream keeps them equal.
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  for (const c of Array.isArray(spec.containers) ? spec.containers : []) defaultContainer(c);
  for (const c of Array.isArray(spec.initContainers) ? spec.initContainers : []) defaultContainer(c);
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) defaultVolume(v);
  if (spec.hostNetwork === true) {
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      for (const p of Array.isArray(c?.ports) ? c.ports : []) if (p && typeof p === "object") setDefaultIfZero(p, "hostPort", p.containerPort);
    }
  }
}

function defaultTemplate(tpl: Obj | undefined) {
  if (!tpl || typeof tpl !== "object") return;
  defaultPodSpec(tpl.spec);
}

/** Pod-level defaults that only apply to pods, not templates. */
function defaultPod(pod: Obj) {
  pod.spec ??= {};
  defaultPodSpec(pod.spec);
  // No serviceAccountName default here: upstream's ServiceAccount admission sets "default" (and leaves mirror pods,
  // which may not have one, alone). serviceAccount is the deprecated alias the API keeps equal to it.
  if (pod.spec.serviceAccount === undefined && pod.spec.serviceAccountName) pod.spec.serviceAccount = pod.spec.serviceAccountName;
  // priority/preemptionPolicy and the not-ready/unreachable tolerations are set by the Priority and
  // DefaultTolerationSeconds admission plugins, as upstream; defaulting them here would make Priority
  // admission reject pods whose class computes another value.
  pod.status ??= {};
  setDefault(pod.status, "phase", "Pending");
  setDefault(pod.status, "qosClass", qosClass(pod.spec));
}

/** Upstream's QoS class of a pod spec (Guaranteed, Burstable or BestEffort). */
export function qosClass(spec: Obj): "Guaranteed" | "Burstable" | "BestEffort" {
  const containers: Obj[] = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c?.resources?.requests ?? {};
    const lim = c?.resources?.limits ?? {};
    for (const r of ["cpu", "memory"]) {
      if (req[r] !== undefined || lim[r] !== undefined) any = true;
      if (lim[r] === undefined || (req[r] !== undefined && String(req[r]) !== String(lim[r]))) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

function defaultService(svc: Obj) {
  const spec = (svc.spec ??= {});
  setDefault(spec, "type", "ClusterIP");
  setDefault(spec, "sessionAffinity", "None");
  if (spec.type !== "ExternalName") {
    setDefault(spec, "ipFamilyPolicy", "SingleStack");
    setDefaultIfEmpty(spec, "ipFamilies", ["IPv4"]);
    setDefault(spec, "internalTrafficPolicy", "Cluster");
  }
  if (spec.type === "NodePort" || spec.type === "LoadBalancer") setDefault(spec, "externalTrafficPolicy", "Cluster");
  if (spec.type === "LoadBalancer") setDefault(spec, "allocateLoadBalancerNodePorts", true);
  if (spec.clusterIP && !(Array.isArray(spec.clusterIPs) && spec.clusterIPs.length)) spec.clusterIPs = [spec.clusterIP];
  for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
    if (!p || typeof p !== "object") continue;
    setDefault(p, "protocol", "TCP");
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === "") p.targetPort = p.port;
  }
  if (spec.sessionAffinity === "ClientIP") {
    spec.sessionAffinityConfig ??= {};
    spec.sessionAffinityConfig.clientIP ??= {};
    setDefault(spec.sessionAffinityConfig.clientIP, "timeoutSeconds", 10800);
  }
  svc.status ??= {};
  svc.status.loadBalancer ??= {};
}

function defaultWorkload(obj: Obj, kind: string) {
  const spec = (obj.spec ??= {});
  // apps/v1 never defaults the selector (validation requires it), only the pod template.
  defaultTemplate(spec.template);
  switch (kind) {
    case "Deployment": {
      setDefault(spec, "replicas", 1);
      spec.strategy ??= {};
      setDefault(spec.strategy, "type", "RollingUpdate");
      if (spec.strategy.type === "RollingUpdate") {
        spec.strategy.rollingUpdate ??= {};
        setDefault(spec.strategy.rollingUpdate, "maxUnavailable", "25%");
        setDefault(spec.strategy.rollingUpdate, "maxSurge", "25%");
      }
      setDefault(spec, "revisionHistoryLimit", 10);
      setDefault(spec, "progressDeadlineSeconds", 600);
      break;
    }
    case "ReplicaSet":
      setDefault(spec, "replicas", 1);
      break;
    case "DaemonSet": {
      spec.updateStrategy ??= {};
      setDefault(spec.updateStrategy, "type", "RollingUpdate");
      if (spec.updateStrategy.type === "RollingUpdate") {
        spec.updateStrategy.rollingUpdate ??= {};
        setDefault(spec.updateStrategy.rollingUpdate, "maxUnavailable", 1);
        setDefault(spec.updateStrategy.rollingUpdate, "maxSurge", 0);
      }
      setDefault(spec, "revisionHistoryLimit", 10);
      break;
    }
    case "StatefulSet": {
      setDefault(spec, "replicas", 1);
      setDefault(spec, "podManagementPolicy", "OrderedReady");
      spec.updateStrategy ??= {};
      setDefault(spec.updateStrategy, "type", "RollingUpdate");
      if (spec.updateStrategy.type === "RollingUpdate") {
        spec.updateStrategy.rollingUpdate ??= {};
        setDefault(spec.updateStrategy.rollingUpdate, "partition", 0);
      }
      setDefault(spec, "revisionHistoryLimit", 10);
      spec.persistentVolumeClaimRetentionPolicy ??= {};
      setDefault(spec.persistentVolumeClaimRetentionPolicy, "whenDeleted", "Retain");
      setDefault(spec.persistentVolumeClaimRetentionPolicy, "whenScaled", "Retain");
      for (const pvc of Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : []) {
        if (pvc && typeof pvc === "object") {
          pvc.apiVersion ??= "v1";
          pvc.kind ??= "PersistentVolumeClaim";
          pvc.spec ??= {};
          setDefault(pvc.spec, "volumeMode", "Filesystem");
          pvc.status ??= { phase: "Pending" };
        }
      }
      break;
    }
  }
}

function defaultJobSpec(spec: Obj) {
  const indexed = spec.completionMode === "Indexed";
  setDefault(spec, "completionMode", "NonIndexed");
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setDefault(spec, "parallelism", 1);
  setDefault(spec, "backoffLimit", indexed && spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6);
  setDefault(spec, "suspend", false);
  setDefault(spec, "podReplacementPolicy", spec.podFailurePolicy ? "Failed" : "TerminatingOrFailed");
  defaultTemplate(spec.template);
}

function defaultCronJob(cj: Obj) {
  const spec = (cj.spec ??= {});
  setDefault(spec, "concurrencyPolicy", "Allow");
  setDefault(spec, "suspend", false);
  setDefault(spec, "successfulJobsHistoryLimit", 3);
  setDefault(spec, "failedJobsHistoryLimit", 1);
  spec.jobTemplate ??= {};
  spec.jobTemplate.spec ??= {};
  // Upstream defaults only the pod template inside a CronJob; the Job gets its own defaults when created.
  defaultTemplate(spec.jobTemplate.spec.template);
}

/** autoscaling/v2 defaults (the storage form; v1 objects are converted first): minReplicas, a CPU target, behavior. */
function defaultHorizontalPodAutoscaler(obj: any): void {
  const spec = obj.spec;
  if (!spec || typeof spec !== "object") return;
  setDefault(spec, "minReplicas", 1);
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }];
  }
  const b = spec.behavior;
  if (!b || typeof b !== "object") return;
  // Upstream fills only the rules of a behavior that was given.
  b.scaleUp ??= {};
  b.scaleDown ??= {};
  if (b.scaleUp && typeof b.scaleUp === "object") {
    setDefault(b.scaleUp, "stabilizationWindowSeconds", 0);
    setDefault(b.scaleUp, "selectPolicy", "Max");
    b.scaleUp.policies ??= [
      { type: "Pods", value: 4, periodSeconds: 15 },
      { type: "Percent", value: 100, periodSeconds: 15 },
    ];
  }
  if (b.scaleDown && typeof b.scaleDown === "object") {
    setDefault(b.scaleDown, "stabilizationWindowSeconds", 300);
    setDefault(b.scaleDown, "selectPolicy", "Max");
    b.scaleDown.policies ??= [{ type: "Percent", value: 100, periodSeconds: 15 }];
  }
}

/**
 * Fills in upstream's defaults for the object's kind, in place. Nulls are dropped first (Go decodes them
 * as absent); an object with wrongly typed values is left alone, since validation rejects it.
 */
export function defaultObject(ri: ResourceInfo, obj: any): void {
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) return;
  // A null turned into an empty value can be of the wrong type: then the object is walked again.
  const changed = stripNulls(obj);
  if (!takeWellTyped(obj) || changed) {
    if (typeMismatches(ri, obj).length) return;
  }
  // Defaults are well-typed: validation of the same object need not walk it again.
  markWellTyped(obj);
  defaultKind(ri, obj);
}

function defaultKind(ri: ResourceInfo, obj: any): void {
  switch (ri.kind) {
    case "Pod":
      return defaultPod(obj);
    case "Service":
      return defaultService(obj);
    case "NetworkPolicy":
      return defaultNetworkPolicy(obj);
    case "Deployment":
    case "ReplicaSet":
    case "DaemonSet":
    case "StatefulSet":
      return defaultWorkload(obj, ri.kind);
    case "ReplicationController": {
      // Upstream SetDefaults_ReplicationController: selector and labels default to the template's labels.
      const spec = (obj.spec ??= {});
      const tplLabels = spec.template?.metadata?.labels;
      if (tplLabels && typeof tplLabels === "object") {
        if (!spec.selector || Object.keys(spec.selector).length === 0) spec.selector = { ...tplLabels };
        obj.metadata ??= {};
        if (!obj.metadata.labels || Object.keys(obj.metadata.labels).length === 0) obj.metadata.labels = { ...tplLabels };
      }
      setDefault(spec, "replicas", 1);
      defaultTemplate(spec.template);
      return;
    }
    case "PodTemplate":
      defaultTemplate(obj.template);
      return;
    case "CertificateSigningRequest":
      for (const c of Array.isArray(obj.status?.conditions) ? obj.status.conditions : []) {
        if (c && typeof c === "object" && !c.status) c.status = "True";
      }
      return;
    case "Job":
      obj.spec ??= {};
      return defaultJobSpec(obj.spec);
    case "CronJob":
      return defaultCronJob(obj);
    case "MutatingWebhookConfiguration":
    case "ValidatingWebhookConfiguration":
      if (ri.group === "admissionregistration.k8s.io") defaultWebhookConfiguration(obj, ri.kind === "MutatingWebhookConfiguration");
      return;
    case "Namespace":
      obj.spec ??= {};
      setDefault(obj.spec, "finalizers", ["kubernetes"]);
      obj.status ??= {};
      setDefault(obj.status, "phase", "Active");
      // Upstream labels every namespace with its own name.
      obj.metadata ??= {};
      if (obj.metadata.name) obj.metadata.labels = { ...(obj.metadata.labels ?? {}), "kubernetes.io/metadata.name": obj.metadata.name };
      return;
    case "Secret":
      setDefault(obj, "type", "Opaque");
      // stringData is write-only: upstream's conversion merges it into data (overriding) and drops it.
      if (obj.stringData && typeof obj.stringData === "object" && !Array.isArray(obj.stringData)) {
        const data = obj.data && typeof obj.data === "object" ? obj.data : {};
        // defineProperty: a "__proto__" key (a valid Secret key) is stored as data, not as data's prototype.
        for (const [k, v] of Object.entries(obj.stringData)) {
          Object.defineProperty(data, k, { value: Buffer.from(String(v ?? ""), "utf8").toString("base64"), writable: true, enumerable: true, configurable: true });
        }
        obj.data = data;
      }
      delete obj.stringData;
      return;
    case "Node":
      obj.spec ??= {};
      return;
    case "PersistentVolumeClaim":
      obj.spec ??= {};
      setDefault(obj.spec, "volumeMode", "Filesystem");
      obj.status ??= {};
      setDefault(obj.status, "phase", "Pending");
      return;
    case "PersistentVolume":
      obj.spec ??= {};
      setDefault(obj.spec, "persistentVolumeReclaimPolicy", "Retain");
      setDefault(obj.spec, "volumeMode", "Filesystem");
      obj.status ??= {};
      setDefault(obj.status, "phase", "Pending");
      return;
    case "StorageClass":
      setDefault(obj, "reclaimPolicy", "Delete");
      setDefault(obj, "volumeBindingMode", "Immediate");
      return;
    case "IngressClass":
      return defaultIngressClass(obj);
    case "Ingress":
      return defaultIngress(obj);
    case "FlowSchema":
      return defaultFlowSchema(obj);
    case "PriorityLevelConfiguration":
      return defaultPriorityLevelConfiguration(obj);
    case "PriorityClass":
      setDefault(obj, "preemptionPolicy", "PreemptLowerPriority");
      return;
    case "HorizontalPodAutoscaler":
      if (ri.group === "autoscaling") defaultHorizontalPodAutoscaler(obj);
      return;
    case "EndpointSlice":
      for (const p of Array.isArray(obj.ports) ? obj.ports : []) if (p && typeof p === "object") setDefault(p, "protocol", "TCP");
      return;
    case "Endpoints":
      for (const s of Array.isArray(obj.subsets) ? obj.subsets : []) {
        for (const p of Array.isArray(s?.ports) ? s.ports : []) if (p && typeof p === "object") setDefault(p, "protocol", "TCP");
      }
      return;
    case "RoleBinding":
    case "ClusterRoleBinding":
      for (const s of Array.isArray(obj.subjects) ? obj.subjects : []) {
        if (!s || typeof s !== "object") continue;
        if (s.kind === "User" || s.kind === "Group") setDefault(s, "apiGroup", "rbac.authorization.k8s.io");
        if (s.kind === "ServiceAccount") setDefault(s, "apiGroup", "");
      }
      return;
    case "Event":
      if (ri.group === "") {
        setDefault(obj, "type", "Normal");
      }
      return;
  }
}
