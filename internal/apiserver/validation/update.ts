// Update-time validation: immutable fields per kind (upstream's ValidateUpdate functions).
import { validatePersistentVolumeClaimUpdate, validatePersistentVolumeUpdate, validateStorageClassUpdate } from "./storage.ts";
import type { ResourceInfo } from "../../api/resources.ts";
import { Errors, goValue } from "./errors.ts";
import { validateCreate } from "./kinds.ts";
import { validateCSRUpdate } from "./certificates.ts";
import { validateIngressClassUpdate } from "./ingress.ts";
import { selectorString, validateObjectMetaUpdate } from "./meta.ts";
import { deepEqual, isObj, type Obj } from "./util.ts";

const POD_UPDATE_FORBIDDEN =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/** The pod spec with every mutable field replaced by the old one, to compare the rest. */
function podSpecMutableMasked(spec: Obj, old: Obj, allowBinding: boolean): Obj {
  const s = structuredClone(spec);
  if (allowBinding && !old.nodeName && s.nodeName) s.nodeName = old.nodeName;
  for (const list of ["containers", "initContainers"] as const) {
    (s[list] ?? []).forEach((c: Obj, i: number) => {
      if (old[list]?.[i]) c.image = old[list][i].image;
    });
  }
  s.activeDeadlineSeconds = old.activeDeadlineSeconds;
  // Tolerations may only be added to.
  const oldTol: Obj[] = old.tolerations ?? [];
  const newTol: Obj[] = s.tolerations ?? [];
  if (oldTol.every((t) => newTol.some((n) => deepEqual({ ...n, tolerationSeconds: undefined }, { ...t, tolerationSeconds: undefined })))) s.tolerations = old.tolerations;
  if ((old.terminationGracePeriodSeconds ?? 0) < 0 && s.terminationGracePeriodSeconds === 1) s.terminationGracePeriodSeconds = old.terminationGracePeriodSeconds;
  // Scheduling gates may be removed; ephemeral containers change through their own subresource.
  if ((s.schedulingGates ?? []).every((g: Obj) => (old.schedulingGates ?? []).some((o: Obj) => o.name === g.name))) s.schedulingGates = old.schedulingGates;
  s.ephemeralContainers = old.ephemeralContainers;
  return s;
}

/**
 * Update-time validation: the object must be valid and immutable fields unchanged. `subresource` is the
 * subresource written through ("status", "binding", ...): those only change what their strategy allows,
 * so the spec immutability rules of the main resource don't apply. When it is unknown (undefined), a
 * pod's first assignment to a node is accepted, as the binding subresource does it.
 */
