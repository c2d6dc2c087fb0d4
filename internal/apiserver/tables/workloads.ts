// Workload tables: deployments, replicasets, daemonsets, statefulsets, jobs, cronjobs.
import { containersAndImages, formatLabels, formatSelector, since } from "./format.ts";
import { AGE, CONTAINERS, IMAGES, NAME, age, col, num, selectorCol, type Obj, type Printer } from "./columns.ts";

export const deployments: Printer = {
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

export const replicasets: Printer = {
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

export const daemonsets: Printer = {
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

export const statefulsets: Printer = {
  columns: [NAME, col("Ready", "string", "Number of the pod with ready state"), AGE, CONTAINERS, IMAGES],
  cells(ss, now) {
    const [c, i] = containersAndImages(ss.spec?.template?.spec);
    return [ss.metadata?.name, `${num(ss.status?.readyReplicas)}/${num(ss.spec?.replicas)}`, age(ss, now), c, i];
  },
};

const hasCondition = (conds: Obj[] | undefined, type: string) => (conds ?? []).some((c) => c.type === type && c.status === "True");

export const jobs: Printer = {
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

export const cronjobs: Printer = {
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

