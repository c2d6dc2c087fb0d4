// Workload controllers that need running pods: Job, DaemonSet, StatefulSet, CronJob, Endpoints/EndpointSlices,
// and node lifecycle (a stopped hollow node's pods come back elsewhere).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DaemonSet, Deployment, StatefulSet } from "kubernetes-types/apps/v1";
import type { CronJob, Job } from "kubernetes-types/batch/v1";
import type { Endpoints, Node, Pod, Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import { refs } from "../../internal/client/refs.ts";
import { RUN_SECONDS_ANNOTATION, EXIT_CODE_ANNOTATION } from "../../internal/hollow/index.ts";
import { deployment, startEnv, waitFor, type Env } from "./env.ts";

let env: Env;
beforeAll(async () => {
  env = await startEnv({
    nodes: 3,
    hollow: { renewIntervalSeconds: 1, leaseDurationSeconds: 4 },
    manager: { nodeMonitorGracePeriodSeconds: 4, nodeMonitorPeriodMs: 250, defaultEvictionSeconds: 1 },
  });
});
afterAll(async () => {
  await env?.stop();
});

const podSpec = { automountServiceAccountToken: false, containers: [{ name: "c", image: "pause" }] };
const pods = (ns = "default") => env.client.resource<Pod>(refs.pods, ns);
const live = async (sel: string) => (await pods().list({ labelSelector: sel })).items.filter((p) => !p.metadata?.deletionTimestamp);
const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");

describe("job", () => {
  test("runs completions with parallelism and reports Complete", async () => {
    const job: Job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "work", namespace: "default" },
      spec: {
        completions: 3,
        parallelism: 2,
        template: { metadata: { annotations: { [RUN_SECONDS_ANNOTATION]: "0.3" } }, spec: { ...podSpec, restartPolicy: "Never" } },
      },
    };
    await env.client.resource<Job>(refs.jobs, "default").create(job);
    const done = await waitFor("job complete", async () => {
      const j = await env.client.resource<Job>(refs.jobs, "default").get("work");
      return j.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True") ? j : undefined;
    }, 40_000);
    expect(done.status?.succeeded).toBe(3);
    expect(done.status?.completionTime).toBeTruthy();
    const jp = (await pods().list({ labelSelector: "job-name=work" })).items;
    expect(jp.length).toBe(3);
    for (const p of jp) expect(p.metadata?.labels?.["controller-uid"]).toBe(done.metadata!.uid!);
    const wait = await env.cluster.kubectl(["wait", "--for=condition=complete", "job/work", "--timeout=5s"]);
    expect(wait.stderr).toBe("");
    expect(wait.code).toBe(0);
  }, 60_000);

  test("backoffLimit → Failed with BackoffLimitExceeded; ttlSecondsAfterFinished deletes it", async () => {
    const job: Job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "fails", namespace: "default" },
      spec: {
        backoffLimit: 0,
        ttlSecondsAfterFinished: 1,
        template: { metadata: { annotations: { [RUN_SECONDS_ANNOTATION]: "0.2", [EXIT_CODE_ANNOTATION]: "1" } }, spec: { ...podSpec, restartPolicy: "Never" } },
      },
    };
    await env.client.resource<Job>(refs.jobs, "default").create(job);
    const failed = await waitFor("job failed", async () => {
      const j = await env.client.resource<Job>(refs.jobs, "default").get("fails");
      return j.status?.conditions?.some((c) => c.type === "Failed" && c.status === "True") ? j : undefined;
    }, 30_000);
    expect(failed.status?.conditions?.find((c) => c.type === "Failed")?.reason).toBe("BackoffLimitExceeded");
    await waitFor("job deleted after TTL", async () => !(await env.client.resource<Job>(refs.jobs, "default").list()).items.some((j) => j.metadata?.name === "fails"), 20_000);
  }, 60_000);
});

