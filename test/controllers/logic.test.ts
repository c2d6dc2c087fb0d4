// Pure controller logic against upstream's documented behaviour: rollout arithmetic, cron schedules,
// taint-based eviction times, DaemonSet eligibility, endpoint port resolution.

import { describe, expect, test } from "bun:test";
import type { Deployment, ReplicaSet } from "kubernetes-types/apps/v1";
import type { Node, Pod, Service } from "kubernetes-types/core/v1";
import { formatIndexes, parseIndexes } from "../../internal/controllers/job/indexes.ts";
import { jobNameFor, planCronJob } from "../../internal/controllers/cronjob/controller.ts";
import { mostRecentScheduleTime, parseSchedule } from "../../internal/controllers/cronjob/cron.ts";
import { daemonPod, shouldRun } from "../../internal/controllers/daemonset/controller.ts";
import { computeHash, equalIgnoreHash } from "../../internal/controllers/deployment/hash.ts";
import { rolloutStatus } from "../../internal/controllers/deployment/status.ts";
import { newRSNewReplicas, proportion, resolveFenceposts } from "../../internal/controllers/deployment/util.ts";
import { desiredEndpoints } from "../../internal/controllers/endpoints/controller.ts";
import { desiredTaints, evictionsAllowed, evictionTime, zoneState } from "../../internal/controllers/nodelifecycle/controller.ts";

const dep = (replicas: number, surge?: number | string, unavail?: number | string): Deployment => ({
  metadata: { name: "d", generation: 1 },
  spec: {
    replicas,
    selector: { matchLabels: { a: "b" } },
    template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "x" }] } },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: surge as any, maxUnavailable: unavail as any } },
  },
});
const rs = (name: string, replicas: number, extra: Partial<ReplicaSet["status"]> = {}, ann: Record<string, string> = {}): ReplicaSet => ({
  metadata: { name, annotations: ann, creationTimestamp: "2026-01-01T00:00:00Z" },
  spec: { replicas, selector: {} },
  status: { replicas, availableReplicas: replicas, readyReplicas: replicas, ...extra },
});

describe("deployment arithmetic", () => {
  test("fenceposts: surge rounds up, unavailable rounds down, 25% defaults, never both zero", () => {
    expect(resolveFenceposts(dep(10))).toEqual([3, 2]);
    expect(resolveFenceposts(dep(10, "30%", "30%"))).toEqual([3, 3]);
    expect(resolveFenceposts(dep(1))).toEqual([1, 0]);
    expect(resolveFenceposts(dep(3, 0, 0))).toEqual([0, 1]);
    expect(resolveFenceposts(dep(5, 2, "10%"))).toEqual([2, 0]);
  });

  test("new ReplicaSet grows within maxSurge", () => {
    const d = dep(10, 3, 2);
    const newRS = rs("new", 0);
    expect(newRSNewReplicas(d, [rs("old", 10), newRS], newRS)).toBe(3);
    expect(newRSNewReplicas(d, [rs("old", 13), rs("new", 0)], rs("new", 0))).toBe(0);
    expect(newRSNewReplicas(d, [rs("old", 2), rs("new", 9)], rs("new", 9))).toBe(10);
  });

  test("proportional scaling splits by the max-replicas annotation", () => {
    // Scaling 10 → 20 (surge 3 → 5) with two active sets of 8 and 5 (annotated max 13): fractions of 25 total.
    const d = dep(20, "25%", "25%");
    const add = 25 - 13;
    const a = proportion(rs("a", 8, {}, { "deployment.kubernetes.io/max-replicas": "13" }), d, add, 0);
    const b = proportion(rs("b", 5, {}, { "deployment.kubernetes.io/max-replicas": "13" }), d, add, a);
    expect(a).toBe(Math.round((8 * 25) / 13) - 8);
    expect(a + b).toBeLessThanOrEqual(add);
  });

  test("template hash is stable, ≤10 safe chars, and changes with the collision count", () => {
    const t = dep(1).spec!.template;
    const h = computeHash(t);
    expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(computeHash(structuredClone(t))).toBe(h);
    expect(computeHash(t, 1)).not.toBe(h);
    const withHash = structuredClone(t);
    withHash.metadata!.labels!["pod-template-hash"] = h;
    expect(equalIgnoreHash(withHash, t)).toBe(true);
  });

  test("template equality ignores explicit zero values but not meaningful pointer ones", () => {
    const t = dep(1).spec!.template;
    const explicit = structuredClone(t) as any;
    explicit.metadata.generation = 0;
    explicit.metadata.creationTimestamp = null;
    Object.assign(explicit.spec, { hostNetwork: false, hostPID: false, securityContext: {} });
    Object.assign(explicit.spec.containers[0], { stdin: false, tty: false, resources: {}, ports: [] });
    expect(equalIgnoreHash(explicit, t)).toBe(true);
    const noAutomount = structuredClone(t) as any;
    noAutomount.spec.automountServiceAccountToken = false;
    expect(equalIgnoreHash(noAutomount, t)).toBe(false);
    const zeroGrace = structuredClone(t) as any;
    zeroGrace.spec.terminationGracePeriodSeconds = 0;
    expect(equalIgnoreHash(zeroGrace, t)).toBe(false);
  });

  test("conditions: complete → NewReplicaSetAvailable; stalled past the deadline → ProgressDeadlineExceeded", () => {
    const d = dep(2);
    d.spec!.progressDeadlineSeconds = 10;
    const newRS = rs("d-abc", 2);
    const done = rolloutStatus([newRS], newRS, d);
    expect(done.conditions?.find((c) => c.type === "Progressing")).toMatchObject({ status: "True", reason: "NewReplicaSetAvailable" });
    expect(done.conditions?.find((c) => c.type === "Available")).toMatchObject({ status: "True", reason: "MinimumReplicasAvailable" });
    const stuck = rs("d-abc", 2, { replicas: 2, availableReplicas: 0, readyReplicas: 0 });
    const old = new Date(Date.now() - 60_000).toISOString();
    d.status = {
      replicas: 2,
      updatedReplicas: 2,
      availableReplicas: 0,
      conditions: [{ type: "Progressing", status: "True", reason: "ReplicaSetUpdated", lastUpdateTime: old, lastTransitionTime: old }],
    };
    const s = rolloutStatus([stuck], stuck, d);
    expect(s.conditions?.find((c) => c.type === "Progressing")).toMatchObject({
      status: "False",
      reason: "ProgressDeadlineExceeded",
      message: 'ReplicaSet "d-abc" has timed out progressing.',
    });
    expect(s.conditions?.find((c) => c.type === "Available")).toMatchObject({ status: "False", reason: "MinimumReplicasUnavailable" });
    expect(s.unavailableReplicas).toBe(2);
  });
});

