// Storage without containers: the default local-path class, DefaultStorageClass admission, static binding
// (class, selector, access modes, smallest fit), WaitForFirstConsumer through the scheduler on hollow nodes,
// phases, reclaim policies on static volumes, protection finalizers, validation and kubectl's columns.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1";
import { refs } from "../../internal/client/refs.ts";
import { startEnv, waitFor, type Env } from "../controllers/env.ts";

let env: Env;
const pvcs = () => env.client.resource<PersistentVolumeClaim>(refs.persistentvolumeclaims, "default");
const pvs = () => env.client.resource<PersistentVolume>(refs.persistentvolumes);
const pods = () => env.client.resource<Pod>(refs.pods, "default");

function claim(name: string, spec: Partial<PersistentVolumeClaim["spec"]> = {}, storage = "1Gi"): PersistentVolumeClaim {
  return { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name, namespace: "default" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage } }, ...spec } };
}

function volume(name: string, storage: string, extra: Partial<PersistentVolume["spec"]> = {}, labels: Record<string, string> = {}): PersistentVolume {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name, labels },
    spec: { capacity: { storage }, accessModes: ["ReadWriteOnce"], storageClassName: "manual", hostPath: { path: `/srv/${name}` }, ...extra },
  };
}

function podWithClaim(name: string, claimName: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: { automountServiceAccountToken: false, containers: [{ name: "c", image: "busybox" }], volumes: [{ name: "data", persistentVolumeClaim: { claimName } }] },
  };
}

const phase = async (name: string) => (await pvcs().get(name)).status?.phase;

beforeAll(async () => {
  env = await startEnv({ nodes: 3, manager: { controllers: ["persistentvolume-binder", "pvc-protection", "pv-protection", "garbagecollector", "serviceaccount", "statefulset"] } });
  await env.client.resource(refs.storageclasses).create({
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "manual" },
    provisioner: "kubernetes.io/no-provisioner",
    volumeBindingMode: "Immediate",
  });
}, 60_000);
afterAll(async () => {
  await env?.stop();
});

describe("storage classes", () => {
  test("local-path is the default class, served with kubectl's columns", async () => {
    const sc: any = await env.client.resource(refs.storageclasses).get("local-path");
    expect(sc.provisioner).toBe("rancher.io/local-path");
    expect(sc.reclaimPolicy).toBe("Delete");
    expect(sc.volumeBindingMode).toBe("WaitForFirstConsumer");
    expect(sc.metadata.annotations["storageclass.kubernetes.io/is-default-class"]).toBe("true");
    const r = await env.cluster.kubectl(["get", "sc"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]!.split(/\s+/)).toEqual(["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"]);
    expect(lines.find((l) => l.startsWith("local-path"))!.split(/\s+/).slice(0, 6)).toEqual(["local-path", "(default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer", "false"]);
    // The provisioner's configuration, in local-path-provisioner's format.
    const cm: any = await env.client.resource(refs.configmaps, "kube-system").get("local-path-config");
    expect(JSON.parse(cm.data["config.json"]).nodePathMap[0]).toEqual({ node: "DEFAULT_PATH_FOR_NON_LISTED_NODES", paths: [`${env.cluster.dataDir}/storage`] });
    // The CSI kinds are served (empty).
    for (const res of ["csidrivers", "csinodes", "volumeattachments"]) expect((await env.cluster.kubectl(["get", res])).code).toBe(0);
  });

  test("kubectl apply and explain know the storage kinds", async () => {
    const yaml = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: applied\nprovisioner: rancher.io/local-path\nvolumeBindingMode: WaitForFirstConsumer\nreclaimPolicy: Retain\n";
    const a = await env.cluster.kubectl(["apply", "-f", "-"], { stdin: yaml });
    expect(a.stderr).toBe("");
    expect(a.stdout).toBe("storageclass.storage.k8s.io/applied created\n");
    expect((await env.cluster.kubectl(["apply", "-f", "-"], { stdin: yaml })).stdout).toBe("storageclass.storage.k8s.io/applied unchanged\n");
    const e = await env.cluster.kubectl(["explain", "storageclass.volumeBindingMode"]);
    expect(e.code).toBe(0);
    expect(e.stdout).toContain("volumeBindingMode");
    expect((await env.cluster.kubectl(["delete", "sc", "applied"])).code).toBe(0);
  });

  test("a class's provisioner and parameters cannot change; bad values are upstream's 422", async () => {
    const r = await env.cluster.kubectl(["patch", "sc", "manual", "--type=merge", "-p", '{"provisioner":"other"}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("provisioner: Forbidden: updates to provisioner are forbidden.");
    const bad = await env.cluster.api("/apis/storage.k8s.io/v1/storageclasses", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "bad" }, provisioner: "x", volumeBindingMode: "Later" }),
    });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as any).message).toContain(`volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"`);
  });
});

