// Workload validation: Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, CronJob, ReplicationController.
import { Errors, child } from "./errors.ts";
import { isEmptySelector, selectorMatches, selectorString, validateLabels, validateLabelSelector } from "./meta.ts";
import { validatePodTemplate } from "./pod.ts";
import { intOrPercent, isObj, isZero, nonNegative, type Obj } from "./util.ts";

/** Selector present, non-empty, valid, and matching the template labels. */
function validateSelectorAndTemplate(e: Errors, spec: Obj, kindLower: string, restartPolicies: string[], extraVolumes?: string[]) {
  const sel = spec.selector;
  if (!isObj(sel)) e.required("spec.selector");
  else {
    validateLabelSelector(e, sel, "spec.selector");
    if (isEmptySelector(sel)) e.invalid("spec.selector", selectorString(sel), `empty selector is invalid for ${kindLower}`);
  }
  if (!isObj(spec.template)) return e.required("spec.template");
  const labels = spec.template.metadata?.labels;
  if (isObj(sel) && !isEmptySelector(sel) && !selectorMatches(sel, labels)) {
    e.invalid("spec.template.metadata.labels", labels ?? {}, "`selector` does not match template `labels`");
  }
  validatePodTemplate(e, spec.template, "spec.template", { restartPolicies, extraVolumes });
}

export function validateDeployment(e: Errors, d: Obj) {
  const spec = d.spec;
  if (!isObj(spec)) return e.required("spec");
  nonNegative(e, spec.replicas, "spec.replicas");
  validateSelectorAndTemplate(e, spec, "deployment", ["Always"]);
  const types = ["Recreate", "RollingUpdate"];
  const st = spec.strategy ?? {};
  if (st.type !== undefined && !types.includes(st.type)) e.notSupported("spec.strategy.type", st.type, types);
  if (st.type === "Recreate" && st.rollingUpdate) e.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'");
  const ru = st.rollingUpdate;
  if (st.type === "RollingUpdate" && isObj(ru)) {
    intOrPercent(e, ru.maxUnavailable, "spec.strategy.rollingUpdate.maxUnavailable");
    intOrPercent(e, ru.maxSurge, "spec.strategy.rollingUpdate.maxSurge");
    if (isZero(ru.maxSurge) && isZero(ru.maxUnavailable)) {
      e.invalid("spec.strategy.rollingUpdate.maxUnavailable", ru.maxUnavailable, "may not be 0 when `maxSurge` is 0");
    }
  }
  nonNegative(e, spec.revisionHistoryLimit, "spec.revisionHistoryLimit");
  nonNegative(e, spec.minReadySeconds, "spec.minReadySeconds");
  if (typeof spec.progressDeadlineSeconds === "number") {
    nonNegative(e, spec.progressDeadlineSeconds, "spec.progressDeadlineSeconds");
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      e.invalid("spec.progressDeadlineSeconds", spec.progressDeadlineSeconds, "must be greater than minReadySeconds");
    }
  }
}

export function validateReplicaSet(e: Errors, rs: Obj) {
  if (!isObj(rs.spec)) return e.required("spec");
  nonNegative(e, rs.spec.replicas, "spec.replicas");
  nonNegative(e, rs.spec.minReadySeconds, "spec.minReadySeconds");
  validateSelectorAndTemplate(e, rs.spec, "replicaset", ["Always"]);
}

export function validateDaemonSet(e: Errors, ds: Obj) {
  if (!isObj(ds.spec)) return e.required("spec");
  validateSelectorAndTemplate(e, ds.spec, "daemonset", ["Always"]);
  const types = ["OnDelete", "RollingUpdate"];
  const t = ds.spec.updateStrategy?.type;
  if (t !== undefined && !types.includes(t)) e.notSupported("spec.updateStrategy.type", t, types);
  const ru = ds.spec.updateStrategy?.rollingUpdate;
  if (t === "RollingUpdate" && isObj(ru)) {
    intOrPercent(e, ru.maxUnavailable, "spec.updateStrategy.rollingUpdate.maxUnavailable");
    intOrPercent(e, ru.maxSurge, "spec.updateStrategy.rollingUpdate.maxSurge");
    if (isZero(ru.maxSurge) && isZero(ru.maxUnavailable)) {
      e.invalid("spec.updateStrategy.rollingUpdate.maxUnavailable", ru.maxUnavailable, "may not be 0 when `maxSurge` is 0");
    }
  }
}