describe("cron", () => {
  const at = (s: string) => new Date(s);
  test("ranges, steps, lists, names and descriptors", () => {
    const next = (spec: string, from: string) => parseSchedule(spec).next(at(from)).toISOString();
    expect(next("*/15 * * * *", "2026-03-01T10:07:00Z")).toBe("2026-03-01T10:15:00.000Z");
    expect(next("0 9-17/4 * * MON-FRI", "2026-03-06T18:00:00Z")).toBe("2026-03-09T09:00:00.000Z"); // Fri evening → Mon 09:00
    expect(next("@hourly", "2026-03-01T10:07:00Z")).toBe("2026-03-01T11:00:00.000Z");
    expect(next("@daily", "2026-03-01T10:07:00Z")).toBe("2026-03-02T00:00:00.000Z");
    expect(next("@weekly", "2026-03-04T10:07:00Z")).toBe("2026-03-08T00:00:00.000Z"); // Sunday
    expect(next("@monthly", "2026-03-04T10:07:00Z")).toBe("2026-04-01T00:00:00.000Z");
    expect(next("@yearly", "2026-03-04T10:07:00Z")).toBe("2027-01-01T00:00:00.000Z");
    expect(next("5,35 * * * *", "2026-03-01T10:06:00Z")).toBe("2026-03-01T10:35:00.000Z");
    // Day-of-month OR day-of-week when both are restricted.
    expect(next("0 0 1 * SUN", "2026-03-02T00:00:00Z")).toBe("2026-03-08T00:00:00.000Z");
    expect(next("0 0 * * 7", "2026-03-02T00:00:00Z")).toBe("2026-03-08T00:00:00.000Z");
  });
  test("bad schedules are rejected", () => {
    for (const bad of ["* * * *", "60 * * * *", "* 24 * * *", "*/0 * * * *", "@sometimes", "5-1 * * * *"]) {
      expect(() => parseSchedule(bad)).toThrow();
    }
  });
  test("most recent missed time", () => {
    const s = parseSchedule("*/10 * * * *");
    const r = mostRecentScheduleTime(s, at("2026-03-01T10:00:00Z"), at("2026-03-01T10:35:00Z"));
    expect(r.missed).toBe(3);
    expect(r.last?.toISOString()).toBe("2026-03-01T10:30:00.000Z");
    expect(mostRecentScheduleTime(s, at("2026-03-01T10:30:00Z"), at("2026-03-01T10:35:00Z")).last).toBeUndefined();
  });
});

