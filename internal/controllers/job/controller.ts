// Job controller: runs pods until `completions` succeed (at most `parallelism` at once), fails the Job after
// backoffLimit failures (BackoffLimitExceeded) or activeDeadlineSeconds (DeadlineExceeded), honours suspend,
// and deletes finished Jobs after ttlSecondsAfterFinished (upstream's TTL-after-finished controller).

import type { Job, JobCondition, JobStatus } from "kubernetes-types/batch/v1";
import type { Pod } from "kubernetes-types/core/v1";
import type { Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";
import { sortForDeletion } from "../replicaset/ranking.ts";
import { claim, claimCandidates, CONTROLLER_INDEX, controllerIndex } from "../util/claim.ts";
import { Expectations } from "../util/expectations.ts";
import { enqueueOwnerOfPods } from "../util/ownedpods.ts";
import { keyOf } from "../../client/informer.ts";
import { newControllerRef } from "../../api/meta.ts";
import { isPodActive, isPodReady, podRestarts } from "../util/pods.ts";
import { selectorMatches } from "../../api/selectors/objects.ts";
import { formatIndexes, INDEX_ANNOTATION, parseIndexes, podIndex } from "./indexes.ts";

const nowRFC = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");
const BACKOFF_BASE_MS = 10_000;
const BACKOFF_MAX_MS = 360_000;

export function jobFinished(job: Job): JobCondition | undefined {
  return job.status?.conditions?.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
}

function jobSelector(job: Job) {
  return job.spec?.selector ?? { matchLabels: { "batch.kubernetes.io/controller-uid": job.metadata!.uid! } };
}

export function newJobController(ctx: ControllerContext): Controller {
  const log = ctx.log.child("job");
  const jobInf: Informer<Job> = ctx.informers.informerFor<Job>(refs.jobs);
  const podInf: Informer<Pod> = ctx.informers.informerFor<Pod>(refs.pods);
  podInf.addIndexer(CONTROLLER_INDEX, controllerIndex);
  const recorder = ctx.recorder("job-controller");
  const expectations = new Expectations();
  const { queue, run } = controllerQueue(ctx, "job");
  const jobs = (ns: string) => ctx.client.resource<Job>(refs.jobs, ns);
  const pods = (ns: string) => ctx.client.resource<Pod>(refs.pods, ns);

  jobInf.addEventHandler({
    onAdd: (j) => queue.add(keyOf(j)),
    onUpdate: (_o, j) => queue.add(keyOf(j)),
    onDelete: (j) => expectations.delete(keyOf(j)),
  });
  enqueueOwnerOfPods(podInf, jobInf, "Job", expectations, queue);

  function podFor(job: Job, index?: number): Pod {
    const tmpl = job.spec!.template;
    const uid = job.metadata!.uid!;
    const name = job.metadata!.name!;
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        generateName: `${name}-`,
        namespace: job.metadata!.namespace,
        labels: {
          ...(tmpl.metadata?.labels ?? {}),
          "batch.kubernetes.io/controller-uid": uid,
          "batch.kubernetes.io/job-name": name,
          "controller-uid": uid,
          "job-name": name,
        },
        annotations: tmpl.metadata?.annotations,
        ownerReferences: [newControllerRef(job, "batch/v1", "Job")],
      },
      spec: structuredClone(tmpl.spec!),
    };
    if (index !== undefined) {
      // Indexed: the index in an annotation and label, JOB_COMPLETION_INDEX in every container, a stable hostname.
      pod.metadata!.generateName = `${name}-${index}-`;
      pod.metadata!.annotations = { ...(pod.metadata!.annotations ?? {}), [INDEX_ANNOTATION]: String(index) };
      pod.metadata!.labels![INDEX_ANNOTATION] = String(index);
      pod.spec!.hostname ??= `${name}-${index}`;
      const env = { name: "JOB_COMPLETION_INDEX", valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${INDEX_ANNOTATION}']` } } };
      for (const c of [...(pod.spec!.initContainers ?? []), ...pod.spec!.containers]) c.env = [...(c.env ?? []).filter((e) => e.name !== env.name), env];
    }
    return pod;
  }

  function setCond(status: JobStatus, type: string, reason: string, message: string): void {
    const conds = (status.conditions ??= []);
    if (conds.some((c) => c.type === type && c.status === "True")) return;
    const t = nowRFC();
    status.conditions = [...conds.filter((c) => c.type !== type), { type, status: "True", reason, message, lastProbeTime: t, lastTransitionTime: t }];
  }

  async function deletePods(job: Job, victims: Pod[], key: string): Promise<void> {
    if (!victims.length) return;
    expectations.expectDeletions(key, victims.map((p) => p.metadata!.uid!));
    for (const p of victims) {
      try {
        await pods(job.metadata!.namespace!).delete(p.metadata!.name!);
      } catch (e) {
        expectations.deletionObserved(key, p.metadata!.uid);
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
  }

  async function handleTTL(job: Job, finishedAt: string | undefined): Promise<void> {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined || ttl === null || job.metadata?.deletionTimestamp) return;
    const at = Date.parse(finishedAt ?? "") + ttl * 1000;
    if (!Number.isFinite(at)) return;
    const wait = at - Date.now();
    if (wait > 0) return queue.addAfter(keyOf(job), wait + 50);
    try {
      await jobs(job.metadata!.namespace!).delete(job.metadata!.name!, { propagationPolicy: "Foreground", preconditions: { uid: job.metadata!.uid } });
      log.info("deleted finished job after its TTL", { job: keyOf(job) });
    } catch (e) {
      if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
    }
  }

  async function sync(key: string): Promise<void> {
    const job = jobInf.get(key);
    if (!job) return expectations.delete(key);
    const ns = job.metadata!.namespace!;
    const done = jobFinished(job);
    if (done) return handleTTL(job, job.status?.completionTime ?? done.lastTransitionTime);
    if (job.metadata?.deletionTimestamp) return;

    const sel = jobSelector(job);
    const owned = await claim<Pod>(claimCandidates(podInf, job), {
      owner: job,
      ownerRef: newControllerRef(job, "batch/v1", "Job"),
      matches: (p) => selectorMatches(sel, p.metadata?.labels),
      client: pods(ns),
    });
    let active = owned.filter(isPodActive);
    const indexed = job.spec?.completionMode === "Indexed";
    const doneIdx = parseIndexes(job.status?.completedIndexes);
    if (indexed) for (const p of owned) if (p.status?.phase === "Succeeded" && podIndex(p) !== undefined && podIndex(p)! < (job.spec?.completions ?? 1)) doneIdx.add(podIndex(p)!);
    const succeeded = indexed ? doneIdx.size : Math.max(job.status?.succeeded ?? 0, owned.filter((p) => p.status?.phase === "Succeeded").length);
    const failedPods = owned.filter((p) => p.status?.phase === "Failed");
    const failed = Math.max(job.status?.failed ?? 0, failedPods.length);
    const status: JobStatus = structuredClone(job.status ?? {});
    const completions = job.spec?.completions;
    const parallelism = job.spec?.parallelism ?? 1;
    const backoffLimit = job.spec?.backoffLimit ?? 6;
    const suspended = !!job.spec?.suspend;
    if (!status.startTime && !suspended) status.startTime = nowRFC();

    const onFailureRestarts = job.spec?.template?.spec?.restartPolicy === "OnFailure" ? active.reduce((n, p) => n + podRestarts(p), 0) : 0;
    const deadline = job.spec?.activeDeadlineSeconds;
    let failure: [string, string] | undefined;
    if (failed + onFailureRestarts > backoffLimit) failure = ["BackoffLimitExceeded", "Job has reached the specified backoff limit"];
    else if (deadline !== undefined && deadline !== null && status.startTime && Date.parse(status.startTime) + deadline * 1000 <= Date.now()) {
      failure = ["DeadlineExceeded", "Job was active longer than specified deadline"];
    }

    const complete = completions === undefined || completions === null ? succeeded > 0 && active.length === 0 : succeeded >= completions;
    if (failure) {
      await deletePods(job, active, key);
      setCond(status, "FailureTarget", failure[0], failure[1]);
      setCond(status, "Failed", failure[0], failure[1]);
      recorder.event(job, "Warning", failure[0], failure[1]);
    } else if (complete) {
      await deletePods(job, active, key);
      status.completionTime = nowRFC();
      setCond(status, "SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods");
      setCond(status, "Complete", "CompletionsReached", "Reached expected number of succeeded pods");
      recorder.event(job, "Normal", "Completed", "Job completed");
    } else if (suspended) {
      await deletePods(job, active, key);
      setCond(status, "Suspended", "JobSuspended", "Job suspended");
    } else if (expectations.satisfied(key)) {
      if (status.conditions?.some((c) => c.type === "Suspended" && c.status === "True")) {
        status.conditions = status.conditions.map((c) =>
          c.type === "Suspended" ? { ...c, status: "False", reason: "JobResumed", message: "Job resumed", lastTransitionTime: nowRFC() } : c,
        );
      }
      let want = parallelism;
      if (completions !== undefined && completions !== null) want = Math.min(parallelism, completions - succeeded);
      else if (succeeded > 0) want = 0;
      // Indexed: one active pod per index still to do; duplicates and pods of finished indexes go.
      const todo: number[] = [];
      if (indexed) {
        const seen = new Set<number>();
        const extra: Pod[] = [];
        for (const p of active) {
          const i = podIndex(p);
          if (i === undefined || i >= (completions ?? 1) || doneIdx.has(i) || seen.has(i)) extra.push(p);
          else seen.add(i);
        }
        if (extra.length) {
          await deletePods(job, extra, key);
          active = active.filter((p) => !extra.includes(p));
        }
        for (let i = 0; i < (completions ?? 1) && todo.length < want - active.length; i++) if (!doneIdx.has(i) && !seen.has(i)) todo.push(i);
      }
      const diff = indexed ? Math.min(todo.length, want - active.length) : want - active.length;
      if (diff > 0) {
        // Exponential backoff after failures (10 s, 20 s, … up to 6 min), counted from the last failure.
        const lastFail = Math.max(0, ...failedPods.map((p) => Date.parse(p.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime ?? p.metadata?.creationTimestamp ?? "") || 0));
        const delay = failed > 0 ? Math.min(BACKOFF_BASE_MS * 2 ** (failed - 1), BACKOFF_MAX_MS) : 0;
        const wait = lastFail + delay - Date.now();
        if (failed > 0 && wait > 0) queue.addAfter(key, wait);
        else {
          expectations.expectCreations(key, diff);
          for (let i = 0; i < diff; i++) {
            try {
              await pods(ns).create(podFor(job, indexed ? todo[i] : undefined));
            } catch (e) {
              for (let j = i; j < diff; j++) expectations.creationObserved(key);
              recorder.event(job, "Warning", "FailedCreate", `Error creating: ${(e as Error).message}`);
              throw e;
            }
          }
          recorder.event(job, "Normal", "SuccessfulCreate", `Created ${diff} pod(s)`);
        }
      } else if (diff < 0) {
        await deletePods(job, sortForDeletion(active).slice(0, -diff), key);
      }
      if (deadline !== undefined && deadline !== null && status.startTime) {
        queue.addAfter(key, Math.max(0, Date.parse(status.startTime) + deadline * 1000 - Date.now()) + 50);
      }
    }
    const finished = !!failure || complete || suspended;
    status.active = finished ? 0 : active.length;
    status.ready = finished ? 0 : active.filter(isPodReady).length;
    status.succeeded = succeeded;
    if (indexed) status.completedIndexes = formatIndexes(doneIdx);
    status.failed = failed;
    if (!status.active) delete status.active;
    if (!status.succeeded) delete status.succeeded;
    if (!status.failed) delete status.failed;
    if (JSON.stringify(status) !== JSON.stringify(job.status ?? {})) {
      await jobs(ns).updateStatus({ ...structuredClone(job), status });
    }
  }

  return { name: "job", run: () => run(sync) };
}
