// Cluster and config tables: nodes, namespaces, configmaps, secrets, serviceaccounts, events, leases.
import { since } from "./format.ts";
import { AGE, NAME, age, col, type Obj, type Printer } from "./columns.ts";

function nodeRoles(node: Obj): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith("node-role.kubernetes.io/")) {
      const r = k.slice("node-role.kubernetes.io/".length);
      if (r) roles.add(r);
    } else if (k === "kubernetes.io/role" && v) roles.add(String(v));
  }
  return roles.size ? [...roles].sort().join(",") : "<none>";
}

const nodeAddress = (node: Obj, type: string) => (node.status?.addresses ?? []).find((a: Obj) => a.type === type)?.address ?? "<none>";

export const nodes: Printer = {
  columns: [
    NAME,
    col("Status", "string", "The status of the node"),
    col("Roles", "string", "The roles of the node"),
    AGE,
    col("Version", "string", "Deprecated: KubeletVersion reported by the node. For more information, see https://kubernetes.io/docs/concepts/nodes/node/#node-info"),
    col("Internal-IP", "string", "List of addresses reachable to the node.", 1),
    col("External-IP", "string", "List of addresses reachable to the node.", 1),
    col("OS-Image", "string", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1),
    col("Kernel-Version", "string", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
    col("Container-Runtime", "string", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", 1),
  ],
  cells(node, now) {
    const ready = (node.status?.conditions ?? []).find((c: Obj) => c.type === "Ready");
    const status: string[] = [];
    if (ready) status.push(ready.status === "True" ? "Ready" : "NotReady");
    else status.push("Unknown");
    if (node.spec?.unschedulable) status.push("SchedulingDisabled");
    const info = node.status?.nodeInfo ?? {};
    return [
      node.metadata?.name,
      status.join(","),
      nodeRoles(node),
      age(node, now),
      info.kubeletVersion ?? "",
      nodeAddress(node, "InternalIP"),
      nodeAddress(node, "ExternalIP"),
      info.osImage || "<unknown>",
      info.kernelVersion || "<unknown>",
      info.containerRuntimeVersion || "<unknown>",
    ];
  },
};

export const namespaces: Printer = {
  columns: [NAME, col("Status", "string", "The status of the namespace"), AGE],
  cells: (ns, now) => [ns.metadata?.name, ns.status?.phase ?? "", age(ns, now)],
};

export const configmaps: Printer = {
  columns: [NAME, col("Data", "integer", "Data contains the configuration data."), AGE],
  cells: (cm, now) => [cm.metadata?.name, Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length, age(cm, now)],
};

export const secrets: Printer = {
  columns: [NAME, col("Type", "string", "Used to facilitate programmatic handling of secret data."), col("Data", "string", "Data contains the secret data."), AGE],
  cells: (s, now) => [s.metadata?.name, s.type ?? "", Object.keys(s.data ?? {}).length, age(s, now)],
};

export const serviceaccounts: Printer = {
  columns: [NAME, col("Secrets", "string", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."), AGE],
  cells: (sa, now) => [sa.metadata?.name, (sa.secrets ?? []).length, age(sa, now)],
};

/** core/v1 and events.k8s.io/v1 events share one printer; the latter's fields are mapped first. */
function coreEvent(ev: Obj): Obj {
  if (ev.apiVersion !== "events.k8s.io/v1") return ev;
  return {
    ...ev,
    involvedObject: ev.regarding ?? {},
    message: ev.note,
    firstTimestamp: ev.deprecatedFirstTimestamp,
    lastTimestamp: ev.deprecatedLastTimestamp,
    count: ev.deprecatedCount,
    source: ev.deprecatedSource ?? {},
  };
}

export const events: Printer = {
  columns: [
    col("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded."),
    col("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future"),
    col("Reason", "string", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    col("Object", "string", "The object that this event is about."),
    col("Subobject", "string", "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].", 1),
    col("Source", "string", "The component reporting this event. Should be a short machine understandable string.", 1),
    col("Message", "string", "A human-readable description of the status of this operation."),
    col("First Seen", "string", "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", 1),
    col("Count", "string", "The number of times this event has occurred.", 1),
    { ...NAME, priority: 1 },
  ],
  cells(raw, now) {
    const ev = coreEvent(raw);
    const first = ev.firstTimestamp ? since(ev.firstTimestamp, now) : since(ev.eventTime, now);
    let last = ev.lastTimestamp ? since(ev.lastTimestamp, now) : first;
    let count = ev.count;
    if (ev.series) {
      last = since(ev.series.lastObservedTime, now);
      count = ev.series.count;
    } else if (!count) count = 1;
    const io = ev.involvedObject ?? {};
    const target = io.name ? `${String(io.kind ?? "").toLowerCase()}/${io.name}` : String(io.kind ?? "").toLowerCase();
    const component = ev.source?.component || ev.reportingController || "";
    const instance = ev.source?.host || ev.reportingInstance || "";
    const source = instance ? `${component}, ${instance}` : component;
    return [last, ev.type ?? "", ev.reason ?? "", target, io.fieldPath ?? "", source, String(ev.message ?? "").trim(), first, count, ev.metadata?.name];
  },
};

export const leases: Printer = {
  columns: [NAME, col("Holder", "string", "The holder of the lease"), AGE],
  cells: (l, now) => [l.metadata?.name, l.spec?.holderIdentity ?? "", age(l, now)],
};

