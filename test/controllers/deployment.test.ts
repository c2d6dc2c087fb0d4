// Deployments end to end: controller manager + scheduler + hollow nodes against a real API server.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deployment, ReplicaSet } from "kubernetes-types/apps/v1";
import type { Pod } from "kubernetes-types/core/v1";
import { refs } from "../../internal/client/refs.ts";
import { deployment, startEnv, waitFor, type Env } from "./env.ts";

let env: Env;
beforeAll(async () => {
  env = await startEnv({ nodes: 4 });
});
afterAll(async () => {
  await env?.stop();
});

const deploys = () => env.client.resource<Deployment>(refs.deployments, "default");
const rss = () => env.client.resource<ReplicaSet>(refs.replicasets, "default");
const pods = () => env.client.resource<Pod>(refs.pods, "default");
const ready = (p: Pod) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");

async function available(name: string): Promise<Deployment | undefined> {
  const d = await deploys().get(name);
  const s = d.status;
  const ok =
    (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
    s?.updatedReplicas === d.spec?.replicas &&
    s?.availableReplicas === d.spec?.replicas &&
    (s?.replicas ?? 0) === d.spec?.replicas &&
    s?.conditions?.some((c) => c.type === "Available" && c.status === "True");
  return ok ? d : undefined;
}

describe("deployment", () => {
  test("a Deployment of 10 spreads over nodes and becomes Available", async () => {
    await deploys().create(deployment("web", 10));
    const d = await waitFor("web available", () => available("web"), 60_000);
    expect(d.metadata?.annotations?.["deployment.kubernetes.io/revision"]).toBe("1");
    const prog = d.status?.conditions?.find((c) => c.type === "Progressing");
    expect(prog?.status).toBe("True");
    expect(prog?.reason).toBe("NewReplicaSetAvailable");
    const list = (await pods().list({ labelSelector: "app=web" })).items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(list.length).toBe(10);
    const nodes = new Set(list.map((p) => p.spec?.nodeName));
    expect(nodes.size).toBe(4);
    // Names <rs>-<5 chars>, owned by the ReplicaSet <deploy>-<hash>.
    const rsList = (await rss().list({ labelSelector: "app=web" })).items;
    expect(rsList.length).toBe(1);
    const rs = rsList[0]!;
    const hash = rs.metadata!.labels!["pod-template-hash"]!;
    expect(rs.metadata!.name).toBe(`web-${hash}`);
    expect(hash.length).toBeLessThanOrEqual(10);
    expect(rs.metadata!.ownerReferences![0]).toMatchObject({ kind: "Deployment", name: "web", controller: true, blockOwnerDeletion: true });
    for (const p of list) {
      expect(p.metadata!.name).toMatch(new RegExp(`^web-${hash}-[a-z0-9]{5}$`));
      expect(p.metadata!.ownerReferences![0]).toMatchObject({ kind: "ReplicaSet", name: rs.metadata!.name, controller: true });
    }
    expect(rs.status).toMatchObject({ replicas: 10, fullyLabeledReplicas: 10, readyReplicas: 10, availableReplicas: 10 });
  }, 90_000);

  test("rolling update never drops below replicas - maxUnavailable; kubectl rollout status/history/undo work", async () => {
    await deploys().create(
      deployment("roll", 4, "registry.k8s.io/pause:3.9", { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }),
    );
    await waitFor("roll available", () => available("roll"), 60_000);
    // Sample ready pods throughout the rollout.
    let min = Infinity;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const n = (await pods().list({ labelSelector: "app=roll" })).items.filter(ready).length;
        min = Math.min(min, n);
        await Bun.sleep(20);
      }
    })();
    const set = await env.cluster.kubectl(["set", "image", "deployment/roll", "c=registry.k8s.io/pause:3.10"]);
    expect(set.code).toBe(0);
    const status = await env.cluster.kubectl(["rollout", "status", "deployment/roll", "--timeout=60s"], { timeoutMs: 70_000 });
    expect(status.stdout).toContain('deployment "roll" successfully rolled out');
    sampling = false;
    await sampler;
    expect(min).toBeGreaterThanOrEqual(3);
    const d = await waitFor("roll available", () => available("roll"));
    expect(d.metadata?.annotations?.["deployment.kubernetes.io/revision"]).toBe("2");
    const hist = await env.cluster.kubectl(["rollout", "history", "deployment/roll"]);
    expect(hist.code).toBe(0);
    expect(hist.stdout).toMatch(/^1\s/m);
    expect(hist.stdout).toMatch(/^2\s/m);
    // Undo restores the old template (as revision 3).
    const undo = await env.cluster.kubectl(["rollout", "undo", "deployment/roll"]);
    expect(undo.code).toBe(0);
    await env.cluster.kubectl(["rollout", "status", "deployment/roll", "--timeout=60s"], { timeoutMs: 70_000 });
    const back = await waitFor("roll back", async () => {
      const x = await available("roll");
      return x?.spec?.template?.spec?.containers?.[0]?.image === "registry.k8s.io/pause:3.9" && x.metadata?.annotations?.["deployment.kubernetes.io/revision"] === "3" ? x : undefined;
    });
    expect(back.spec!.template!.spec!.containers[0]!.image).toBe("registry.k8s.io/pause:3.9");
    const live = (await pods().list({ labelSelector: "app=roll" })).items.filter(ready);
    expect(live.length).toBe(4);
    for (const p of live) expect(p.spec!.containers[0]!.image).toBe("registry.k8s.io/pause:3.9");
    // Two ReplicaSets: the old template's set was reused, not duplicated.
    expect((await rss().list({ labelSelector: "app=roll" })).items.length).toBe(2);
  }, 180_000);

  test("pause, resume and restart via kubectl", async () => {
    await deploys().create(deployment("pausable", 2));
    await waitFor("available", () => available("pausable"), 60_000);
    expect((await env.cluster.kubectl(["rollout", "pause", "deployment/pausable"])).code).toBe(0);
    await env.cluster.kubectl(["set", "image", "deployment/pausable", "c=registry.k8s.io/pause:3.9"]);
    const paused = await waitFor("paused condition", async () => {
      const d = await deploys().get("pausable");
      return d.status?.conditions?.find((c) => c.type === "Progressing" && c.reason === "DeploymentPaused") ? d : undefined;
    });
    expect(paused.status!.conditions!.find((c) => c.type === "Progressing")!.status).toBe("Unknown");
    await Bun.sleep(500);
    // Nothing rolled while paused.
    expect((await rss().list({ labelSelector: "app=pausable" })).items.length).toBe(1);
    expect((await env.cluster.kubectl(["rollout", "resume", "deployment/pausable"])).code).toBe(0);
    const st = await env.cluster.kubectl(["rollout", "status", "deployment/pausable", "--timeout=60s"], { timeoutMs: 70_000 });
    expect(st.stdout).toContain("successfully rolled out");
    expect((await rss().list({ labelSelector: "app=pausable" })).items.length).toBe(2);
    // restart: a template annotation → a third ReplicaSet, same image.
    expect((await env.cluster.kubectl(["rollout", "restart", "deployment/pausable"])).code).toBe(0);
    await env.cluster.kubectl(["rollout", "status", "deployment/pausable", "--timeout=60s"], { timeoutMs: 70_000 });
    const d = await waitFor("restarted", async () => {
      const x = await available("pausable");
      return x?.metadata?.annotations?.["deployment.kubernetes.io/revision"] === "3" ? x : undefined;
    });
    expect(d.spec!.template!.metadata!.annotations!["kubectl.kubernetes.io/restartedAt"]).toBeTruthy();
  }, 120_000);

  test("Recreate removes old pods before new ones start; revisionHistoryLimit trims old sets", async () => {
    await deploys().create(deployment("recreate", 2, "registry.k8s.io/pause:3.8", { strategy: { type: "Recreate" }, revisionHistoryLimit: 1 }));
    await waitFor("available", () => available("recreate"), 60_000);
    let overlap = false;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const ps = (await pods().list({ labelSelector: "app=recreate" })).items;
        const images = new Set(ps.map((p) => p.spec!.containers[0]!.image));
        if (images.size > 1) overlap = true;
        await Bun.sleep(20);
      }
    })();
    for (const img of ["registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.10"]) {
      await deploys().patch("recreate", "merge", { spec: { template: { spec: { containers: [{ name: "c", image: img }] } } } });
      await waitFor("rolled", async () => {
        const d = await available("recreate");
        return d?.spec?.template?.spec?.containers?.[0]?.image === img ? d : undefined;
      }, 60_000);
    }
    sampling = false;
    await sampler;
    expect(overlap).toBe(false);
    // Current set + one old one (revisionHistoryLimit 1).
    await waitFor("history trimmed", async () => (await rss().list({ labelSelector: "app=recreate" })).items.length === 2);
  }, 120_000);

  test("progressDeadlineSeconds: a stuck rollout reports ProgressDeadlineExceeded", async () => {
    await deploys().create(
      deployment("stuck", 1, "registry.k8s.io/pause:3.10", {
        progressDeadlineSeconds: 2,
        template: {
          metadata: { labels: { app: "stuck" } },
          spec: { automountServiceAccountToken: false, nodeSelector: { nowhere: "true" }, containers: [{ name: "c", image: "pause" }] },
        },
      }),
    );
    const d = await waitFor("deadline exceeded", async () => {
      const x = await deploys().get("stuck");
      const c = x.status?.conditions?.find((c) => c.type === "Progressing");
      return c?.status === "False" ? x : undefined;
    }, 30_000);
    const c = d.status!.conditions!.find((c) => c.type === "Progressing")!;
    expect(c.reason).toBe("ProgressDeadlineExceeded");
    expect(c.message).toMatch(/^ReplicaSet "stuck-[a-z0-9]+" has timed out progressing\.$/);
    const st = await env.cluster.kubectl(["rollout", "status", "deployment/stuck", "--timeout=10s"]);
    expect(st.code).not.toBe(0);
    expect(st.stderr).toContain('deployment "stuck" exceeded its progress deadline');
  }, 60_000);

  test("scaling during a rollout keeps proportions and ends at the new size", async () => {
    await deploys().create(deployment("scaler", 6, "registry.k8s.io/pause:3.9", { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } } }));
    await waitFor("available", () => available("scaler"), 60_000);
    await deploys().patch("scaler", "merge", { spec: { template: { spec: { containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }] } } } });
    await deploys().patch("scaler", "merge", { spec: { replicas: 12 } });
    const d = await waitFor("scaled and rolled", async () => {
      const x = await available("scaler");
      return x?.spec?.replicas === 12 && x.status?.updatedReplicas === 12 ? x : undefined;
    }, 90_000);
    expect(d.status?.replicas).toBe(12);
    const live = (await pods().list({ labelSelector: "app=scaler" })).items.filter(ready);
    expect(live.length).toBe(12);
    for (const p of live) expect(p.spec!.containers[0]!.image).toBe("registry.k8s.io/pause:3.10");
  }, 120_000);

  test("kubectl create / scale / expose / describe", async () => {
    const k = env.cluster.kubectl;
    expect((await k(["create", "deployment", "kc", "--image=registry.k8s.io/pause:3.10", "--replicas=2"])).code).toBe(0);
    expect((await k(["rollout", "status", "deployment/kc", "--timeout=60s"], { timeoutMs: 70_000 })).code).toBe(0);
    expect((await k(["scale", "deployment/kc", "--replicas=3"])).code).toBe(0);
    await waitFor("3 available", async () => (await available("kc"))?.status?.availableReplicas === 3, 60_000);
    const get = await k(["get", "deployment", "kc", "--no-headers"]);
    expect(get.stdout).toMatch(/^kc\s+3\/3\s+3\s+3\s/);
    expect((await k(["expose", "deployment", "kc", "--port=80", "--target-port=8080"])).code).toBe(0);
    const eps = await waitFor("endpoints", async () => {
      const r = await k(["get", "endpoints", "kc", "-o", "jsonpath={.subsets[*].addresses[*].ip}"]);
      return r.stdout.trim().split(/\s+/).filter(Boolean).length === 3 ? r.stdout : undefined;
    }, 30_000);
    expect(eps.trim().split(/\s+/).length).toBe(3);
    const slices = await k(["get", "endpointslices", "-l", "kubernetes.io/service-name=kc", "-o", "jsonpath={.items[*].endpoints[*].addresses[0]}"]);
    expect(slices.stdout.trim().split(/\s+/).sort()).toEqual(eps.trim().split(/\s+/).sort());
    const desc = await k(["describe", "deployment", "kc"]);
    expect(desc.stdout).toMatch(/ScalingReplicaSet\s.*Scaled up replica set kc-[a-z0-9]+ from 2 to 3/);
    // set image + undo through kubectl (its own serialisation of the template) reuses the first ReplicaSet.
    expect((await k(["set", "image", "deployment/kc", "pause=registry.k8s.io/pause:3.9"])).code).toBe(0);
    await k(["rollout", "status", "deployment/kc", "--timeout=60s"], { timeoutMs: 70_000 });
    expect((await k(["rollout", "undo", "deployment/kc"])).code).toBe(0);
    await k(["rollout", "status", "deployment/kc", "--timeout=60s"], { timeoutMs: 70_000 });
    await waitFor("undone", async () => (await available("kc"))?.metadata?.annotations?.["deployment.kubernetes.io/revision"] === "3");
    expect((await rss().list({ labelSelector: "app=kc" })).items.length).toBe(2);
    const d2 = await k(["describe", "deployment", "kc"]);
    expect(d2.stdout).toMatch(/NewReplicaSet:\s+kc-[a-z0-9]+ \(3\/3 replicas created\)/);
  }, 120_000);
});
