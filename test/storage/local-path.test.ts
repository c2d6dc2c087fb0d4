// local-path volumes with real containers on two test-made nodes: the scheduler picks a node, the claim is
// provisioned there, the kubelet mounts it (readOnly, subPath), the next pod of the claim lands on the same node and
// reads what the first wrote; reclaim Delete removes the directory (the node's agent does it), Retain keeps it;
// StatefulSet pods keep their claim across deletion and scale-down, and whenScaled: Delete removes it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { StatefulSet } from "kubernetes-types/apps/v1";
import type { PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1";
import { existsSync, readFileSync } from "node:fs";
import { refs } from "../../internal/client/refs.ts";
import { startScheduler } from "../../internal/scheduler/index.ts";
import { busyboxPod, startEnv, waitFor, waitPod, type Env } from "../kubelet/setup.ts";

let env: Env;
const schedulerStop = new AbortController();
const pvcs = () => env.client.resource<PersistentVolumeClaim>(refs.persistentvolumeclaims, "default");
const pvs = () => env.client.resource<PersistentVolume>(refs.persistentvolumes);
const pods = () => env.client.resource<Pod>(refs.pods, "default");
const sets = () => env.client.resource<StatefulSet>(refs.statefulsets, "default");

function claim(name: string, storageClassName?: string): PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "default" },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "64Mi" } }, ...(storageClassName ? { storageClassName } : {}) },
  };
}

/** A scheduled busybox pod (no nodeName) with the claim mounted at /data. */
function podWithClaim(name: string, claimName: string, script: string, extra: { readOnly?: boolean; mounts?: any[] } = {}): Pod {
  const p = busyboxPod(name, undefined as unknown as string, script, {
    restartPolicy: "Never",
    volumes: [{ name: "data", persistentVolumeClaim: { claimName, readOnly: extra.readOnly } }],
  } as any, { volumeMounts: extra.mounts ?? [{ name: "data", mountPath: "/data" }] });
  delete (p.spec as any).nodeName;
  return p;
}

async function gone(what: string, fn: () => Promise<unknown>): Promise<void> {
  await waitFor(what, async () => {
    try {
      await fn();
      return false;
    } catch (e: any) {
      return e?.code === 404;
    }
  }, 60_000);
}

async function boundVolume(name: string): Promise<PersistentVolume> {
  const c = await waitFor(`claim ${name} Bound`, async () => {
    const x = await pvcs().get(name);
    return x.status?.phase === "Bound" && x;
  }, 60_000);
  return pvs().get(c.spec!.volumeName!);
}

beforeAll(async () => {
  env = await startEnv(["st-a", "st-b"]);
  void startScheduler(env.cluster.componentConfig("scheduler"), { identity: "storage-test", leaderElection: false, signal: schedulerStop.signal } as any);
}, 120_000);

afterAll(async () => {
  schedulerStop.abort();
  await env?.cleanup();
}, 120_000);

test("data written by one pod is read by the next pod of the claim, on the same node (readOnly, subPath)", async () => {
  await pvcs().create(claim("data"));
  await pods().create(podWithClaim("writer", "data", "echo hello > /data/msg && mkdir -p /data/sub && echo inner > /data/sub/x && sleep 3600"));
  const w = await waitPod(env, "writer", (p) => p.status?.phase === "Running", "Running", 60_000);
  const node = w.spec!.nodeName!;
  const pv = await boundVolume("data");
  const c = await pvcs().get("data");
  expect(c.metadata?.annotations?.["volume.kubernetes.io/selected-node"]).toBe(node);
  const dir = pv.spec!.hostPath!.path;
  expect(dir).toBe(`${env.cluster.dataDir}/storage/pvc-${c.metadata!.uid}_default_data`);
  await waitFor("file written on the host", () => existsSync(`${dir}/sub/x`));
  expect(readFileSync(`${dir}/msg`, "utf8")).toBe("hello\n");
  await pods().delete("writer", { gracePeriodSeconds: 0 });
  await gone("writer removed", () => pods().get("writer"));

  // The reader has no node constraint of its own: the volume's node affinity brings it to the writer's node.
  await pods().create(
    podWithClaim("reader", "data", "cat /data/msg; cat /sub/x; if touch /data/new 2>/dev/null; then echo writable; else echo read-only; fi", {
      readOnly: true,
      mounts: [
        { name: "data", mountPath: "/data" },
        { name: "data", mountPath: "/sub", subPath: "sub" },
      ],
    }),
  );
  const r = await waitPod(env, "reader", (p) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed", "finished", 60_000);
  expect(r.spec?.nodeName).toBe(node);
  const logs = await env.cluster.kubectl(["logs", "reader"]);
  expect(logs.stdout).toBe("hello\ninner\nread-only\n");
  expect(existsSync(`${dir}/new`)).toBe(false);
}, 180_000);

test("reclaim Delete: deleting the claim removes the volume and its directory", async () => {
  const pv = await pvs().get((await pvcs().get("data")).spec!.volumeName!);
  const dir = pv.spec!.hostPath!.path;
  expect(existsSync(dir)).toBe(true);
  await pods().delete("reader", { gracePeriodSeconds: 0 });
  await pvcs().delete("data");
  await gone("claim removed", () => pvcs().get("data"));
  await gone("volume removed", () => pvs().get(pv.metadata!.name!));
  expect(existsSync(dir)).toBe(false);
}, 120_000);

test("reclaim Retain: the volume is Released and the directory stays, also after the volume is deleted", async () => {
  await env.client.resource(refs.storageclasses).create({
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "keep" },
    provisioner: "rancher.io/local-path",
    reclaimPolicy: "Retain",
    volumeBindingMode: "WaitForFirstConsumer",
  });
  await pvcs().create(claim("kept", "keep"));
  await pods().create(podWithClaim("keeper", "kept", "echo precious > /data/file"));
  await waitPod(env, "keeper", (p) => p.status?.phase === "Succeeded", "Succeeded", 60_000);
  const pv = await boundVolume("kept");
  expect(pv.spec?.persistentVolumeReclaimPolicy).toBe("Retain");
  const dir = pv.spec!.hostPath!.path;
  await pods().delete("keeper", { gracePeriodSeconds: 0 });
  await pvcs().delete("kept");
  await waitFor("volume Released", async () => (await pvs().get(pv.metadata!.name!)).status?.phase === "Released", 60_000);
  const row = await env.cluster.kubectl(["get", "pv", pv.metadata!.name!, "--no-headers"]);
  expect(row.stdout).toMatch(new RegExp(`^${pv.metadata!.name}\\s+64Mi\\s+RWO\\s+Retain\\s+Released\\s+default/kept\\s+keep\\s`));
  expect(readFileSync(`${dir}/file`, "utf8")).toBe("precious\n");
  await pvs().delete(pv.metadata!.name!);
  await gone("volume removed", () => pvs().get(pv.metadata!.name!));
  expect(readFileSync(`${dir}/file`, "utf8")).toBe("precious\n");
}, 120_000);

