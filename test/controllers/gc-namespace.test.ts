// Garbage collection by propagation policy, namespace deletion, ServiceAccount/root CA publishing,
// the kubernetes Service and node IPAM — controllers that need no scheduled pods.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deployment, ReplicaSet } from "kubernetes-types/apps/v1";
import type { ConfigMap, Endpoints, Namespace, Node, Pod, Service, ServiceAccount } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import { refs } from "../../internal/client/refs.ts";
import { ApiError } from "../../internal/client/types.ts";
import { publishEndpoints } from "../../internal/controllers/kubernetesservice/publisher.ts";
import { deployment, startEnv, waitFor, type Env } from "./env.ts";

let env: Env;
beforeAll(async () => {
  env = await startEnv({ scheduler: false, manager: { podGCQuarantineMs: 300 } });
});
afterAll(async () => {
  await env?.stop();
});

const gone = async (fn: () => Promise<unknown>) => {
  try {
    await fn();
    return false;
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) return true;
    throw e;
  }
};

async function deployWithPods(ns: string, name: string) {
  const d = await env.client.resource<Deployment>(refs.deployments, ns).create({ ...deployment(name, 2), metadata: { name, namespace: ns } });
  const rs = await waitFor("rs", async () => (await env.client.resource<ReplicaSet>(refs.replicasets, ns).list({ labelSelector: `app=${name}` })).items[0]);
  await waitFor("2 pods", async () => (await env.client.resource<Pod>(refs.pods, ns).list({ labelSelector: `app=${name}` })).items.length === 2);
  return { d, rs };
}

describe("garbage collector", () => {
  test("Orphan: ReplicaSet and pods stay, the ReplicaSet loses its ownerReference", async () => {
    const { rs } = await deployWithPods("default", "orphaned");
    await env.client.resource<Deployment>(refs.deployments, "default").delete("orphaned", { propagationPolicy: "Orphan" });
    await waitFor("deployment gone", () => gone(() => env.client.resource(refs.deployments, "default").get("orphaned")));
    const after = await waitFor("rs released", async () => {
      const r = await env.client.resource<ReplicaSet>(refs.replicasets, "default").get(rs.metadata!.name!);
      return !r.metadata?.ownerReferences?.length ? r : undefined;
    });
    expect(after.metadata!.uid).toBe(rs.metadata!.uid!);
    await Bun.sleep(500);
    const pods = (await env.client.resource<Pod>(refs.pods, "default").list({ labelSelector: "app=orphaned" })).items;
    expect(pods.filter((p) => !p.metadata?.deletionTimestamp).length).toBe(2);
    // Pods are still controlled by the (surviving) ReplicaSet, as upstream.
    for (const p of pods) expect(p.metadata!.ownerReferences![0]!.uid).toBe(rs.metadata!.uid!);
  }, 30_000);

  for (const policy of ["Background", "Foreground"] as const) {
    test(`${policy}: Deployment, ReplicaSet and pods are all gone`, async () => {
      const name = `del-${policy.toLowerCase()}`;
      const { rs } = await deployWithPods("default", name);
      await env.client.resource<Deployment>(refs.deployments, "default").delete(name, { propagationPolicy: policy });
      if (policy === "Foreground") {
        // The owner stays (with the finalizer) until its dependents are gone.
        const d = await env.client.resource<Deployment>(refs.deployments, "default").get(name).catch(() => undefined);
        if (d) expect(d.metadata?.finalizers).toContain("foregroundDeletion");
      }
      await waitFor("deployment gone", () => gone(() => env.client.resource(refs.deployments, "default").get(name)), 20_000);
      await waitFor("rs gone", () => gone(() => env.client.resource(refs.replicasets, "default").get(rs.metadata!.name!)), 20_000);
      await waitFor("pods gone", async () => (await env.client.resource<Pod>(refs.pods, "default").list({ labelSelector: `app=${name}` })).items.length === 0, 20_000);
    }, 40_000);
  }
});

