// ResourceRefs of the resources kubun's own components use, taken from the served-resource registry.

import { findResource } from "../api/resources.ts";
import type { ResourceRef } from "./types.ts";

function ref(group: string, version: string, resource: string): ResourceRef {
  const ri = findResource(group, version, resource);
  if (!ri) throw new Error(`unknown resource ${group}/${version}/${resource}`);
  return { group: ri.group, version: ri.version, resource: ri.resource, namespaced: ri.namespaced };
}

export const refs = {
  pods: ref("", "v1", "pods"),
  nodes: ref("", "v1", "nodes"),
  namespaces: ref("", "v1", "namespaces"),
  services: ref("", "v1", "services"),
  endpoints: ref("", "v1", "endpoints"),
  events: ref("", "v1", "events"),
  configmaps: ref("", "v1", "configmaps"),
  secrets: ref("", "v1", "secrets"),
  serviceaccounts: ref("", "v1", "serviceaccounts"),
  persistentvolumeclaims: ref("", "v1", "persistentvolumeclaims"),
  persistentvolumes: ref("", "v1", "persistentvolumes"),
  storageclasses: ref("storage.k8s.io", "v1", "storageclasses"),
  csinodes: ref("storage.k8s.io", "v1", "csinodes"),
  replicationcontrollers: ref("", "v1", "replicationcontrollers"),
  certificatesigningrequests: ref("certificates.k8s.io", "v1", "certificatesigningrequests"),
  subjectaccessreviews: ref("authorization.k8s.io", "v1", "subjectaccessreviews"),
  deployments: ref("apps", "v1", "deployments"),
  replicasets: ref("apps", "v1", "replicasets"),
  daemonsets: ref("apps", "v1", "daemonsets"),
  statefulsets: ref("apps", "v1", "statefulsets"),
  controllerrevisions: ref("apps", "v1", "controllerrevisions"),
  jobs: ref("batch", "v1", "jobs"),
  cronjobs: ref("batch", "v1", "cronjobs"),
  leases: ref("coordination.k8s.io", "v1", "leases"),
  endpointslices: ref("discovery.k8s.io", "v1", "endpointslices"),
  networkpolicies: ref("networking.k8s.io", "v1", "networkpolicies"),
  ingresses: ref("networking.k8s.io", "v1", "ingresses"),
  ingressclasses: ref("networking.k8s.io", "v1", "ingressclasses"),
  poddisruptionbudgets: ref("policy", "v1", "poddisruptionbudgets"),
  priorityclasses: ref("scheduling.k8s.io", "v1", "priorityclasses"),
};