test("StatefulSet pods keep their claim across deletion and scale-down; whenScaled: Delete removes it", async () => {
  const script = "[ -f /data/first ] || hostname > /data/first; echo boot >> /data/boots; sleep 3600";
  await sets().create({
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "web", namespace: "default" },
    spec: {
      replicas: 1,
      serviceName: "web",
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          terminationGracePeriodSeconds: 1,
          automountServiceAccountToken: false,
          containers: [{ name: "main", image: "busybox:latest", imagePullPolicy: "IfNotPresent", command: ["sh", "-c", script], volumeMounts: [{ name: "data", mountPath: "/data" }] }],
        },
      },
      volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "32Mi" } } } }],
    },
  });
  const first = await waitPod(env, "web-0", (p) => p.status?.phase === "Running", "Running", 90_000);
  const pv = await boundVolume("data-web-0");
  const claimUID = (await pvcs().get("data-web-0")).metadata!.uid;
  const dir = pv.spec!.hostPath!.path;
  await waitFor("first boot recorded", () => existsSync(`${dir}/boots`));
  await pods().delete("web-0", { gracePeriodSeconds: 0 });
  await waitPod(env, "web-0", (p) => p.metadata?.uid !== first.metadata?.uid && p.status?.phase === "Running", "recreated and Running", 90_000);
  await waitFor("second boot recorded", () => readFileSync(`${dir}/boots`, "utf8") === "boot\nboot\n");
  expect(readFileSync(`${dir}/first`, "utf8")).toBe("web-0\n");
  expect((await pvcs().get("data-web-0")).metadata?.uid).toBe(claimUID);

  // Scale-down keeps the claim (default retention: Retain/Retain).
  await sets().patch("web", "merge", { spec: { replicas: 0 } });
  await gone("web-0 removed", () => pods().get("web-0"));
  await Bun.sleep(2000);
  expect((await pvcs().get("data-web-0")).metadata?.uid).toBe(claimUID);

  // Back up: the same claim and data; then whenScaled: Delete hands the claim to the pod on scale-down.
  await sets().patch("web", "merge", { spec: { replicas: 1, persistentVolumeClaimRetentionPolicy: { whenScaled: "Delete", whenDeleted: "Retain" } } });
  await waitPod(env, "web-0", (p) => p.status?.phase === "Running", "Running again", 90_000);
  await waitFor("third boot recorded", () => readFileSync(`${dir}/boots`, "utf8") === "boot\nboot\nboot\n");
  await sets().patch("web", "merge", { spec: { replicas: 0 } });
  await gone("claim removed with its pod", () => pvcs().get("data-web-0"));
  await gone("volume removed", () => pvs().get(pv.metadata!.name!));
  expect(existsSync(dir)).toBe(false);
}, 300_000);

test("a pod bound to a node before its claim is bound waits (FailedMount) and starts once the claim binds to a static volume", async () => {
  const node = env.nodes[0]!.name;
  await pvcs().create({ ...claim("static"), spec: { ...claim("static").spec, storageClassName: "" } });
  const p = podWithClaim("early", "static", "cat /data/hello");
  p.spec!.nodeName = node;
  await pods().create(p);
  await waitFor("FailedMount event", async () => {
    const d = await env.cluster.kubectl(["describe", "pod", "early"]);
    return d.stdout.includes("FailedMount") && d.stdout.includes('PVC default/static has non-bound phase ("Pending")');
  }, 30_000);
  const dir = `${env.cluster.dataDir}/static-volume`;
  (await import("node:fs")).mkdirSync(dir, { recursive: true });
  (await import("node:fs")).writeFileSync(`${dir}/hello`, "from the admin\n");
  await pvs().create({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: "static-pv" },
    spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], storageClassName: "", hostPath: { path: dir, type: "Directory" } },
  });
  await waitPod(env, "early", (x) => x.status?.phase === "Succeeded", "Succeeded", 60_000);
  expect((await env.cluster.kubectl(["logs", "early"])).stdout).toBe("from the admin\n");
}, 120_000);
