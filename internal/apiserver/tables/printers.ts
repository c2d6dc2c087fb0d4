// Server-side printers per resource (pkg/printers/internalversion/printers.go upstream). The server always
// sends the wide (priority 1) columns; kubectl hides them unless `-o wide`.
import type { Printer } from "./columns.ts";
import { configmaps, events, leases, namespaces, nodes, secrets, serviceaccounts } from "./cluster.ts";
import { bindings, controllerrevisions, createdAt, pdbs, priorityclasses, pvcs, pvs, resourcequotas } from "./misc.ts";
import { endpoints, endpointslices, networkpolicies, services } from "./network.ts";
import { ingressclasses, ingresses } from "./ingress.ts";
import { pods } from "./pods.ts";
import { flowschemas, prioritylevelconfigurations } from "../flowcontrol/tables.ts";
import { apiservices, certificatesigningrequests, podtemplates, replicationcontrollers, runtimeclasses } from "./extra.ts";
import { mutatingwebhookconfigurations, validatingwebhookconfigurations } from "./admissionregistration.ts";
import { csidrivers, csinodes, csistoragecapacities, storageclasses, volumeattachments } from "./storage.ts";
import { cronjobs, daemonsets, deployments, jobs, replicasets, statefulsets } from "./workloads.ts";
import { horizontalpodautoscalers } from "./autoscaling.ts";

export type { Column, Printer } from "./columns.ts";

/** Upstream's default table for kinds without a printer: Name and Created At. */
export const defaultPrinter = createdAt;

export const PRINTERS: Record<string, Printer> = {
  pods,
  deployments,
  replicasets,
  daemonsets,
  statefulsets,
  jobs,
  cronjobs,
  services,
  endpoints,
  endpointslices,
  networkpolicies,
  ingresses,
  ingressclasses,
  nodes,
  namespaces,
  configmaps,
  secrets,
  serviceaccounts,
  events,
  leases,
  roles: createdAt,
  clusterroles: createdAt,
  rolebindings: bindings,
  clusterrolebindings: bindings,
  priorityclasses,
  persistentvolumeclaims: pvcs,
  persistentvolumes: pvs,
  storageclasses,
  csidrivers,
  csinodes,
  volumeattachments,
  csistoragecapacities,
  poddisruptionbudgets: pdbs,
  controllerrevisions,
  resourcequotas,
  limitranges: createdAt,
  flowschemas,
  prioritylevelconfigurations,
  replicationcontrollers,
  podtemplates,
  certificatesigningrequests,
  runtimeclasses,
  mutatingwebhookconfigurations,
  validatingwebhookconfigurations,
  apiservices,
  horizontalpodautoscalers,
};