describe("indexed job", () => {
  test("Indexed completion mode runs each index once and reports completedIndexes", async () => {
    const jobs = env.client.resource<Job>(refs.jobs, "default");
    await jobs.create({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "idx", namespace: "default" },
      spec: {
        completionMode: "Indexed",
        completions: 4,
        parallelism: 2,
        template: { metadata: { annotations: { [RUN_SECONDS_ANNOTATION]: "0.2" } }, spec: { ...podSpec, restartPolicy: "Never" } },
      },
    });
    const j = await waitFor("indexed complete", async () => {
      const x = await jobs.get("idx");
      return x.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True") ? x : undefined;
    }, 40_000);
    expect(j.status?.completedIndexes).toBe("0-3");
    expect(j.status?.succeeded).toBe(4);
    const ps = (await pods().list({ labelSelector: "job-name=idx" })).items;
    const idx = ps.map((p) => Number(p.metadata!.annotations!["batch.kubernetes.io/job-completion-index"])).sort();
    expect(idx).toEqual([0, 1, 2, 3]);
    const p0 = ps.find((p) => p.metadata!.annotations!["batch.kubernetes.io/job-completion-index"] === "0")!;
    expect(p0.spec?.hostname).toBe("idx-0");
    expect(p0.spec?.containers[0]?.env?.find((e) => e.name === "JOB_COMPLETION_INDEX")?.valueFrom?.fieldRef?.fieldPath).toBe(
      "metadata.annotations['batch.kubernetes.io/job-completion-index']",
    );
  }, 60_000);
});

describe("job deadline", () => {
  test("activeDeadlineSeconds fails the Job with DeadlineExceeded and stops its pods", async () => {
    const jobs = env.client.resource<Job>(refs.jobs, "default");
    await jobs.create({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "slowpoke", namespace: "default" },
      spec: {
        activeDeadlineSeconds: 1,
        template: { metadata: { annotations: { [RUN_SECONDS_ANNOTATION]: "600" } }, spec: { ...podSpec, restartPolicy: "Never" } },
      },
    });
    const j = await waitFor("deadline", async () => {
      const x = await jobs.get("slowpoke");
      return x.status?.conditions?.some((c) => c.type === "Failed" && c.status === "True") ? x : undefined;
    }, 30_000);
    expect(j.status!.conditions!.find((c) => c.type === "Failed")!.reason).toBe("DeadlineExceeded");
    await waitFor("pods stopped", async () => (await live("job-name=slowpoke")).length === 0, 20_000);
  }, 40_000);
});

describe("services", () => {
  test("Endpoints and EndpointSlices follow ready pods", async () => {
    await env.client.resource<Deployment>(refs.deployments, "default").create(deployment("echo", 2));
    const svc = await env.client.resource<Service>(refs.services, "default").create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "echo", namespace: "default" },
      spec: { selector: { app: "echo" }, ports: [{ name: "http", port: 80, targetPort: 8080 as any }] },
    });
    expect(svc.spec?.clusterIP).toMatch(/^10\.43\./);
    const ep = await waitFor("2 ready addresses", async () => {
      const e = await env.client.resource<Endpoints>(refs.endpoints, "default").get("echo");
      return e.subsets?.[0]?.addresses?.length === 2 ? e : undefined;
    }, 30_000);
    expect(ep.subsets![0]!.ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    expect(ep.subsets![0]!.addresses![0]!.targetRef?.kind).toBe("Pod");
    const slices = await waitFor("slice", async () => {
      const l = (await env.client.resource<EndpointSlice>(refs.endpointslices, "default").list({ labelSelector: "kubernetes.io/service-name=echo" })).items;
      return l.length === 1 && l[0]!.endpoints?.length === 2 ? l : undefined;
    });
    expect(slices[0]!.metadata?.labels?.["endpointslice.kubernetes.io/managed-by"]).toBe("endpointslice-controller.k8s.io");
    expect(slices[0]!.addressType).toBe("IPv4");
    expect(slices[0]!.endpoints!.every((e) => e.conditions?.ready === true && e.conditions?.serving === true)).toBe(true);
    expect(slices[0]!.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "Service", name: "echo", controller: true });
    // Scale to 1: one address left.
    await env.client.resource<Deployment>(refs.deployments, "default").patch("echo", "merge", { spec: { replicas: 1 } });
    await waitFor("1 address", async () => {
      const e = await env.client.resource<Endpoints>(refs.endpoints, "default").get("echo");
      return e.subsets?.[0]?.addresses?.length === 1 && !e.subsets[0]!.notReadyAddresses;
    }, 30_000);
  }, 60_000);
});