describe("garbage collector over any resource", () => {
  test("a Secret owned by a ConfigMap goes with it; a dependent with a live second owner only loses the reference", async () => {
    const cms = env.client.resource<ConfigMap>(refs.configmaps, "default");
    const secrets = env.client.resource<any>(refs.secrets, "default");
    const owner = await cms.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "owner", namespace: "default" } });
    const keeper = await cms.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "keeper", namespace: "default" } });
    const ref = (o: ConfigMap) => ({ apiVersion: "v1", kind: "ConfigMap", name: o.metadata!.name!, uid: o.metadata!.uid! });
    await secrets.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "dep", namespace: "default", ownerReferences: [ref(owner)] } });
    await secrets.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "shared", namespace: "default", ownerReferences: [ref(owner), ref(keeper)] } });
    // A dependent whose owner never existed is collected too.
    await secrets.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "dangling", namespace: "default", ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "ghost", uid: "00000000-0000-0000-0000-000000000000" }] },
    });
    await cms.delete("owner");
    await waitFor("dep gone", () => gone(() => secrets.get("dep")), 20_000);
    await waitFor("dangling gone", () => gone(() => secrets.get("dangling")), 20_000);
    const shared = await waitFor("shared released", async () => {
      const s = await secrets.get("shared");
      return s.metadata.ownerReferences?.length === 1 ? s : undefined;
    }, 20_000);
    expect(shared.metadata.ownerReferences[0].uid).toBe(keeper.metadata!.uid!);
  }, 40_000);
});

describe("pod gc", () => {
  test("pods bound to a node that does not exist are removed", async () => {
    const pods = env.client.resource<Pod>(refs.pods, "default");
    await pods.create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "on-ghost", namespace: "default" },
      spec: { nodeName: "ghost-node", automountServiceAccountToken: false, containers: [{ name: "c", image: "pause" }] },
    });
    await waitFor("collected", () => gone(() => pods.get("on-ghost")), 20_000);
  }, 30_000);
});

describe("resource quota", () => {
  test("status.used follows pods, requests and object counts", async () => {
    const ns = "quota-ns";
    await env.client.resource<Namespace>(refs.namespaces).create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    await waitFor("default sa", () => env.client.resource<ServiceAccount>(refs.serviceaccounts, ns).get("default"));
    await waitFor("root ca", () => env.client.resource<ConfigMap>(refs.configmaps, ns).get("kube-root-ca.crt"));
    const quotas = env.client.resource<any>({ group: "", version: "v1", resource: "resourcequotas", namespaced: true }, ns);
    await quotas.create({
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "q", namespace: ns },
      spec: { hard: { pods: "5", "requests.cpu": "1", "requests.memory": "1Gi", "limits.memory": "2Gi", configmaps: "10", "count/deployments.apps": "2" } },
    });
    for (const n of ["a", "b"]) {
      await env.client.resource<Pod>(refs.pods, ns).create({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: n, namespace: ns },
        spec: {
          automountServiceAccountToken: false,
          containers: [{ name: "c", image: "pause", resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "128Mi" } } }],
        },
      });
    }
    const q = await waitFor("used", async () => {
      const x = await quotas.get("q");
      return x.status?.used?.pods === "2" ? x : undefined;
    }, 20_000);
    expect(q.status.hard).toEqual(q.spec.hard);
    expect(q.status.used).toEqual({
      pods: "2",
      "requests.cpu": "200m",
      "requests.memory": "128Mi",
      "limits.memory": "256Mi",
      configmaps: "1",
      "count/deployments.apps": "0",
    });
    await env.client.resource<Pod>(refs.pods, ns).delete("a", { gracePeriodSeconds: 0 });
    await waitFor("one pod", async () => (await quotas.get("q")).status?.used?.pods === "1", 20_000);
  }, 40_000);
});