describe("job indexes", () => {
  test("completedIndexes round-trips upstream's interval format", () => {
    expect(formatIndexes(new Set([1, 3, 4, 5, 7]))).toBe("1,3-5,7");
    expect(formatIndexes(new Set([0, 1]))).toBe("0,1");
    expect(formatIndexes(new Set())).toBe("");
    expect([...parseIndexes("1,3-5,7")].sort()).toEqual([1, 3, 4, 5, 7]);
  });
});

describe("cronjob plan", () => {
  const cj = (policy: string, extra: any = {}) =>
    ({ metadata: { name: "c", creationTimestamp: "2026-03-01T09:00:00Z" }, spec: { schedule: "*/5 * * * *", concurrencyPolicy: policy, jobTemplate: {}, ...extra } }) as any;
  const s = parseSchedule("*/5 * * * *");
  const now = new Date("2026-03-01T10:07:00Z");
  const due = new Date("2026-03-01T10:05:00Z");
  test("Allow runs the most recent missed time, named by minutes since the epoch", () => {
    const p = planCronJob(cj("Allow"), s, "2026-03-01T10:00:00Z", [], 1, now);
    expect(p).toMatchObject({ action: "run", replaceRunning: false });
    expect(p.scheduled?.toISOString()).toBe(due.toISOString());
    expect(jobNameFor(cj("Allow"), due)).toBe(`c-${due.getTime() / 60000}`);
    expect(p.next.toISOString()).toBe("2026-03-01T10:10:00.000Z");
  });
  test("Forbid waits while one runs; Replace replaces it", () => {
    expect(planCronJob(cj("Forbid"), s, "2026-03-01T10:00:00Z", [], 1, now).action).toBe("forbidden");
    expect(planCronJob(cj("Forbid"), s, "2026-03-01T10:00:00Z", [], 0, now).action).toBe("run");
    expect(planCronJob(cj("Replace"), s, "2026-03-01T10:00:00Z", [], 2, now)).toMatchObject({ action: "run", replaceRunning: true });
  });
  test("already started, nothing due, and past startingDeadlineSeconds", () => {
    expect(planCronJob(cj("Allow"), s, "2026-03-01T10:00:00Z", [jobNameFor(cj("Allow"), due)], 0, now).action).toBe("none");
    expect(planCronJob(cj("Allow"), s, "2026-03-01T10:05:00Z", [], 0, now).action).toBe("none");
    expect(planCronJob(cj("Allow", { startingDeadlineSeconds: 60 }), s, "2026-03-01T10:00:00Z", [], 0, now).action).toBe("none");
    expect(planCronJob(cj("Allow", { startingDeadlineSeconds: 180 }), s, "2026-03-01T10:00:00Z", [], 0, now).action).toBe("run");
    // Never scheduled: counts from creation; far too many misses are flagged.
    expect(planCronJob(cj("Allow"), parseSchedule("* * * * *"), undefined, [], 0, now).tooManyMissed).toBe(false);
    const old = { ...cj("Allow"), metadata: { name: "c", creationTimestamp: "2026-02-01T00:00:00Z" } };
    expect(planCronJob(old, parseSchedule("* * * * *"), undefined, [], 0, now).tooManyMissed).toBe(true);
  });
});