describe("disruption budgets", () => {
  test("PodDisruptionBudget status counts healthy pods and allowed disruptions", async () => {
    await env.client.resource<Deployment>(refs.deployments, "default").create(deployment("guarded", 3));
    await waitFor("3 ready", async () => {
      const l = await live("app=guarded");
      return l.length === 3 && l.every(isReady);
    }, 30_000);
    await env.client.resource<any>(refs.poddisruptionbudgets, "default").create({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "guarded", namespace: "default" },
      spec: { minAvailable: 2, selector: { matchLabels: { app: "guarded" } } },
    });
    const pdb = await waitFor("pdb status", async () => {
      const p = await env.client.resource<any>(refs.poddisruptionbudgets, "default").get("guarded");
      return p.status?.currentHealthy === 3 ? p : undefined;
    }, 20_000);
    expect(pdb.status).toMatchObject({ expectedPods: 3, currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1 });
    expect(pdb.status.conditions.find((c: any) => c.type === "DisruptionAllowed")).toMatchObject({ status: "True", reason: "SufficientPods" });
    const get = await env.cluster.kubectl(["get", "pdb", "guarded", "--no-headers"]);
    expect(get.stdout).toMatch(/^guarded\s+2\s+N\/A\s+1\s/);
  }, 60_000);
});