describe("claims and volumes", () => {
  test("a claim without a class gets the default one and the protection finalizer, and waits for a consumer", async () => {
    const c = await pvcs().create(claim("wait"));
    expect(c.spec?.storageClassName).toBe("local-path");
    expect(c.metadata?.finalizers).toEqual(["kubernetes.io/pvc-protection"]);
    expect(c.status?.phase).toBe("Pending");
    const d = await waitFor("WaitForFirstConsumer event in describe", async () => {
      const r = await env.cluster.kubectl(["describe", "pvc", "wait"]);
      return r.stdout.includes("WaitForFirstConsumer") && r.stdout;
    });
    expect(d).toContain("waiting for first consumer to be created before binding");
    // "" means no class: not defaulted.
    const none = await pvcs().create(claim("noclass", { storageClassName: "" }));
    expect(none.spec?.storageClassName).toBe("");
  });

  test("a claim missing access modes or size is refused as upstream", async () => {
    const res = await env.cluster.api("/api/v1/namespaces/default/persistentvolumeclaims", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "bad" }, spec: { resources: { requests: {} } } }),
    });
    expect(res.status).toBe(422);
    const msg = ((await res.json()) as any).message as string;
    expect(msg).toContain("spec.accessModes: Required value: at least 1 access mode is required");
    expect(msg).toContain("spec.resources[storage]: Required value");
    const pv = await env.cluster.api("/api/v1/persistentvolumes", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ apiVersion: "v1", kind: "PersistentVolume", metadata: { name: "bad" }, spec: { accessModes: ["ReadWriteOnce"], capacity: { storage: "1Gi" } } }),
    });
    expect(pv.status).toBe(422);
    expect(((await pv.json()) as any).message).toContain("spec: Required value: must specify a volume type");
  });

  test("static binding: class, selector, access modes and the smallest volume that fits", async () => {
    await pvs().create(volume("slow-1g", "1Gi", {}, { tier: "slow" }));
    await pvs().create(volume("fast-5g", "5Gi", {}, { tier: "fast" }));
    await pvs().create(volume("fast-2g", "2Gi", {}, { tier: "fast" }));
    await pvs().create(volume("fast-2g-rox", "2Gi", { accessModes: ["ReadOnlyMany"] }, { tier: "fast" }));
    await waitFor("volumes Available", async () => (await pvs().list()).items.filter((v) => v.status?.phase === "Available").length >= 4);
    expect((await pvs().get("slow-1g")).metadata?.finalizers).toEqual(["kubernetes.io/pv-protection"]);
    await pvcs().create(claim("fast", { storageClassName: "manual", selector: { matchLabels: { tier: "fast" } } }, "1500Mi"));
    const bound = await waitFor("claim fast Bound", async () => {
      const c = await pvcs().get("fast");
      return c.status?.phase === "Bound" && c;
    });
    expect(bound.spec?.volumeName).toBe("fast-2g");
    expect(bound.status?.capacity?.storage).toBe("2Gi");
    expect(bound.status?.accessModes).toEqual(["ReadWriteOnce"]);
    expect(bound.metadata?.annotations?.["pv.kubernetes.io/bind-completed"]).toBe("yes");
    const pv = await waitFor("fast-2g Bound", async () => {
      const v = await pvs().get("fast-2g");
      return v.status?.phase === "Bound" && v;
    });
    expect(pv.spec?.claimRef?.name).toBe("fast");
    expect(pv.spec?.claimRef?.uid).toBe(bound.metadata!.uid!);

    // Nothing big enough of that class: stays Pending.
    await pvcs().create(claim("huge", { storageClassName: "manual" }, "50Gi"));
    await Bun.sleep(1500);
    expect(await phase("huge")).toBe("Pending");

    // kubectl's columns.
    const r = await env.cluster.kubectl(["get", "pv,pvc"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE/);
    expect(r.stdout).toMatch(/persistentvolume\/fast-2g\s+2Gi\s+RWO\s+Retain\s+Bound\s+default\/fast\s+manual\s+<unset>/);
    expect(r.stdout).toMatch(/NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE/);
    expect(r.stdout).toMatch(/persistentvolumeclaim\/fast\s+Bound\s+fast-2g\s+2Gi\s+RWO\s+manual\s+<unset>/);
    expect(r.stdout).toMatch(/persistentvolumeclaim\/huge\s+Pending\s+manual/);
  });

  test("a volume pre-bound by claimRef goes to that claim only", async () => {
    await pvs().create(volume("reserved", "1Gi", { claimRef: { namespace: "default", name: "mine" } }));
    await pvcs().create(claim("other", { storageClassName: "manual" }, "1Gi"));
    await pvcs().create(claim("mine", { storageClassName: "manual" }, "1Gi"));
    await waitFor("mine Bound to reserved", async () => (await pvcs().get("mine")).spec?.volumeName === "reserved");
    const other = await waitFor("other Bound", async () => {
      const c = await pvcs().get("other");
      return c.status?.phase === "Bound" && c;
    });
    expect(other.spec?.volumeName).toBe("slow-1g");
  });

  test("Retain: a released volume keeps its data and its claimRef; Delete without a deleter fails", async () => {
    await pvs().create(volume("del-1g", "1Gi", { persistentVolumeReclaimPolicy: "Delete" }, { tier: "del" }));
    await pvcs().create(claim("todelete", { storageClassName: "manual", selector: { matchLabels: { tier: "del" } } }));
    await waitFor("todelete Bound", async () => (await phase("todelete")) === "Bound");
    await pvcs().delete("mine");
    await pvcs().delete("todelete");
    const released = await waitFor("reserved Released", async () => {
      const v = await pvs().get("reserved");
      return v.status?.phase === "Released" && v;
    });
    expect(released.spec?.claimRef?.name).toBe("mine");
    const failed = await waitFor("del-1g Failed", async () => {
      const v = await pvs().get("del-1g");
      return v.status?.phase === "Failed" && v;
    });
    expect(failed.status?.message).toBe('error getting deleter volume plugin for volume "del-1g": no deletable volume plugin matched');
    // A released volume is not bound again.
    await pvcs().create(claim("again", { storageClassName: "manual" }, "900Mi"));
    await Bun.sleep(1500);
    expect((await pvcs().get("again")).spec?.volumeName ?? "").not.toBe("reserved");
  });

  test("a claim in use by a pod is kept until the pod is gone; a bound volume until its claim is", async () => {
    await pvs().create(volume("prot", "1Gi", {}, { tier: "prot" }));
    await pvcs().create(claim("inuse", { storageClassName: "manual", selector: { matchLabels: { tier: "prot" } } }));
    await waitFor("inuse Bound", async () => (await phase("inuse")) === "Bound");
    await pods().create(podWithClaim("user", "inuse"));
    await pvcs().delete("inuse");
    await pvs().delete("prot");
    await Bun.sleep(1500);
    const c = await pvcs().get("inuse");
    expect(c.metadata?.deletionTimestamp).toBeDefined();
    expect(c.metadata?.finalizers).toContain("kubernetes.io/pvc-protection");
    const get = await env.cluster.kubectl(["get", "pvc", "inuse", "--no-headers"]);
    expect(get.stdout).toMatch(/^inuse\s+Terminating\s+prot/);
    expect((await pvs().get("prot")).metadata?.finalizers).toContain("kubernetes.io/pv-protection");
    await pods().delete("user", { gracePeriodSeconds: 0 });
    await waitFor("claim gone", async () => !(await pvcs().list()).items.some((x) => x.metadata?.name === "inuse"));
    await waitFor("volume gone", async () => !(await pvs().list()).items.some((x) => x.metadata?.name === "prot"));
  });

  test("a claim naming a volume waits for it and binds to it; a bound claim whose volume is gone is Lost", async () => {
    const c = await pvcs().create(claim("named", { storageClassName: "manual", volumeName: "later" }));
    expect(c.spec?.volumeName).toBe("later");
    await Bun.sleep(1000);
    expect(await phase("named")).toBe("Pending");
    await pvs().create(volume("later", "1Gi"));
    await waitFor("named Bound", async () => (await phase("named")) === "Bound");
    expect((await pvs().get("later")).spec?.claimRef?.uid).toBe(c.metadata!.uid!);
    // The volume disappears under a bound claim (finalizers forced off).
    await pvs().delete("later");
    const v = await pvs().get("later");
    await pvs().update({ ...v, metadata: { ...v.metadata, finalizers: [] } });
    await waitFor("named Lost", async () => (await phase("named")) === "Lost");
    const d = await env.cluster.kubectl(["describe", "pvc", "named"]);
    expect(d.stdout).toContain("ClaimLost");
    expect(d.stdout).toContain("Bound claim has lost reference to PersistentVolume. Data on the volume is lost!");
  });
});