describe("node lifecycle", () => {
  const node = (ready: string | undefined, extra: Partial<Node["spec"]> = {}): Node => ({
    metadata: { name: "n" },
    spec: extra,
    status: { conditions: ready ? [{ type: "Ready", status: ready }] : [] },
  });
  test("taints follow the Ready condition", () => {
    expect(desiredTaints(node("True"))).toEqual([]);
    expect(desiredTaints(node("Unknown")).map((t) => `${t.key}:${t.effect}`)).toEqual([
      "node.kubernetes.io/unreachable:NoExecute",
      "node.kubernetes.io/unreachable:NoSchedule",
    ]);
    expect(desiredTaints(node("False")).map((t) => `${t.key}:${t.effect}`)).toEqual([
      "node.kubernetes.io/not-ready:NoExecute",
      "node.kubernetes.io/not-ready:NoSchedule",
    ]);
    expect(desiredTaints(node("True", { unschedulable: true })).map((t) => t.key)).toEqual(["node.kubernetes.io/unschedulable"]);
  });
  test("zone states: full disruption stops evictions; partial disruption stops them in small clusters", () => {
    const ns = (ready: number, notReady: number) => [
      ...Array.from({ length: ready }, () => node("True")),
      ...Array.from({ length: notReady }, () => node("Unknown")),
    ];
    expect(zoneState(ns(3, 0))).toBe("Normal");
    expect(zoneState(ns(2, 1))).toBe("Normal");
    expect(zoneState(ns(0, 1))).toBe("FullDisruption");
    expect(zoneState(ns(0, 3))).toBe("FullDisruption");
    expect(zoneState(ns(2, 3))).toBe("PartialDisruption");
    expect(zoneState(ns(1, 2))).toBe("Normal"); // needs more than 2 unhealthy nodes
    expect(evictionsAllowed("Normal", 3)).toBe(true);
    expect(evictionsAllowed("FullDisruption", 100)).toBe(false);
    expect(evictionsAllowed("PartialDisruption", 10)).toBe(false);
    expect(evictionsAllowed("PartialDisruption", 100)).toBe(true);
  });
  test("eviction time from tolerationSeconds; untolerated NoExecute evicts at once", () => {
    const added = "2026-01-01T00:00:00Z";
    const t0 = Date.parse(added);
    const taint = { key: "node.kubernetes.io/unreachable", effect: "NoExecute", timeAdded: added };
    const pod = (tolerations: any[]): Pod => ({ spec: { containers: [], tolerations } });
    expect(evictionTime(pod([]), [taint])).toBe(0);
    expect(evictionTime(pod([{ key: taint.key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }]), [taint])).toBe(t0 + 300_000);
    expect(evictionTime(pod([{ operator: "Exists" }]), [taint])).toBe(Infinity);
    // The test knob shortens the default 300 s tolerations and gives untolerated condition taints a grace.
    expect(evictionTime(pod([{ key: taint.key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }]), [taint], 2)).toBe(t0 + 2000);
    expect(evictionTime(pod([]), [taint], 2)).toBe(t0 + 2000);
    expect(evictionTime(pod([]), [{ key: "custom", effect: "NoExecute", timeAdded: added }], 2)).toBe(0);
  });
});

describe("daemonset eligibility", () => {
  const ds = {
    metadata: { name: "ds", namespace: "default", uid: "u", generation: 1 },
    spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "x" }], nodeSelector: { disk: "ssd" } } } },
  } as any;
  const node = (labels: Record<string, string>, taints: any[] = []): Node => ({ metadata: { name: "n1", labels }, spec: { taints } });
  test("node selector, taints and automatic tolerations", () => {
    const p = daemonPod(ds, "n1", "h");
    expect(p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
      { matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] },
    ]);
    expect(shouldRun(node({ disk: "ssd" }), p)).toEqual({ run: true, keep: true });
    expect(shouldRun(node({ disk: "hdd" }), p)).toEqual({ run: false, keep: false });
    // Automatic tolerations cover unreachable/not-ready/unschedulable.
    expect(shouldRun(node({ disk: "ssd" }, [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }]), p).run).toBe(true);
    expect(shouldRun(node({ disk: "ssd" }, [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }]), p).run).toBe(true);
    expect(shouldRun(node({ disk: "ssd" }, [{ key: "dedicated", value: "x", effect: "NoSchedule" }]), p)).toEqual({ run: false, keep: true });
    expect(shouldRun(node({ disk: "ssd" }, [{ key: "dedicated", value: "x", effect: "NoExecute" }]), p)).toEqual({ run: false, keep: false });
  });
});

describe("endpoints", () => {
  test("named target ports resolve per pod; not ready pods go to notReadyAddresses", () => {
    const svc: Service = { metadata: { name: "s" }, spec: { selector: { a: "b" }, ports: [{ name: "http", port: 80, targetPort: "web" as any }] } };
    const pod = (name: string, ip: string, port: number, ready: boolean): Pod => ({
      metadata: { name, namespace: "default", uid: name },
      spec: { nodeName: "n", containers: [{ name: "c", ports: [{ name: "web", containerPort: port }] }] },
      status: { podIP: ip, phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
    });
    const subsets = desiredEndpoints(svc, [pod("p1", "10.42.0.2", 8080, true), pod("p2", "10.42.0.3", 9090, true), pod("p3", "10.42.0.4", 8080, false)]);
    expect(subsets.length).toBe(2);
    const s8080 = subsets.find((s) => s.ports?.[0]?.port === 8080)!;
    expect(s8080.addresses?.map((a) => a.ip)).toEqual(["10.42.0.2"]);
    expect(s8080.notReadyAddresses?.map((a) => a.ip)).toEqual(["10.42.0.4"]);
    expect(s8080.ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    const s9090 = subsets.find((s) => s.ports?.[0]?.port === 9090)!;
    expect(s9090.addresses?.map((a) => a.ip)).toEqual(["10.42.0.3"]);
    // publishNotReadyAddresses: everyone is ready.
    svc.spec!.publishNotReadyAddresses = true;
    const all = desiredEndpoints(svc, [pod("p3", "10.42.0.4", 8080, false)]);
    expect(all[0]!.addresses?.map((a) => a.ip)).toEqual(["10.42.0.4"]);
  });
});
