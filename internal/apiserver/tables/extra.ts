// Tables of replicationcontrollers, podtemplates, certificatesigningrequests, runtimeclasses and apiservices
// (upstream printers.go and kube-aggregator's apiservice printer).
import { containersAndImages, formatLabels, humanDuration } from "./format.ts";
import { AGE, CONTAINERS, IMAGES, NAME, age, col, num, selectorCol, type Obj, type Printer } from "./columns.ts";

export const replicationcontrollers: Printer = {
  columns: [
    NAME,
    col("Desired", "integer", "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller"),
    col("Current", "integer", "Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller"),
    col("Ready", "integer", "The number of ready replicas for this replication controller."),
    AGE,
    CONTAINERS,
    IMAGES,
    selectorCol("Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"),
  ],
  cells(rc, now) {
    const [c, i] = containersAndImages(rc.spec?.template?.spec);
    const s = rc.status ?? {};
    return [rc.metadata?.name, num(rc.spec?.replicas), num(s.replicas), num(s.readyReplicas), age(rc, now), c, i, formatLabels(rc.spec?.selector)];
  },
};

export const podtemplates: Printer = {
  columns: [
    NAME,
    col("Containers", "string", "Names of each container in the template."),
    col("Images", "string", "Images referenced by each container in the template."),
    col("Pod Labels", "string", "The labels for the pod template."),
  ],
  cells(pt) {
    const [c, i] = containersAndImages(pt.template?.spec);
    return [pt.metadata?.name, c, i, formatLabels(pt.template?.metadata?.labels)];
  },
};

/** Upstream extractCSRStatus: Denied beats Approved beats Pending, then ",Failed" and ",Issued". */
export function csrCondition(csr: Obj): string {
  const types = new Set(((csr.status?.conditions ?? []) as Obj[]).map((c) => c?.type));
  let s = types.has("Denied") ? "Denied" : types.has("Approved") ? "Approved" : "Pending";
  if (types.has("Failed")) s += ",Failed";
  if (csr.status?.certificate) s += ",Issued";
  return s;
}

export const certificatesigningrequests: Printer = {
  columns: [
    NAME,
    AGE,
    col("SignerName", "string", "signerName indicates the requested signer, and is a qualified name."),
    col("Requestor", "string", "Name of the user which submitted the CSR"),
    col("RequestedDuration", "string", "expirationSeconds is the requested duration of validity of the issued certificate."),
    col("Condition", "string", "Current condition of the CSR"),
  ],
  cells(csr, now) {
    const exp = csr.spec?.expirationSeconds;
    return [csr.metadata?.name, age(csr, now), csr.spec?.signerName ?? "", csr.spec?.username ?? "", typeof exp === "number" ? humanDuration(exp * 1000) : "<none>", csrCondition(csr)];
  },
};

export const runtimeclasses: Printer = {
  columns: [NAME, col("Handler", "string", "handler specifies the underlying runtime and configuration that the CRI implementation will use to handle pods of this class."), AGE],
  cells: (rc, now) => [rc.metadata?.name, rc.handler ?? "", age(rc, now)],
};

export const apiservices: Printer = {
  columns: [
    NAME,
    col("Service", "string", "The reference to the service that hosts this API endpoint."),
    col("Available", "string", "Whether this service is available."),
    AGE,
  ],
  cells(a, now) {
    const svc = a.spec?.service ? `${a.spec.service.namespace}/${a.spec.service.name}` : "Local";
    const c = ((a.status?.conditions ?? []) as Obj[]).find((x) => x?.type === "Available");
    const available = !c ? "Unknown" : c.status === "True" ? "True" : `${c.status} (${c.reason})`;
    return [a.metadata?.name, svc, available, age(a, now)];
  },
};