describe("namespace", () => {
  test("deleting a namespace removes all its content, then the namespace", async () => {
    const ns = "doomed";
    await env.client.resource<Namespace>(refs.namespaces).create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    // The ServiceAccount controller fills it in.
    await waitFor("default sa", () => env.client.resource<ServiceAccount>(refs.serviceaccounts, ns).get("default"));
    const cm = await waitFor("root ca", () => env.client.resource<ConfigMap>(refs.configmaps, ns).get("kube-root-ca.crt"));
    expect(cm.data?.["ca.crt"]).toBe(env.cluster.caPEM);
    await deployWithPods(ns, "app");
    await env.client.resource<ConfigMap>(refs.configmaps, ns).create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: ns }, data: { a: "b" } });
    const del = await env.cluster.kubectl(["delete", "namespace", ns, "--wait=false"]);
    expect(del.code).toBe(0);
    await waitFor("namespace gone", () => gone(() => env.client.resource(refs.namespaces).get(ns)), 30_000);
    for (const r of [refs.pods, refs.replicasets, refs.deployments, refs.configmaps, refs.serviceaccounts]) {
      expect((await env.client.resource<any>(r, ns).list()).items.length).toBe(0);
    }
  }, 60_000);

  test("content with finalizers holds the namespace, reported in its conditions", async () => {
    const ns = "held";
    await env.client.resource<Namespace>(refs.namespaces).create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    const cms = env.client.resource<ConfigMap>(refs.configmaps, ns);
    await cms.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "held", namespace: ns, finalizers: ["example.com/hold"] } });
    await env.client.resource(refs.namespaces).delete(ns);
    const n = await waitFor("conditions", async () => {
      const x = await env.client.resource<Namespace>(refs.namespaces).get(ns);
      return x.status?.conditions?.find((c) => c.type === "NamespaceFinalizersRemaining" && c.status === "True") ? x : undefined;
    }, 20_000);
    expect(n.status?.phase).toBe("Terminating");
    const byType = Object.fromEntries((n.status?.conditions ?? []).map((c) => [c.type, c]));
    expect(byType.NamespaceFinalizersRemaining).toMatchObject({
      reason: "SomeFinalizersRemain",
      message: "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances",
    });
    expect(byType.NamespaceContentRemaining).toMatchObject({ status: "True", reason: "SomeResourcesRemain", message: "Some resources are remaining: configmaps has 1 resource instances" });
    expect(byType.NamespaceDeletionContentFailure).toMatchObject({ status: "False", reason: "ContentDeleted" });
    expect(byType.NamespaceDeletionDiscoveryFailure).toMatchObject({ status: "False", reason: "ResourcesDiscovered" });
    // Release the finalizer: the namespace goes.
    await cms.patch("held", "merge", { metadata: { finalizers: null } });
    await waitFor("namespace gone", () => gone(() => env.client.resource(refs.namespaces).get(ns)), 20_000);
  }, 40_000);

  test("the default ServiceAccount and root CA come back when deleted", async () => {
    await env.client.resource(refs.serviceaccounts, "default").delete("default");
    await waitFor("default sa back", () => env.client.resource(refs.serviceaccounts, "default").get("default"));
    await env.client.resource(refs.configmaps, "default").delete("kube-root-ca.crt");
    await waitFor("root ca back", () => env.client.resource(refs.configmaps, "default").get("kube-root-ca.crt"));
  }, 30_000);
});

