// Column definitions and row cells per kind, matching upstream's server-side printers
// (pkg/printers/internalversion/printers.go). The server always sends the wide (priority 1) columns;
// kubectl hides them unless `-o wide`.
import { containersAndImages, formatLabels, formatSelector, rfc3339, since } from "./format.ts";

type Obj = Record<string, any>;

export interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface Printer {
  columns: Column[];
  cells(obj: Obj, now: number): unknown[];
  /** Row conditions (pods report Completed for terminal phases). */
  conditions?(obj: Obj): { type: string; status: string }[] | undefined;
}

const NAME_DOC =
  "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DOC =
  "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

function col(name: string, type = "string", description = "", priority = 0, format = ""): Column {
  return { name, type, format, description, priority };
}
const NAME = col("Name", "string", NAME_DOC, 0, "name");
const AGE = col("Age", "string", AGE_DOC);
const CONTAINERS = col("Containers", "string", "Names of each container in the template.", 1);
const IMAGES = col("Images", "string", "Images referenced by each container in the template.", 1);
const selectorCol = (d: string) => col("Selector", "string", d, 1);

const age = (o: Obj, now: number) => since(o.metadata?.creationTimestamp, now);
const num = (v: unknown) => (typeof v === "number" ? v : 0);

// ---- pods ----

function isRestartableInit(c: Obj | undefined) {
  return c?.restartPolicy === "Always";
}

function podCells(pod: Obj, now: number): unknown[] {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = (spec.containers ?? []).length;
  let readyContainers = 0;
  let lastRestart = 0;
  let lastRestartableInitRestart = 0;
  let reason: string = status.reason || status.phase || "";
  for (const c of status.conditions ?? []) {
    if (c.type === "PodScheduled" && c.reason === "SchedulingGated") reason = "SchedulingGated";
  }
  const initByName = new Map<string, Obj>();
  for (const c of spec.initContainers ?? []) {
    initByName.set(c.name, c);
    if (isRestartableInit(c)) totalContainers++;
  }
  const finished = (cs: Obj) => {
    const t = cs.lastState?.terminated?.finishedAt;
    return t ? Date.parse(t) : 0;
  };
  let initializing = false;
  const initStatuses: Obj[] = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i]!;
    restarts += num(cs.restartCount);
    lastRestart = Math.max(lastRestart, finished(cs));
    const restartable = isRestartableInit(initByName.get(cs.name));
    if (restartable) {
      restartableInitRestarts += num(cs.restartCount);
      lastRestartableInitRestart = Math.max(lastRestartableInitRestart, finished(cs));
    }
    const term = cs.state?.terminated;
    const wait = cs.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (restartable && cs.started === true) {
      if (cs.ready) readyContainers++;
      continue;
    }
    if (term) {
      reason = term.reason ? `Init:${term.reason}` : term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
    } else if (wait?.reason && wait.reason !== "PodInitializing") {
      reason = `Init:${wait.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }
  const initializedTrue = (status.conditions ?? []).some((c: Obj) => c.type === "Initialized" && c.status === "True");
  if (!initializing || initializedTrue) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses: Obj[] = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i]!;
      restarts += num(cs.restartCount);
      lastRestart = Math.max(lastRestart, finished(cs));
      const wait = cs.state?.waiting;
      const term = cs.state?.terminated;
      if (wait?.reason) reason = wait.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode}`;
      else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      const ready = (status.conditions ?? []).some((c: Obj) => c.type === "Ready" && c.status === "True");
      reason = ready ? "Running" : "NotReady";
    }
  }
  const terminal = status.phase === "Succeeded" || status.phase === "Failed";
  if (pod.metadata?.deletionTimestamp && status.reason === "NodeLost") reason = "Unknown";
  else if (pod.metadata?.deletionTimestamp && !terminal) reason = "Terminating";

  const restartsStr = restarts !== 0 && lastRestart > 0 ? `${restarts} (${since(new Date(lastRestart).toISOString(), now)} ago)` : String(restarts);
  const podIP = status.podIPs?.[0]?.ip || status.podIP || "<none>";
  let gates = "<none>";
  const rg: Obj[] = spec.readinessGates ?? [];
  if (rg.length > 0) {
    let trueCount = 0;
    for (const g of rg) {
      const cond = (status.conditions ?? []).find((c: Obj) => c.type === g.conditionType);
      if (cond?.status === "True") trueCount++;
    }
    gates = `${trueCount}/${rg.length}`;
  }
  return [
    pod.metadata?.name,
    `${readyContainers}/${totalContainers}`,
    reason,
    restartsStr,
    age(pod, now),
    podIP,
    spec.nodeName || "<none>",
    status.nominatedNodeName || "<none>",
    gates,
  ];
}