export function validateUpdate(ri: ResourceInfo, obj: Obj, old: Obj, subresource?: string): Errors {
  const e = validateCreate(ri, obj, old);
  if (!isObj(obj) || !isObj(old)) return e;
  validateObjectMetaUpdate(e, obj.metadata, old.metadata);
  if (ri.kind === "CertificateSigningRequest") validateCSRUpdate(e, obj, old);
  if (subresource) {
    if (ri.kind === "Pod" && old.spec?.nodeName && obj.spec?.nodeName !== old.spec.nodeName) {
      e.invalid("spec.nodeName", obj.spec?.nodeName ?? "", "field is immutable");
    }
    return e;
  }
  const spec = obj.spec ?? {};
  const oldSpec = old.spec ?? {};
  const immutable = (path: string, a: unknown, b: unknown, shown: unknown = a) => {
    if (b !== undefined && !deepEqual(a, b)) e.invalid(path, shown, "field is immutable");
  };
  switch (ri.kind) {
    case "Pod":
      if (isObj(obj.spec) && isObj(old.spec) && !deepEqual(podSpecMutableMasked(obj.spec, old.spec, subresource === undefined), old.spec)) {
        e.forbidden("spec", POD_UPDATE_FORBIDDEN);
      }
      break;
    case "Deployment":
    case "ReplicaSet":
    case "DaemonSet":
      if (spec.selector && oldSpec.selector && !deepEqual(spec.selector, oldSpec.selector)) {
        e.list.push({ reason: "FieldValueInvalid", field: "spec.selector", message: `Invalid value: ${selectorString(spec.selector)}: field is immutable` });
      }
      break;
    case "StatefulSet": {
      const mutable = ["replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];
      const strip = (s: Obj) => Object.fromEntries(Object.entries(s).filter(([k]) => !mutable.includes(k)));
      if (!deepEqual(strip(spec), strip(oldSpec))) {
        e.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
      }
      break;
    }
    case "Job":
      if (oldSpec.selector) immutable("spec.selector", spec.selector, oldSpec.selector, selectorString(spec.selector ?? {}));
      if (oldSpec.completionMode) immutable("spec.completionMode", spec.completionMode, oldSpec.completionMode);
      if (oldSpec.template && !deepEqual(spec.template, oldSpec.template)) {
        // Upstream permits template changes only while the job is suspended (scheduling directives).
        if (!(oldSpec.suspend === true && spec.suspend === true)) e.invalid("spec.template", "core.PodTemplateSpec{...}", "field is immutable");
      }
      if (oldSpec.completions !== undefined && spec.completions !== oldSpec.completions && spec.completionMode !== "Indexed") {
        e.invalid("spec.completions", spec.completions, "field is immutable");
      }
      break;
    case "Service":
      // An update that leaves clusterIP empty keeps the allocated one (upstream's patchAllocatedValues).
      if (spec.clusterIP && oldSpec.clusterIP && oldSpec.clusterIP !== "None" && spec.clusterIP !== oldSpec.clusterIP && spec.type !== "ExternalName" && oldSpec.type !== "ExternalName") {
        e.invalid("spec.clusterIPs[0]", spec.clusterIPs ?? [spec.clusterIP ?? ""], "may not change once set");
      }
      break;
    case "ConfigMap":
    case "Secret":
      if (old.immutable === true) {
        if (obj.immutable !== true) e.forbidden("immutable", "field is immutable when `immutable` is set");
        if (!deepEqual(obj.data ?? {}, old.data ?? {})) e.forbidden("data", "field is immutable when `immutable` is set");
        if (ri.kind === "ConfigMap" && !deepEqual(obj.binaryData ?? {}, old.binaryData ?? {})) e.forbidden("binaryData", "field is immutable when `immutable` is set");
      }
      if (ri.kind === "Secret" && old.type && obj.type !== old.type) e.invalid("type", obj.type, "field is immutable");
      break;
    case "RoleBinding":
    case "ClusterRoleBinding":
      if (old.roleRef && !deepEqual(obj.roleRef, old.roleRef)) e.invalid("roleRef", goValue(obj.roleRef), "cannot change roleRef");
      break;
    case "PriorityClass":
      if (old.value !== undefined && obj.value !== old.value) e.forbidden("value", "may not be changed in an update.");
      break;
    case "PersistentVolumeClaim":
      validatePersistentVolumeClaimUpdate(e, obj, old);
      break;
    case "PersistentVolume":
      validatePersistentVolumeUpdate(e, obj, old);
      break;
    case "StorageClass":
      validateStorageClassUpdate(e, obj, old);
      break;
    case "IngressClass":
      validateIngressClassUpdate(e, obj, old);
      break;
    case "EndpointSlice":
      if (old.addressType && obj.addressType !== old.addressType) e.invalid("addressType", obj.addressType, "field is immutable");
      break;
    case "Node": {
      const oldCIDRs = oldSpec.podCIDRs ?? [];
      if (oldCIDRs.length && !deepEqual(spec.podCIDRs ?? [], oldCIDRs)) e.forbidden("spec.podCIDRs", "node updates may not change podCIDR except from \"\" to valid");
      break;
    }
  }
  return e;
}