describe("daemonset and statefulset", () => {
  test("a DaemonSet runs one pod per eligible node", async () => {
    const ds: DaemonSet = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: "default" },
      spec: { selector: { matchLabels: { ds: "agent" } }, template: { metadata: { labels: { ds: "agent" } }, spec: podSpec } },
    };
    await env.client.resource<DaemonSet>(refs.daemonsets, "default").create(ds);
    const nodeCount = (await env.client.resource<Node>(refs.nodes).list()).items.length;
    const st = await waitFor("ds ready", async () => {
      const d = await env.client.resource<DaemonSet>(refs.daemonsets, "default").get("agent");
      return d.status?.numberReady === nodeCount && d.status?.desiredNumberScheduled === nodeCount ? d : undefined;
    }, 30_000);
    expect(st.status?.updatedNumberScheduled).toBe(nodeCount);
    const ps = await live("ds=agent");
    expect(new Set(ps.map((p) => p.spec?.nodeName)).size).toBe(nodeCount);
    const rollout = await env.cluster.kubectl(["rollout", "status", "ds/agent", "--timeout=20s"], { timeoutMs: 30_000 });
    expect(rollout.stdout).toContain('daemon set "agent" successfully rolled out');
    // Rolling update: every node ends up with the new template, one node at a time.
    await env.client.resource<DaemonSet>(refs.daemonsets, "default").patch("agent", "merge", {
      spec: { template: { spec: { containers: [{ name: "c", image: "pause:2" }] } } },
    });
    const st2 = await env.cluster.kubectl(["rollout", "status", "ds/agent", "--timeout=40s"], { timeoutMs: 50_000 });
    expect(st2.stdout).toContain('daemon set "agent" successfully rolled out');
    const after = await waitFor("all updated", async () => {
      const ps = await live("ds=agent");
      return ps.length === nodeCount && ps.every((p) => p.spec!.containers[0]!.image === "pause:2") ? ps : undefined;
    }, 30_000);
    expect(new Set(after.map((p) => p.spec?.nodeName)).size).toBe(nodeCount);
    const hist = await env.cluster.kubectl(["rollout", "history", "ds/agent"]);
    expect(hist.stdout).toMatch(/^1\s/m);
    expect(hist.stdout).toMatch(/^2\s/m);
    // Undo goes back to the first template (kubectl patches the DaemonSet from ControllerRevision data).
    const undo = await env.cluster.kubectl(["rollout", "undo", "ds/agent"]);
    expect(undo.stderr).toBe("");
    await waitFor("undone", async () => {
      const ps = await live("ds=agent");
      return ps.length === nodeCount && ps.every((p) => p.spec!.containers[0]!.image === "pause" && isReady(p));
    }, 30_000);
    const hist2 = await env.cluster.kubectl(["rollout", "history", "ds/agent"]);
    expect(hist2.stdout).toMatch(/^3\s/m);
  }, 90_000);

  test("a DaemonSet with maxSurge starts the new pod before removing the old one", async () => {
    const dss = env.client.resource<DaemonSet>(refs.daemonsets, "default");
    await dss.create({
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "surge", namespace: "default" },
      spec: {
        selector: { matchLabels: { ds: "surge" } },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: { metadata: { labels: { ds: "surge" } }, spec: podSpec },
      },
    });
    const nodeCount = (await env.client.resource<Node>(refs.nodes).list()).items.length;
    await waitFor("surge ready", async () => (await dss.get("surge")).status?.numberAvailable === nodeCount, 30_000);
    // Sample: every node keeps an available pod throughout.
    let minAvailableNodes = Infinity;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const ps = (await live("ds=surge")).filter(isReady);
        minAvailableNodes = Math.min(minAvailableNodes, new Set(ps.map((p) => p.spec?.nodeName)).size);
        await Bun.sleep(20);
      }
    })();
    await dss.patch("surge", "merge", { spec: { template: { spec: { containers: [{ name: "c", image: "pause:2" }] } } } });
    await waitFor("surge rolled", async () => {
      const ps = await live("ds=surge");
      return ps.length === nodeCount && ps.every((p) => p.spec!.containers[0]!.image === "pause:2" && isReady(p));
    }, 40_000);
    sampling = false;
    await sampler;
    expect(minAvailableNodes).toBe(nodeCount);
  }, 60_000);

  test("a StatefulSet starts web-0.. in order and scales down in reverse", async () => {
    const sts: StatefulSet = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "web", namespace: "default" },
      spec: { serviceName: "web", replicas: 3, selector: { matchLabels: { sts: "web" } }, template: { metadata: { labels: { sts: "web" } }, spec: podSpec } },
    };
    await env.client.resource<StatefulSet>(refs.statefulsets, "default").create(sts);
    const ready = await waitFor("3 ready", async () => {
      const ps = await live("sts=web");
      return ps.length === 3 && ps.every(isReady) ? ps : undefined;
    }, 40_000);
    expect(ready.map((p) => p.metadata!.name).sort()).toEqual(["web-0", "web-1", "web-2"]);
    // Ordered: each pod was created after the previous one became ready.
    const byName = new Map(ready.map((p) => [p.metadata!.name!, p]));
    const readyAt = (n: string) => Date.parse(byName.get(n)!.status!.conditions!.find((c) => c.type === "Ready")!.lastTransitionTime!);
    const created = (n: string) => Date.parse(byName.get(n)!.metadata!.creationTimestamp!);
    expect(created("web-1")).toBeGreaterThanOrEqual(readyAt("web-0") - 1000);
    expect(created("web-2")).toBeGreaterThanOrEqual(readyAt("web-1") - 1000);
    expect(byName.get("web-1")!.spec?.hostname).toBe("web-1");
    expect(byName.get("web-1")!.spec?.subdomain).toBe("web");
    // Rolling update from the highest ordinal down.
    await env.client.resource<StatefulSet>(refs.statefulsets, "default").patch("web", "merge", {
      spec: { template: { spec: { containers: [{ name: "c", image: "pause:2" }] } } },
    });
    const st = await env.cluster.kubectl(["rollout", "status", "sts/web", "--timeout=40s"], { timeoutMs: 50_000 });
    expect(st.stdout).toContain("partitioned roll out complete");
    const updated = await live("sts=web");
    expect(updated.every((p) => p.spec!.containers[0]!.image === "pause:2")).toBe(true);
    await env.client.resource<StatefulSet>(refs.statefulsets, "default").patch("web", "merge", { spec: { replicas: 1 } });
    await waitFor("1 left", async () => (await pods().list({ labelSelector: "sts=web" })).items.length === 1, 30_000);
    expect((await pods().list({ labelSelector: "sts=web" })).items[0]!.metadata!.name).toBe("web-0");
  }, 90_000);
});