describe("kubernetes service and node IPAM", () => {
  test("the kubernetes Service has .1 and endpoints to the API server", async () => {
    const svc = await waitFor("kubernetes svc", () => env.client.resource<Service>(refs.services, "default").get("kubernetes"));
    expect(svc.spec?.clusterIP).toBe("10.43.0.1");
    expect(svc.spec?.ports?.[0]).toMatchObject({ name: "https", port: 443, protocol: "TCP" });
    const port = Number(new URL(env.cluster.localURL).port);
    const ep = await waitFor("kubernetes ep", () => env.client.resource<Endpoints>(refs.endpoints, "default").get("kubernetes"));
    expect(ep.subsets).toEqual([{ addresses: [{ ip: "127.0.0.1" }], ports: [{ name: "https", port, protocol: "TCP" }] }]);
    const slice = await waitFor("kubernetes slice", () => env.client.resource<EndpointSlice>(refs.endpointslices, "default").get("kubernetes"));
    expect(slice.endpoints?.[0]?.addresses).toEqual(["127.0.0.1"]);
    const k = await env.cluster.kubectl(["get", "svc", "kubernetes", "-o", "jsonpath={.spec.clusterIP}"]);
    expect(k.stdout).toBe("10.43.0.1");
  }, 30_000);

  test("every live API server appears in the kubernetes Endpoints; expired or stopped ones do not", async () => {
    const port = Number(new URL(env.cluster.localURL).port);
    const ac = new AbortController();
    const other = publishEndpoints(env.client, [{ ip: "127.0.0.2", port: 7443 }], "server-b", ac.signal);
    const eps = env.client.resource<Endpoints>(refs.endpoints, "default");
    const both = await waitFor("two servers", async () => {
      const e = await eps.get("kubernetes");
      return e.subsets?.length === 2 ? e : undefined;
    }, 20_000);
    expect(both.subsets).toEqual([
      { addresses: [{ ip: "127.0.0.2" }], ports: [{ name: "https", port: 7443, protocol: "TCP" }] },
      { addresses: [{ ip: "127.0.0.1" }], ports: [{ name: "https", port, protocol: "TCP" }] },
    ].sort((a, b) => a.ports[0]!.port - b.ports[0]!.port));
    // A Lease that stopped being renewed long ago is ignored.
    const old = new Date(Date.now() - 3600_000).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
    await env.client.resource<any>(refs.leases, "kube-system").create({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "apiserver-dead", namespace: "kube-system", labels: { "kubun.io/apiserver-endpoint": "true" }, annotations: { "kubun.io/endpoint": "127.0.0.3:8443" } },
      spec: { holderIdentity: "dead", leaseDurationSeconds: 45, renewTime: old },
    });
    // Clean shutdown of the other server removes it.
    ac.abort();
    await other;
    const back = await waitFor("one server", async () => {
      const e = await eps.get("kubernetes");
      return e.subsets?.length === 1 ? e : undefined;
    }, 20_000);
    expect(back.subsets).toEqual([{ addresses: [{ ip: "127.0.0.1" }], ports: [{ name: "https", port, protocol: "TCP" }] }]);
  }, 40_000);

  test("Endpoints of a selector-less Service are mirrored into an EndpointSlice", async () => {
    await env.client.resource<Service>(refs.services, "default").create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "external-db", namespace: "default" },
      spec: { ports: [{ name: "pg", port: 5432 }] },
    });
    await env.client.resource<Endpoints>(refs.endpoints, "default").create({
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "external-db", namespace: "default" },
      subsets: [{ addresses: [{ ip: "192.0.2.10" }], notReadyAddresses: [{ ip: "192.0.2.11" }], ports: [{ name: "pg", port: 5432 }] }],
    });
    const slice = await waitFor("mirrored slice", async () => {
      const l = (await env.client.resource<EndpointSlice>(refs.endpointslices, "default").list({ labelSelector: "kubernetes.io/service-name=external-db" })).items;
      return l[0];
    });
    expect(slice.metadata?.labels?.["endpointslice.kubernetes.io/managed-by"]).toBe("endpointslicemirroring-controller.k8s.io");
    expect(slice.endpoints).toEqual([
      { addresses: ["192.0.2.10"], conditions: { ready: true } },
      { addresses: ["192.0.2.11"], conditions: { ready: false } },
    ]);
    expect(slice.ports).toEqual([{ name: "pg", port: 5432, protocol: "TCP" }]);
    expect(slice.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "Endpoints", name: "external-db" });
  }, 30_000);

  test("nodes get distinct, stable /24 pod CIDRs; a deleted node's range is reused", async () => {
    const nodes = env.client.resource<Node>(refs.nodes);
    const mk = (name: string): Node => ({ apiVersion: "v1", kind: "Node", metadata: { name } });
    for (const n of ["ipam-a", "ipam-b", "ipam-c"]) await nodes.create(mk(n));
    const cidrs = await waitFor("cidrs", async () => {
      const got = await Promise.all(["ipam-a", "ipam-b", "ipam-c"].map(async (n) => (await nodes.get(n)).spec?.podCIDR));
      return got.every(Boolean) ? (got as string[]) : undefined;
    });
    expect(new Set(cidrs).size).toBe(3);
    for (const c of cidrs) expect(c).toMatch(/^10\.42\.\d+\.0\/24$/);
    expect((await nodes.get("ipam-a")).spec?.podCIDRs).toEqual([cidrs[0]!]);
    await nodes.delete("ipam-b");
    await waitFor("b gone", () => gone(() => nodes.get("ipam-b")));
    await nodes.create(mk("ipam-d"));
    const d = await waitFor("d cidr", async () => (await nodes.get("ipam-d")).spec?.podCIDR);
    expect(d).toBe(cidrs[1]!);
    expect((await nodes.get("ipam-a")).spec?.podCIDR).toBe(cidrs[0]!);
  }, 30_000);
});