const pods: Printer = {
  columns: [
    NAME,
    col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
    col("Status", "string", "The aggregate status of the containers in this pod."),
    col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
    AGE,
    col("IP", "string", "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", 1),
    col("Node", "string", "NodeName indicates in which node this pod is scheduled.", 1),
    col("Nominated Node", "string", "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.", 1),
    col("Readiness Gates", "string", "If specified, all readiness gates will be evaluated for pod readiness.", 1),
  ],
  cells: podCells,
  conditions(pod) {
    const phase = pod.status?.phase;
    if (phase === "Succeeded") return [{ type: "Completed", status: "True" }];
    if (phase === "Failed") return [{ type: "Completed", status: "True" }];
    return undefined;
  },
};

// ---- workloads ----

const deployments: Printer = {
  columns: [
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    col("Up-to-date", "integer", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
    col("Available", "integer", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
    AGE,
    CONTAINERS,
    IMAGES,
    selectorCol("Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels."),
  ],
  cells(d, now) {
    const [c, i] = containersAndImages(d.spec?.template?.spec);
    const s = d.status ?? {};
    return [d.metadata?.name, `${num(s.readyReplicas)}/${num(d.spec?.replicas)}`, num(s.updatedReplicas), num(s.availableReplicas), age(d, now), c, i, formatSelector(d.spec?.selector)];
  },
};

const replicasets: Printer = {
  columns: [
    NAME,
    col("Desired", "integer", "Replicas is the number of desired replicas."),
    col("Current", "integer", "Replicas is the most recently observed number of replicas."),
    col("Ready", "integer", "readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition."),
    AGE,
    CONTAINERS,
    IMAGES,
    selectorCol("Selector is a label query over pods that should match the replica count."),
  ],
  cells(rs, now) {
    const [c, i] = containersAndImages(rs.spec?.template?.spec);
    const s = rs.status ?? {};
    return [rs.metadata?.name, num(rs.spec?.replicas), num(s.replicas), num(s.readyReplicas), age(rs, now), c, i, formatSelector(rs.spec?.selector)];
  },
};

const daemonsets: Printer = {
  columns: [
    NAME,
    col("Desired", "integer", "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod)."),
    col("Current", "integer", "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod."),
    col("Ready", "integer", "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition."),
    col("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
    col("Available", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)"),
    col("Node Selector", "string", "NodeSelector is a selector which must be true for the pod to fit on a node."),
    AGE,
    CONTAINERS,
    IMAGES,
    selectorCol("A label query over pods that are managed by the daemon set."),
  ],
  cells(ds, now) {
    const [c, i] = containersAndImages(ds.spec?.template?.spec);
    const s = ds.status ?? {};
    return [ds.metadata?.name, num(s.desiredNumberScheduled), num(s.currentNumberScheduled), num(s.numberReady), num(s.updatedNumberScheduled), num(s.numberAvailable), formatLabels(ds.spec?.template?.spec?.nodeSelector), age(ds, now), c, i, formatSelector(ds.spec?.selector)];
  },
};

const statefulsets: Printer = {
  columns: [NAME, col("Ready", "string", "Number of the pod with ready state"), AGE, CONTAINERS, IMAGES],
  cells(ss, now) {
    const [c, i] = containersAndImages(ss.spec?.template?.spec);
    return [ss.metadata?.name, `${num(ss.status?.readyReplicas)}/${num(ss.spec?.replicas)}`, age(ss, now), c, i];
  },
};

const hasCondition = (conds: Obj[] | undefined, type: string) => (conds ?? []).some((c) => c.type === type && c.status === "True");

const jobs: Printer = {
  columns: [
    NAME,
    col("Status", "string", "Status of the job."),
    col("Completions", "string", "The completion status of the job."),
    col("Duration", "string", "Time required to complete the job."),
    AGE,
    CONTAINERS,
    IMAGES,
    selectorCol("A label query over pods that should match the pod count."),
  ],
  cells(job, now) {
    const [c, i] = containersAndImages(job.spec?.template?.spec);
    const s = job.status ?? {};
    const conds = s.conditions;
    let status = "Running";
    if (hasCondition(conds, "Complete")) status = "Complete";
    else if (hasCondition(conds, "Failed")) status = "Failed";
    else if (job.metadata?.deletionTimestamp) status = "Terminating";
    else if (hasCondition(conds, "Suspended")) status = "Suspended";
    else if (hasCondition(conds, "FailureTarget")) status = "FailureTarget";
    else if (hasCondition(conds, "SuccessCriteriaMet")) status = "SuccessCriteriaMet";
    const succeeded = num(s.succeeded);
    let completions: string;
    if (job.spec?.completions !== undefined && job.spec?.completions !== null) completions = `${succeeded}/${job.spec.completions}`;
    else if (job.spec?.parallelism === undefined || job.spec?.parallelism === null) completions = `${succeeded}/1`;
    else if (job.spec.parallelism > 1) completions = `${succeeded}/1 of ${job.spec.parallelism}`;
    else completions = `${succeeded}/1`;
    let duration = "";
    if (s.startTime) {
      duration = s.completionTime ? since(s.startTime, Date.parse(s.completionTime)) : since(s.startTime, now);
    }
    return [job.metadata?.name, status, completions, duration, age(job, now), c, i, formatSelector(job.spec?.selector)];
  },
};

const cronjobs: Printer = {
  columns: [
    NAME,
    col("Schedule", "string", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
    col("Timezone", "string", "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones."),
    col("Suspend", "boolean", "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false."),
    col("Active", "integer", "A list of pointers to currently running jobs."),
    col("Last Schedule", "string", "Information when was the last time the job was successfully scheduled."),
    AGE,
    CONTAINERS,
    IMAGES,
    selectorCol("A label query over pods that should match the pod count."),
  ],
  cells(cj, now) {
    const js = cj.spec?.jobTemplate?.spec;
    const [c, i] = containersAndImages(js?.template?.spec);
    const last = cj.status?.lastScheduleTime ? since(cj.status.lastScheduleTime, now) : "<none>";
    return [cj.metadata?.name, cj.spec?.schedule ?? "", cj.spec?.timeZone ?? "<none>", cj.spec?.suspend === true, (cj.status?.active ?? []).length, last, age(cj, now), c, i, formatSelector(js?.selector)];
  },
};

// ---- networking ----

function lbIngress(lb: Obj | undefined): string {
  return (lb?.ingress ?? []).map((i: Obj) => i.ip || i.hostname).filter(Boolean).join(",");
}

function serviceExternalIP(svc: Obj): string {
  const spec = svc.spec ?? {};
  const ext: string[] = spec.externalIPs ?? [];
  switch (spec.type ?? "ClusterIP") {
    case "ClusterIP":
    case "NodePort":
      return ext.length ? ext.join(",") : "<none>";
    case "LoadBalancer": {
      const lb = lbIngress(svc.status?.loadBalancer);
      if (ext.length) return [...(lb ? lb.split(",") : []), ...ext].join(",");
      return lb || "<pending>";
    }
    case "ExternalName":
      return spec.externalName ?? "";
  }
  return "<unknown>";
}

const services: Printer = {
  columns: [
    NAME,
    col("Type", "string", "type determines how the Service is exposed."),
    col("Cluster-IP", "string", "clusterIP is the IP address of the service and is usually assigned randomly."),
    col("External-IP", "string", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
    col("Port(s)", "string", "The list of ports that are exposed by this service."),
    AGE,
    selectorCol("Route service traffic to pods with label keys and values matching this selector."),
  ],
  cells(svc, now) {
    const spec = svc.spec ?? {};
    const ports: Obj[] = spec.ports ?? [];
    const portStr = ports.length
      ? ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? "TCP"}` : `${p.port}/${p.protocol ?? "TCP"}`)).join(",")
      : "<none>";
    const clusterIP = spec.clusterIPs?.[0] ?? spec.clusterIP ?? "<none>";
    return [svc.metadata?.name, spec.type ?? "ClusterIP", clusterIP || "<none>", serviceExternalIP(svc), portStr, age(svc, now), formatLabels(spec.selector)];
  },
};

function joinHostPort(ip: string, port: number) {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

const endpoints: Printer = {
  columns: [NAME, col("Endpoints", "string", "The set of all endpoints is the union of all subsets."), AGE],
  cells(ep, now) {
    const subsets: Obj[] = ep.subsets ?? [];
    let text = "<none>";
    if (subsets.length) {
      const list: string[] = [];
      let count = 0;
      let more = false;
      for (const ss of subsets) {
        const addrs: Obj[] = ss.addresses ?? [];
        const ports: Obj[] = ss.ports ?? [];
        if (ports.length === 0) {
          count += addrs.length;
          for (const a of addrs) {
            if (list.length === 3) {
              more = true;
              break;
            }
            list.push(a.ip);
          }
          continue;
        }
        for (const p of ports) {
          count += addrs.length;
          for (const a of addrs) {
            if (list.length === 3) {
              more = true;
              break;
            }
            list.push(joinHostPort(a.ip, p.port));
          }
        }
      }
      text = list.join(",");
      if (more) text = `${text} + ${count - 3} more...`;
    }
    return [ep.metadata?.name, text, age(ep, now)];
  },
};

const endpointslices: Printer = {
  columns: [
    NAME,
    col("AddressType", "string", "addressType specifies the type of address carried by this EndpointSlice."),
    col("Ports", "string", "ports specifies the list of network ports exposed by each endpoint in this slice."),
    col("Endpoints", "string", "endpoints is a list of unique endpoints in this slice."),
    AGE,
  ],
  cells(es, now) {
    const ports: Obj[] = es.ports ?? [];
    let portStr = "<unset>";
    if (ports.length) {
      const shown = ports.slice(0, 3).map((p) => (p.port === undefined || p.port === null ? "<unset>" : String(p.port)));
      portStr = shown.join(",") + (ports.length > 3 ? ` + ${ports.length - 3} more...` : "");
    }
    const addrs: string[] = (es.endpoints ?? []).flatMap((e: Obj) => e.addresses ?? []);
    let epStr = "<unset>";
    if (addrs.length) epStr = addrs.slice(0, 3).join(",") + (addrs.length > 3 ? ` + ${addrs.length - 3} more...` : "");
    return [es.metadata?.name, es.addressType ?? "", portStr, epStr, age(es, now)];
  },
};

// ---- cluster ----

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

const nodes: Printer = {
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

const namespaces: Printer = {
  columns: [NAME, col("Status", "string", "The status of the namespace"), AGE],
  cells: (ns, now) => [ns.metadata?.name, ns.status?.phase ?? "", age(ns, now)],
};

const configmaps: Printer = {
  columns: [NAME, col("Data", "integer", "Data contains the configuration data."), AGE],
  cells: (cm, now) => [cm.metadata?.name, Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length, age(cm, now)],
};

const secrets: Printer = {
  columns: [NAME, col("Type", "string", "Used to facilitate programmatic handling of secret data."), col("Data", "string", "Data contains the secret data."), AGE],
  cells: (s, now) => [s.metadata?.name, s.type ?? "", Object.keys(s.data ?? {}).length, age(s, now)],
};

const serviceaccounts: Printer = {
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

const events: Printer = {
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

const leases: Printer = {
  columns: [NAME, col("Holder", "string", "The holder of the lease"), AGE],
  cells: (l, now) => [l.metadata?.name, l.spec?.holderIdentity ?? "", age(l, now)],
};

const CREATED_AT = col("Created At", "date", AGE_DOC);
const createdAt: Printer = {
  columns: [NAME, CREATED_AT],
  cells: (o) => [o.metadata?.name, rfc3339(o.metadata?.creationTimestamp)],
};

const bindings: Printer = {
  columns: [
    NAME,
    col("Role", "string", "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace."),
    AGE,
    col("Users", "string", "Users in the roleBinding", 1),
    col("Groups", "string", "Groups in the roleBinding", 1),
    col("ServiceAccounts", "string", "ServiceAccounts in the roleBinding", 1),
  ],
  cells(b, now) {
    const subs: Obj[] = b.subjects ?? [];
    const of = (kind: string) => subs.filter((s) => s.kind === kind);
    return [
      b.metadata?.name,
      `${b.roleRef?.kind ?? ""}/${b.roleRef?.name ?? ""}`,
      age(b, now),
      of("User").map((s) => s.name).join(", "),
      of("Group").map((s) => s.name).join(", "),
      of("ServiceAccount").map((s) => `${s.namespace ?? ""}/${s.name}`).join(", "),
    ];
  },
};

const priorityclasses: Printer = {
  columns: [
    NAME,
    col("Value", "integer", "value represents the integer value of this priority class."),
    col("Global-Default", "boolean", "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class."),
    AGE,
    col("PreemptionPolicy", "string", "preemptionPolicy is the Policy for preempting pods with lower priority."),
  ],
  cells: (pc, now) => [pc.metadata?.name, num(pc.value), pc.globalDefault === true, age(pc, now), pc.preemptionPolicy ?? ""],
};

const ACCESS_MODES: Record<string, string> = { ReadWriteOnce: "RWO", ReadOnlyMany: "ROX", ReadWriteMany: "RWX", ReadWriteOncePod: "RWOP" };
const accessModes = (modes: string[] | undefined) => {
  const seen = new Set(modes ?? []);
  return Object.keys(ACCESS_MODES).filter((m) => seen.has(m)).map((m) => ACCESS_MODES[m]).join(",");
};

const pvcs: Printer = {
  columns: [
    NAME,
    col("Status", "string", "phase represents the current phase of PersistentVolumeClaim."),
    col("Volume", "string", "volumeName is the binding reference to the PersistentVolume backing this claim."),
    col("Capacity", "string", "capacity represents the actual resources of the underlying volume."),
    col("Access Modes", "string", "accessModes contains the desired access modes the volume should have."),
    col("StorageClass", "string", "StorageClass of the pvc"),
    col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
    AGE,
    col("VolumeMode", "string", "volumeMode defines what type of volume is required by the claim.", 1),
  ],
  cells(pvc, now) {
    const phase = pvc.metadata?.deletionTimestamp ? "Terminating" : pvc.status?.phase ?? "";
    const bound = !!pvc.spec?.volumeName;
    return [
      pvc.metadata?.name,
      phase,
      pvc.spec?.volumeName ?? "",
      bound ? pvc.status?.capacity?.storage ?? "" : "",
      bound ? accessModes(pvc.status?.accessModes) : "",
      pvc.spec?.storageClassName ?? "",
      pvc.spec?.volumeAttributesClassName ?? "<unset>",
      age(pvc, now),
      pvc.spec?.volumeMode ?? "<unset>",
    ];
  },
};

const pvs: Printer = {
  columns: [
    NAME,
    col("Capacity", "string", "capacity is the description of the persistent volume's resources and capacity."),
    col("Access Modes", "string", "accessModes contains all ways the volume can be mounted."),
    col("Reclaim Policy", "string", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim."),
    col("Status", "string", "phase indicates if a volume is available, bound to a claim, or released by a claim."),
    col("Claim", "string", "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim."),
    col("StorageClass", "string", "StorageClass of the pv"),
    col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
    col("Reason", "string", "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI."),
    AGE,
    col("VolumeMode", "string", "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.", 1),
  ],
  cells(pv, now) {
    const claim = pv.spec?.claimRef ? `${pv.spec.claimRef.namespace}/${pv.spec.claimRef.name}` : "";
    return [
      pv.metadata?.name,
      pv.spec?.capacity?.storage ?? "",
      accessModes(pv.spec?.accessModes),
      pv.spec?.persistentVolumeReclaimPolicy ?? "",
      pv.metadata?.deletionTimestamp ? "Terminating" : pv.status?.phase ?? "",
      claim,
      pv.spec?.storageClassName ?? "",
      pv.spec?.volumeAttributesClassName ?? "<unset>",
      pv.status?.reason ?? "",
      age(pv, now),
      pv.spec?.volumeMode ?? "<unset>",
    ];
  },
};

const pdbs: Printer = {
  columns: [
    NAME,
    col("Min Available", "string", "The minimum number of pods that must be available."),
    col("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
    col("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
    AGE,
  ],
  cells(p, now) {
    const v = (x: unknown) => (x === undefined || x === null ? "N/A" : String(x));
    return [p.metadata?.name, v(p.spec?.minAvailable), v(p.spec?.maxUnavailable), num(p.status?.disruptionsAllowed), age(p, now)];
  },
};

const controllerrevisions: Printer = {
  columns: [NAME, col("Controller", "string", "Controller of the object"), col("Revision", "integer", "Revision indicates the revision of the state represented by Data."), AGE],
  cells(cr, now) {
    const ref = (cr.metadata?.ownerReferences ?? []).find((o: Obj) => o.controller === true);
    let controller = "<none>";
    if (ref) {
      const group = String(ref.apiVersion ?? "").includes("/") ? String(ref.apiVersion).split("/")[0] : "";
      controller = `${String(ref.kind).toLowerCase()}${group ? `.${group}` : ""}/${ref.name}`;
    }
    return [cr.metadata?.name, controller, num(cr.revision), age(cr, now)];
  },
};

const resourcequotas: Printer = {
  columns: [NAME, AGE, col("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."), col("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.")],
  cells(q, now) {
    const hard = q.status?.hard ?? q.spec?.hard ?? {};
    const used = q.status?.used ?? {};
    const req: string[] = [];
    const lim: string[] = [];
    for (const k of Object.keys(hard).sort()) {
      const text = `${k}: ${used[k] ?? "0"}/${hard[k]}`;
      (k.startsWith("limits.") ? lim : req).push(text);
    }
    return [q.metadata?.name, age(q, now), req.join(", "), lim.join(", ")];
  },
};

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
  poddisruptionbudgets: pdbs,
  controllerrevisions,
  resourcequotas,
  limitranges: createdAt,
};