describe("statefulset options", () => {
  test("Parallel pod management with ordinals.start", async () => {
    await env.client.resource<StatefulSet>(refs.statefulsets, "default").create({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "par", namespace: "default" },
      spec: {
        serviceName: "par",
        replicas: 3,
        podManagementPolicy: "Parallel",
        ordinals: { start: 5 },
        selector: { matchLabels: { sts: "par" } },
        template: { metadata: { labels: { sts: "par" } }, spec: podSpec },
      },
    });
    const ps = await waitFor("3 ready", async () => {
      const l = await live("sts=par");
      return l.length === 3 && l.every(isReady) ? l : undefined;
    }, 30_000);
    expect(ps.map((p) => p.metadata!.name).sort()).toEqual(["par-5", "par-6", "par-7"]);
    expect(ps.find((p) => p.metadata!.name === "par-6")!.metadata!.labels!["apps.kubernetes.io/pod-index"]).toBe("6");
    const st = await waitFor("status", async () => {
      const x = await env.client.resource<StatefulSet>(refs.statefulsets, "default").get("par");
      return x.status?.readyReplicas === 3 ? x : undefined;
    });
    expect(st.status?.updateRevision).toBe(st.status?.currentRevision);
  }, 60_000);
});

describe("cronjob", () => {
  test("runs the missed scheduled time at once and records lastScheduleTime", async () => {
    const cjs = env.client.resource<CronJob>(refs.cronjobs, "default");
    // Created suspended, then told it last ran 3 minutes ago: the most recent minute is due now.
    const made = await cjs.create({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "tick", namespace: "default" },
      spec: {
        schedule: "* * * * *",
        suspend: true,
        jobTemplate: { spec: { template: { metadata: { annotations: { [RUN_SECONDS_ANNOTATION]: "0.1" } }, spec: { ...podSpec, restartPolicy: "Never" } } } },
      },
    });
    const threeAgo = new Date(Math.floor(Date.now() / 60000) * 60000 - 180_000).toISOString().replace(/\.\d+Z$/, "Z");
    await cjs.updateStatus({ ...made, status: { lastScheduleTime: threeAgo } });
    await cjs.patch("tick", "merge", { spec: { suspend: false } });
    const job = await waitFor("job from cronjob", async () => {
      const l = (await env.client.resource<Job>(refs.jobs, "default").list()).items.filter((j) => j.metadata?.ownerReferences?.[0]?.kind === "CronJob");
      return l[0];
    }, 30_000);
    expect(job.metadata!.name).toMatch(/^tick-\d+$/);
    const c = await waitFor("status", async () => {
      const x = await cjs.get("tick");
      return x.status?.lastScheduleTime && x.status.lastScheduleTime !== threeAgo ? x : undefined;
    });
    expect(Number(job.metadata!.name!.slice(5)) * 60000).toBe(Date.parse(c.status!.lastScheduleTime!));
    // Only the most recent missed time runs, not all three.
    expect((await env.client.resource<Job>(refs.jobs, "default").list()).items.filter((j) => j.metadata?.name?.startsWith("tick-")).length).toBeLessThanOrEqual(2);
    await waitFor("job done, lastSuccessfulTime", async () => (await cjs.get("tick")).status?.lastSuccessfulTime, 30_000);
  }, 60_000);
});

