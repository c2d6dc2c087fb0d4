// CronJob controller: creates a Job at each scheduled time (name <cronjob>-<minutes since epoch>, as upstream),
// honouring concurrencyPolicy Allow/Forbid/Replace, startingDeadlineSeconds, suspend, the job history limits,
// and keeping status.active / lastScheduleTime / lastSuccessfulTime.

import type { CronJob, CronJobStatus, Job } from "kubernetes-types/batch/v1";
import type { ObjectReference } from "kubernetes-types/core/v1";
import { indexers, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";
import { jobFinished } from "../job/controller.ts";
import { controllerOf, newControllerRef } from "../../api/meta.ts";
import { keyOf } from "../../client/informer.ts";
import { firesTwice, mostRecentScheduleTime, parseSchedule, validTimeZone, type Schedule } from "./cron.ts";

const rfc = (d: Date) => d.toISOString().replace(/\.\d+Z$/, "Z");

export function jobNameFor(cj: CronJob, scheduled: Date): string {
  return `${cj.metadata!.name}-${Math.floor(scheduled.getTime() / 60000)}`;
}

export interface CronPlan {
  /** none: nothing due; run: start a Job for `scheduled`; forbidden: due but Forbid and one is running; missed: past the deadline. */
  action: "none" | "run" | "forbidden" | "missed";
  scheduled?: Date;
  /** Replace policy: delete the running Jobs first. */
  replaceRunning: boolean;
  tooManyMissed: boolean;
  next: Date;
}

/** What a CronJob should do now (upstream syncCronJob's scheduling decision), without side effects. */
export function planCronJob(
  cj: CronJob,
  schedule: Schedule,
  lastScheduleTime: string | undefined,
  ownedJobNames: string[],
  runningCount: number,
  now: Date,
): CronPlan {
  let earliest = new Date(lastScheduleTime ?? cj.metadata?.creationTimestamp ?? now.toISOString());
  const sds = cj.spec?.startingDeadlineSeconds;
  const hasDeadline = sds !== undefined && sds !== null;
  if (hasDeadline) earliest = new Date(Math.max(earliest.getTime(), now.getTime() - sds * 1000));
  const { last, missed } = mostRecentScheduleTime(schedule, earliest, now);
  const plan: CronPlan = { action: "none", replaceRunning: false, tooManyMissed: missed > 100, next: schedule.next(now) };
  if (!last) return plan;
  plan.scheduled = last;
  if (hasDeadline && last.getTime() + sds * 1000 < now.getTime()) return { ...plan, action: "missed" };
  if (ownedJobNames.includes(jobNameFor(cj, last))) return plan;
  const policy = cj.spec?.concurrencyPolicy ?? "Allow";
  if (policy === "Forbid" && runningCount > 0) return { ...plan, action: "forbidden" };
  return { ...plan, action: "run", replaceRunning: policy === "Replace" && runningCount > 0 };
}

export function newCronJobController(ctx: ControllerContext): Controller {
  const cjInf: Informer<CronJob> = ctx.informers.informerFor<CronJob>(refs.cronjobs);
  const jobInf: Informer<Job> = ctx.informers.informerFor<Job>(refs.jobs);
  jobInf.addIndexer("owner", indexers.byOwnerUID);
  const recorder = ctx.recorder("cronjob-controller");
  const { queue, run } = controllerQueue(ctx, "cronjob");
  const jobs = (ns: string) => ctx.client.resource<Job>(refs.jobs, ns);

  cjInf.addEventHandler({ onAdd: (c) => queue.add(keyOf(c)), onUpdate: (_o, c) => queue.add(keyOf(c)) });
  const jobEvent = (j: Job) => {
    const ref = controllerOf(j);
    if (ref?.kind === "CronJob") queue.add(`${j.metadata!.namespace}/${ref.name}`);
  };
  jobInf.addEventHandler({ onAdd: jobEvent, onUpdate: (_o, j) => jobEvent(j), onDelete: jobEvent });

  const ref = (j: Job): ObjectReference => ({
    apiVersion: "batch/v1",
    kind: "Job",
    name: j.metadata!.name,
    namespace: j.metadata!.namespace,
    uid: j.metadata!.uid,
    resourceVersion: j.metadata!.resourceVersion,
  });

  async function deleteJob(j: Job): Promise<void> {
    try {
      await jobs(j.metadata!.namespace!).delete(j.metadata!.name!, { propagationPolicy: "Background" });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }

  async function sync(key: string): Promise<void> {
    const cj = cjInf.get(key);
    if (!cj || cj.metadata?.deletionTimestamp) return;
    const ns = cj.metadata!.namespace!;
    const owned = jobInf.byIndex("owner", cj.metadata!.uid!).filter((j) => controllerOf(j)?.uid === cj.metadata!.uid);
    const status: CronJobStatus = structuredClone(cj.status ?? {});
    const running = owned.filter((j) => !jobFinished(j) && !j.metadata?.deletionTimestamp);
    // Successful jobs move lastSuccessfulTime forward.
    for (const j of owned) {
      const done = jobFinished(j);
      if (done?.type === "Complete") {
        const t = j.status?.completionTime ?? done.lastTransitionTime;
        if (t && (!status.lastSuccessfulTime || Date.parse(t) > Date.parse(status.lastSuccessfulTime))) status.lastSuccessfulTime = t;
      }
    }
    // History limits.
    const finished = (type: string) =>
      owned
        .filter((j) => jobFinished(j)?.type === type && !j.metadata?.deletionTimestamp)
        .sort((a, b) => Date.parse(a.status?.startTime ?? a.metadata?.creationTimestamp ?? "") - Date.parse(b.status?.startTime ?? b.metadata?.creationTimestamp ?? ""));
    for (const [type, limit] of [
      ["Complete", cj.spec?.successfulJobsHistoryLimit ?? 3],
      ["Failed", cj.spec?.failedJobsHistoryLimit ?? 1],
    ] as const) {
      const list = finished(type);
      for (const j of list.slice(0, Math.max(0, list.length - limit))) await deleteJob(j);
    }

    // Upstream's checks, reasons and messages; none of these requeues: only a spec change can fix them.
    const tz = cj.spec?.timeZone ?? undefined;
    if (tz && !validTimeZone(tz)) {
      recorder.event(cj, "Warning", "UnknownTimeZone", `invalid timeZone: ${JSON.stringify(tz)}: unknown time zone ${tz}`);
      return writeStatus(cj, status, running);
    }
    let schedule;
    try {
      schedule = parseSchedule(cj.spec!.schedule, tz);
    } catch (e) {
      recorder.event(cj, "Warning", "UnparseableSchedule", `unparseable schedule: ${JSON.stringify(cj.spec?.schedule)} : ${(e as Error).message}`);
      return writeStatus(cj, status, running);
    }
    const now = new Date();
    if (!firesTwice(schedule, now)) {
      // A valid-looking schedule for a date that never comes (0 0 30 2 *): upstream sees two zero times.
      recorder.event(cj, "Warning", "InvalidSchedule", `invalid schedule: ${cj.spec!.schedule} : time difference between two schedules is less than 1 second`);
      return writeStatus(cj, status, running);
    }
    if (!cj.spec?.suspend) {
      const plan = planCronJob(cj, schedule, status.lastScheduleTime, owned.map((j) => j.metadata!.name!), running.length, now);
      if (plan.tooManyMissed) {
        recorder.event(cj, "Warning", "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew");
      }
      if (plan.action === "missed") {
        recorder.event(cj, "Warning", "MissSchedule", `Missed scheduled time to start a job: ${rfc(plan.scheduled!)}`);
      } else if (plan.action === "forbidden") {
        recorder.event(cj, "Normal", "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid");
        // Upstream retries this slot until the deadline; look again soon.
        queue.addAfter(key, 1000);
      } else if (plan.action === "run") {
        const last = plan.scheduled!;
        if (plan.replaceRunning) {
          for (const j of running) {
            await deleteJob(j);
            recorder.event(cj, "Normal", "SuccessfulDelete", `Deleted job ${j.metadata!.name}`);
          }
          running.length = 0;
        }
        const tmpl = cj.spec!.jobTemplate;
        const job: Job = {
          apiVersion: "batch/v1",
          kind: "Job",
          metadata: {
            name: jobNameFor(cj, last),
            namespace: ns,
            labels: { ...(tmpl.metadata?.labels ?? {}) },
            annotations: { ...(tmpl.metadata?.annotations ?? {}), "batch.kubernetes.io/cronjob-scheduled-timestamp": rfc(last) },
            ownerReferences: [newControllerRef(cj, "batch/v1", "CronJob")],
          },
          spec: structuredClone(tmpl.spec!),
        };
        try {
          const made = await jobs(ns).create(job);
          running.push(made);
          recorder.event(cj, "Normal", "SuccessfulCreate", `Created job ${job.metadata!.name}`);
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 409)) throw e;
        }
        status.lastScheduleTime = rfc(last);
      }
      queue.addAfter(key, Math.max(0, plan.next.getTime() - Date.now()) + 100);
    }
    await writeStatus(cj, status, running);
  }

  async function writeStatus(cj: CronJob, status: CronJobStatus, running: Job[]): Promise<void> {
    const active = running.map(ref).sort((a, b) => (a.name ?? "").localeCompare(b.name ?? ""));
    if (active.length) status.active = active.map((r) => ({ ...r, resourceVersion: undefined }));
    else delete status.active;
    const norm = (s: CronJobStatus) => JSON.stringify({ ...s, active: s.active?.map((a) => a.uid) });
    if (norm(status) === norm(cj.status ?? {})) return;
    await ctx.client.resource<CronJob>(refs.cronjobs, cj.metadata!.namespace!).updateStatus({ ...structuredClone(cj), status });
  }

  return { name: "cronjob", run: () => run(sync) };
}