describe("WaitForFirstConsumer with the scheduler", () => {
  test("the claim is provisioned on the node the scheduler picked, and later pods of the claim follow it", async () => {
    await pvcs().create(claim("wffc"));
    await pods().create(podWithClaim("first", "wffc"));
    const p = await waitFor("first scheduled", async () => (await pods().get("first")).spec?.nodeName);
    const c = await waitFor("wffc Bound", async () => {
      const x = await pvcs().get("wffc");
      return x.status?.phase === "Bound" && x;
    });
    expect(c.metadata?.annotations?.["volume.kubernetes.io/selected-node"]).toBe(p);
    const pv = await pvs().get(c.spec!.volumeName!);
    expect(pv.metadata?.name).toBe(`pvc-${c.metadata!.uid}`);
    expect(pv.spec?.hostPath?.path).toBe(`${env.cluster.dataDir}/storage/pvc-${c.metadata!.uid}_default_wffc`);
    expect(pv.spec?.hostPath?.type).toBe("DirectoryOrCreate");
    expect(pv.spec?.persistentVolumeReclaimPolicy).toBe("Delete");
    expect(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]).toEqual({ key: "kubernetes.io/hostname", operator: "In", values: [p] });
    const d = await env.cluster.kubectl(["describe", "pvc", "wffc"]);
    expect(d.stdout).toContain("ProvisioningSucceeded");
    for (let i = 0; i < 4; i++) await pods().create(podWithClaim(`next-${i}`, "wffc"));
    for (let i = 0; i < 4; i++) expect(await waitFor(`next-${i} scheduled`, async () => (await pods().get(`next-${i}`)).spec?.nodeName)).toBe(p);
  });

  test("a pod whose bound volume is on no schedulable node is unschedulable with upstream's reason", async () => {
    await pvs().create(
      volume("elsewhere", "1Gi", { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["no-such-node"] }] }] } } }, { tier: "elsewhere" }),
    );
    await pvcs().create(claim("far", { storageClassName: "manual", selector: { matchLabels: { tier: "elsewhere" } } }));
    await waitFor("far Bound", async () => (await phase("far")) === "Bound");
    await pods().create(podWithClaim("stuck", "far"));
    const cond = await waitFor("PodScheduled False", async () => (await pods().get("stuck")).status?.conditions?.find((x) => x.type === "PodScheduled" && x.status === "False"));
    expect(cond.message).toBe("0/3 nodes are available: 3 node(s) had volume node affinity conflict. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
  });
});