export function validateStatefulSet(e: Errors, ss: Obj) {
  const spec = ss.spec;
  if (!isObj(spec)) return e.required("spec");
  nonNegative(e, spec.replicas, "spec.replicas");
  const pmp = ["OrderedReady", "Parallel"];
  if (spec.podManagementPolicy !== undefined && !pmp.includes(spec.podManagementPolicy)) e.notSupported("spec.podManagementPolicy", spec.podManagementPolicy, pmp);
  const types = ["OnDelete", "RollingUpdate"];
  const t = spec.updateStrategy?.type;
  if (t !== undefined && !types.includes(t)) e.notSupported("spec.updateStrategy.type", t, types);
  if (t === "OnDelete" && spec.updateStrategy?.rollingUpdate) e.invalid("spec.updateStrategy.rollingUpdate", spec.updateStrategy.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'");
  nonNegative(e, spec.updateStrategy?.rollingUpdate?.partition, "spec.updateStrategy.rollingUpdate.partition");
  const claims: string[] = Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates.map((t: Obj) => t?.metadata?.name).filter(Boolean) : [];
  validateSelectorAndTemplate(e, spec, "statefulset", ["Always"], claims);
}

export function validateJobSpec(e: Errors, spec: Obj, path: string, isTemplate: boolean) {
  for (const f of ["parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"]) nonNegative(e, spec[f], child(path, f));
  if (spec.activeDeadlineSeconds === 0) e.invalid(child(path, "activeDeadlineSeconds"), 0, "must be greater than 0");
  const modes = ["NonIndexed", "Indexed"];
  if (spec.completionMode !== undefined && !modes.includes(spec.completionMode)) e.notSupported(child(path, "completionMode"), spec.completionMode, modes);
  if (spec.completionMode === "Indexed" && spec.completions === undefined) e.required(child(path, "completions"), "when completion mode is Indexed");
  if (!isTemplate && spec.manualSelector === true && !isObj(spec.selector)) e.required(child(path, "selector"));
  if (isObj(spec.selector)) {
    validateLabelSelector(e, spec.selector, child(path, "selector"));
    const labels = spec.template?.metadata?.labels;
    if (!isEmptySelector(spec.selector) && !selectorMatches(spec.selector, labels)) {
      e.invalid(child(path, "template.metadata.labels"), labels ?? {}, "`selector` does not match template `labels`");
    }
  }
  if (!isObj(spec.template)) return e.required(child(path, "template"));
  validatePodTemplate(e, spec.template, child(path, "template"), { restartPolicies: ["OnFailure", "Never"] });
}

/** Job selector and labels generated from the uid, as upstream's Job strategy does before validation. */
export function generateJobSelector(job: Obj) {
  const spec = job.spec;
  const uid = job.metadata?.uid;
  if (!isObj(spec) || spec.manualSelector === true || !uid) return;
  const labels: Obj = {
    "batch.kubernetes.io/controller-uid": uid,
    "batch.kubernetes.io/job-name": job.metadata.name,
    "controller-uid": uid,
    "job-name": job.metadata.name,
  };
  spec.template ??= {};
  spec.template.metadata ??= {};
  spec.template.metadata.labels = { ...(spec.template.metadata.labels ?? {}), ...labels };
  spec.selector ??= { matchLabels: { "batch.kubernetes.io/controller-uid": uid } };
}

// Five-field cron expressions (plus @hourly etc. and an optional TZ= prefix), as robfig/cron accepts them.
function cronErrors(schedule: string): string | undefined {
  const s = schedule.replace(/^(CRON_)?TZ=\S+\s+/, "").trim();
  if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/.test(s) || /^@every\s+\S+$/.test(s)) return undefined;
  const fields = s.split(/\s+/);
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: ${s}`;
  const ranges: [number, number][] = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];
  const names = [undefined, undefined, undefined, /^(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)$/i, /^(sun|mon|tue|wed|thu|fri|sat)$/i];
  for (let i = 0; i < 5; i++) {
    for (const part of fields[i]!.split(",")) {
      const [range, step] = part.split("/");
      if (step !== undefined && !/^\d+$/.test(step)) return `failed to parse int from ${step}`;
      if (range === "*" || range === "?") continue;
      for (const bound of range!.split("-")) {
        if (names[i]?.test(bound)) continue;
        if (!/^\d+$/.test(bound)) return `failed to parse int from ${bound}`;
        const n = Number(bound);
        const [lo, hi] = ranges[i]!;
        if (n < lo || n > hi) return `end of range (${n}) above maximum (${hi}): ${part}`;
      }
    }
  }
  return undefined;
}

export function validateCronJob(e: Errors, cj: Obj) {
  const spec = cj.spec;
  if (!isObj(spec)) return e.required("spec");
  if (!spec.schedule) e.required("spec.schedule");
  else {
    const err = cronErrors(String(spec.schedule));
    if (err) e.invalid("spec.schedule", spec.schedule, err);
  }
  const policies = ["Allow", "Forbid", "Replace"];
  if (spec.concurrencyPolicy !== undefined && !policies.includes(spec.concurrencyPolicy)) e.notSupported("spec.concurrencyPolicy", spec.concurrencyPolicy, policies);
  nonNegative(e, spec.startingDeadlineSeconds, "spec.startingDeadlineSeconds");
  nonNegative(e, spec.successfulJobsHistoryLimit, "spec.successfulJobsHistoryLimit");
  nonNegative(e, spec.failedJobsHistoryLimit, "spec.failedJobsHistoryLimit");
  if (!isObj(spec.jobTemplate?.spec)) return e.required("spec.jobTemplate.spec");
  validateJobSpec(e, spec.jobTemplate.spec, "spec.jobTemplate.spec", true);
}


export function validatePodDisruptionBudget(e: Errors, pdb: Obj) {
  const spec = pdb.spec;
  if (!isObj(spec)) return;
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    e.invalid("spec", "", "minAvailable and maxUnavailable cannot be both set");
  }
  intOrPercent(e, spec.minAvailable, "spec.minAvailable");
  intOrPercent(e, spec.maxUnavailable, "spec.maxUnavailable");
  validateLabelSelector(e, spec.selector, "spec.selector");
  const policies = ["AlwaysAllow", "IfHealthyBudget"];
  if (spec.unhealthyPodEvictionPolicy !== undefined && !policies.includes(spec.unhealthyPodEvictionPolicy)) {
    e.notSupported("spec.unhealthyPodEvictionPolicy", spec.unhealthyPodEvictionPolicy, policies);
  }
}

/** core/v1 ReplicationController (upstream ValidateReplicationControllerSpec): an equality-based selector map. */
export function validateReplicationController(e: Errors, rc: Obj) {
  const spec = rc.spec;
  if (!isObj(spec)) return e.required("spec");
  nonNegative(e, spec.minReadySeconds, "spec.minReadySeconds");
  const sel = isObj(spec.selector) ? spec.selector : {};
  if (Object.keys(sel).length === 0) e.required("spec.selector");
  else validateLabels(e, sel, "spec.selector");
  nonNegative(e, spec.replicas, "spec.replicas");
  const tpl = spec.template;
  if (!isObj(tpl)) return e.required("spec.template");
  const labels: Obj = isObj(tpl.metadata?.labels) ? tpl.metadata.labels : {};
  if (Object.keys(sel).length && !Object.entries(sel).every(([k, v]) => labels[k] === v)) {
    e.invalid("spec.template.metadata.labels", labels, "selector does not match labels in spec.template");
  }
  validatePodTemplate(e, tpl, "spec.template", { restartPolicies: ["Always"] });
  if (tpl.spec?.activeDeadlineSeconds !== undefined) e.forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in ReplicationController is not Supported");
}