describe("node lifecycle", () => {
  test("a stopped node becomes Unknown, is tainted, and its pods come back elsewhere", async () => {
    await env.client.resource<Deployment>(refs.deployments, "default").create(deployment("survivor", 3));
    const before = await waitFor("3 ready", async () => {
      const ps = await live("app=survivor");
      return ps.length === 3 && ps.every(isReady) ? ps : undefined;
    }, 30_000);
    const victim = before[0]!.spec!.nodeName!;
    env.hollow!.stopNode(victim);
    const node = await waitFor("node unknown", async () => {
      const n = await env.client.resource<Node>(refs.nodes).get(victim);
      const r = n.status?.conditions?.find((c) => c.type === "Ready");
      return r?.status === "Unknown" && n.spec?.taints?.some((t) => t.key === "node.kubernetes.io/unreachable" && t.effect === "NoExecute") ? n : undefined;
    }, 30_000);
    expect(node.status!.conditions!.find((c) => c.type === "Ready")).toMatchObject({ reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." });
    expect(node.spec!.taints!.some((t) => t.key === "node.kubernetes.io/unreachable" && t.effect === "NoSchedule")).toBe(true);
    const after = await waitFor("3 ready elsewhere", async () => {
      const ps = await live("app=survivor");
      return ps.length === 3 && ps.every((p) => isReady(p) && p.spec?.nodeName !== victim) ? ps : undefined;
    }, 40_000);
    expect(after.length).toBe(3);
    // The node recovers: taints go away.
    env.hollow!.startNode(victim);
    await waitFor("node ready again", async () => {
      const n = await env.client.resource<Node>(refs.nodes).get(victim);
      return n.status?.conditions?.find((c) => c.type === "Ready")?.status === "True" && !n.spec?.taints?.some((t) => t.key.startsWith("node.kubernetes.io/unreachable"));
    }, 30_000);
  }, 120_000);

  test("pods that tolerate an unreachable node stay but are marked not ready, so endpoints drop them", async () => {
    const d = deployment("stayer", 3);
    d.spec!.template.spec!.tolerations = [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" }];
    await env.client.resource<Deployment>(refs.deployments, "default").create(d);
    await env.client.resource<Service>(refs.services, "default").create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "stayer", namespace: "default" },
      spec: { selector: { app: "stayer" }, ports: [{ port: 80 }] },
    });
    const ps = await waitFor("3 ready", async () => {
      const l = await live("app=stayer");
      return l.length === 3 && l.every(isReady) ? l : undefined;
    }, 30_000);
    await waitFor("3 endpoints", async () => (await env.client.resource<Endpoints>(refs.endpoints, "default").get("stayer")).subsets?.[0]?.addresses?.length === 3, 30_000);
    const victim = ps[0]!.spec!.nodeName!;
    const onVictim = ps.filter((p) => p.spec?.nodeName === victim).map((p) => p.metadata!.name!);
    env.hollow!.stopNode(victim);
    try {
      const ep = await waitFor("victim's pods not ready in endpoints", async () => {
        const e = await env.client.resource<Endpoints>(refs.endpoints, "default").get("stayer");
        const notReady = (e.subsets ?? []).flatMap((s) => s.notReadyAddresses ?? []).map((a) => a.targetRef?.name);
        return onVictim.every((n) => notReady.includes(n)) ? e : undefined;
      }, 30_000);
      const ready = (ep.subsets ?? []).flatMap((s) => s.addresses ?? []).map((a) => a.targetRef?.name);
      for (const n of onVictim) expect(ready).not.toContain(n);
      // Tolerated forever: still there, not evicted.
      for (const n of onVictim) expect((await pods().get(n)).metadata?.deletionTimestamp).toBeUndefined();
    } finally {
      env.hollow!.startNode(victim);
    }
  }, 90_000);

  test("when every node goes silent (the control plane is cut off) nothing is evicted", async () => {
    await env.client.resource<Deployment>(refs.deployments, "default").create(deployment("island", 3));
    const before = await waitFor("3 ready", async () => {
      const l = await live("app=island");
      return l.length === 3 && l.every(isReady) ? l : undefined;
    }, 30_000);
    const names = env.hollow!.names;
    for (const n of names) env.hollow!.stopNode(n);
    try {
      await waitFor("all nodes unknown", async () => {
        const ns = (await env.client.resource<Node>(refs.nodes).list()).items;
        return ns.every((n) => n.status?.conditions?.find((c) => c.type === "Ready")?.status === "Unknown");
      }, 30_000);
      // Well past the (1 s) eviction time: still no NoExecute taint, no pod deleted.
      await Bun.sleep(2500);
      const ns = (await env.client.resource<Node>(refs.nodes).list()).items;
      for (const n of ns) {
        expect(n.spec?.taints?.some((t) => t.effect === "NoExecute")).toBeFalsy();
        expect(n.spec?.taints?.some((t) => t.key === "node.kubernetes.io/unreachable" && t.effect === "NoSchedule")).toBe(true);
      }
      const after = await live("app=island");
      expect(after.map((p) => p.metadata!.uid).sort()).toEqual(before.map((p) => p.metadata!.uid).sort());
    } finally {
      for (const n of names) env.hollow!.startNode(n);
    }
    await waitFor("nodes back", async () => {
      const ns = (await env.client.resource<Node>(refs.nodes).list()).items;
      return ns.every((n) => n.status?.conditions?.find((c) => c.type === "Ready")?.status === "True" && !n.spec?.taints?.length);
    }, 30_000);
  }, 90_000);
});