describe("what a node may do with volumes", () => {
  const asNode = (node: string, args: string[]) => env.cluster.kubectl([...args, `--as=system:node:${node}`, "--as-group=system:nodes", "--as-group=system:authenticated"]);

  test("a node lists volumes, and updates only local-path volumes on itself", async () => {
    expect((await asNode("n-1", ["get", "pv"])).code).toBe(0);
    const other = await asNode("n-1", ["annotate", "pv", "fast-2g", "x=y"]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain("forbidden");
    await pvs().create({ ...volume("on-n1", "1Gi"), metadata: { name: "on-n1", annotations: { "local.path.provisioner/selected-node": "n-1" } } });
    expect((await asNode("n-2", ["annotate", "pv", "on-n1", "x=y"])).code).not.toBe(0);
    const mine = await asNode("n-1", ["annotate", "pv", "on-n1", "x=y"]);
    expect(mine.stderr).toBe("");
    expect(mine.code).toBe(0);
    expect((await asNode("n-1", ["delete", "pv", "on-n1"])).code).not.toBe(0);
  });
});

describe("NodeVolumeLimits", () => {
  test("a node's CSINode count of a driver's volumes is not exceeded", async () => {
    const nodeNames = (await env.client.resource(refs.nodes).list()).items.map((n: any) => n.metadata.name as string).sort();
    const target = nodeNames[0]!;
    for (const n of nodeNames) {
      await env.client.resource(refs.csinodes).create({ apiVersion: "storage.k8s.io/v1", kind: "CSINode", metadata: { name: n }, spec: { drivers: [{ name: "csi.example.com", nodeID: n, allocatable: { count: 1 } }] } });
    }
    for (const h of ["h1", "h2"]) {
      await pvs().create({ ...volume(`csi-${h}`, "1Gi", { storageClassName: "manual", hostPath: undefined, csi: { driver: "csi.example.com", volumeHandle: h } }, { tier: `csi-${h}` }) });
      await pvcs().create(claim(`csi-${h}`, { storageClassName: "manual", selector: { matchLabels: { tier: `csi-${h}` } } }));
      await waitFor(`csi-${h} Bound`, async () => (await phase(`csi-${h}`)) === "Bound");
    }
    const pinned = (name: string, claimName: string): Pod => {
      const p = podWithClaim(name, claimName);
      p.spec!.nodeSelector = { "kubernetes.io/hostname": target };
      return p;
    };
    await pods().create(pinned("csi-a", "csi-h1"));
    expect(await waitFor("csi-a scheduled", async () => (await pods().get("csi-a")).spec?.nodeName)).toBe(target);
    // The same volume again fits (it is attached already); a second one does not.
    await pods().create(pinned("csi-a2", "csi-h1"));
    expect(await waitFor("csi-a2 scheduled", async () => (await pods().get("csi-a2")).spec?.nodeName)).toBe(target);
    await pods().create(pinned("csi-b", "csi-h2"));
    const cond = await waitFor("csi-b unschedulable", async () => (await pods().get("csi-b")).status?.conditions?.find((x) => x.type === "PodScheduled" && x.status === "False"));
    expect(cond.message).toContain("1 node(s) exceed max volume count");
    // Room is made: the pods using the first volume go, and the second one fits.
    await pods().delete("csi-a", { gracePeriodSeconds: 0 });
    await pods().delete("csi-a2", { gracePeriodSeconds: 0 });
    expect(await waitFor("csi-b scheduled", async () => (await pods().get("csi-b")).spec?.nodeName, 30_000)).toBe(target);
  });
});

describe("StatefulSet claims", () => {
  test("whenDeleted: Delete gives the claims to the set, and they go with it", async () => {
    const sets = env.client.resource(refs.statefulsets, "default");
    await sets.create({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: "default" },
      spec: {
        replicas: 2,
        podManagementPolicy: "Parallel",
        serviceName: "db",
        selector: { matchLabels: { app: "db" } },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Retain" },
        template: { metadata: { labels: { app: "db" } }, spec: { automountServiceAccountToken: false, containers: [{ name: "c", image: "busybox" }] } },
        volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
      },
    });
    const set: any = await sets.get("db");
    for (const n of ["data-db-0", "data-db-1"]) {
      const c = await waitFor(`${n} Bound`, async () => {
        const x = await pvcs().get(n);
        return x.status?.phase === "Bound" && x;
      });
      expect(c.spec?.storageClassName).toBe("local-path");
      expect(c.metadata?.labels).toEqual({ app: "db" });
      expect(c.metadata?.ownerReferences).toEqual([{ apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: set.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    }
    await sets.delete("db");
    for (const n of ["data-db-0", "data-db-1"]) await waitFor(`${n} deleted`, async () => !(await pvcs().list()).items.some((x) => x.metadata?.name === n && !x.metadata?.deletionTimestamp), 30_000);
  });
});

describe("local-path cleanup", () => {
  test("a deleted local-path volume whose node no longer exists is let go (its finalizer dropped)", async () => {
    await pvs().create({
      ...volume("orphan", "1Gi", { storageClassName: "local-path" }),
      metadata: { name: "orphan", annotations: { "local.path.provisioner/selected-node": "gone-node", "pv.kubernetes.io/provisioned-by": "rancher.io/local-path" }, finalizers: ["kubun.io/local-path-cleanup"] },
    });
    await pvs().delete("orphan");
    await waitFor("orphan gone", async () => !(await pvs().list()).items.some((x) => x.metadata?.name === "orphan"));
  });

  test("one on an existing node waits for that node's agent", async () => {
    const node = (await env.client.resource(refs.nodes).list()).items[0]!.metadata!.name!;
    await pvs().create({
      ...volume("waiting", "1Gi", { storageClassName: "local-path" }),
      metadata: { name: "waiting", annotations: { "local.path.provisioner/selected-node": node, "pv.kubernetes.io/provisioned-by": "rancher.io/local-path" }, finalizers: ["kubun.io/local-path-cleanup"] },
    });
    await pvs().delete("waiting");
    await Bun.sleep(1500);
    expect((await pvs().get("waiting")).metadata?.finalizers).toEqual(["kubun.io/local-path-cleanup"]);
  });
});
