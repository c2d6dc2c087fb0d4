// Compatibility with the real client library: @kubernetes/client-node's informer (list+watch, relist on 410)
// and its error surface for conflicts.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import * as k8s from "@kubernetes/client-node";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

setDefaultTimeout(60_000);
let c: TestCluster;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
const namespace = "informer";

// Restored in afterAll: bun runs every test file in one process, and other files check that TLS is verified.
const savedRejectUnauthorized = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
beforeAll(async () => {
  // client-node hands the kubeconfig CA to an https.Agent, which Bun's fetch does not consult; the
  // library is under test here, not TLS (the kubectl tests verify the CA), so skip verification.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  c = await startTestCluster();
  kc = new k8s.KubeConfig();
  kc.loadFromFile(c.kubeconfigPath);
  core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});
afterAll(async () => {
  if (savedRejectUnauthorized === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  else process.env.NODE_TLS_REJECT_UNAUTHORIZED = savedRejectUnauthorized;
  await c?.stop();
});

async function eventually(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

const names = (inf: k8s.ObjectCache<k8s.V1ConfigMap>) => inf.list(namespace).map((o) => o.metadata!.name!).sort();

test("informer lists, watches, and relists after its resourceVersion is compacted away", async () => {
  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "a" }, data: { v: "1" } } });
  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "b" }, data: { v: "1" } } });
  const informer = k8s.makeInformer<k8s.V1ConfigMap>(kc, `/api/v1/namespaces/${namespace}/configmaps`, () =>
    core.listNamespacedConfigMap({ namespace }),
  );
  const deleted: string[] = [];
  informer.on("delete", (o) => deleted.push(o.metadata!.name!));
  const errors: unknown[] = [];
  // stop() aborts the informer's own request, which it reports as an AbortError; anything else is a failure.
  informer.on("error", (e: any) => {
    if (e?.name !== "AbortError") errors.push(e);
  });
  await informer.start();
  await eventually(() => names(informer).join() === "a,b", "initial list");

  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "c" } } });
  await eventually(() => names(informer).join() === "a,b,c", "watch ADDED");

  // Disconnect, change things, compact the history the informer would resume from, reconnect.
  await informer.stop();
  await core.deleteNamespacedConfigMap({ name: "a", namespace });
  await core.patchNamespacedConfigMap(
    { name: "b", namespace, body: { data: { v: "2" } } },
    k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
  );
  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "d" } } });
  await c.store.compact(await c.store.currentRevision());
  await informer.start();

  await eventually(() => names(informer).join() === "b,c,d", "relist after 410");
  expect(informer.get("b", namespace)?.data).toEqual({ v: "2" });
  expect(deleted).toContain("a");
  expect(errors).toEqual([]);

  // And it keeps watching after the relist.
  await core.deleteNamespacedConfigMap({ name: "c", namespace });
  await eventually(() => names(informer).join() === "b,d", "watch DELETED after relist");
  await informer.stop();
});

test("conflicts surface as 409 with reason Conflict; retry on the fresh object succeeds", async () => {
  const created = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "cas" }, data: { n: "0" } } });
  const fresh = await core.readNamespacedConfigMap({ name: "cas", namespace });
  await core.replaceNamespacedConfigMap({ name: "cas", namespace, body: { ...fresh, data: { n: "1" } } });
  let err: any;
  try {
    await core.replaceNamespacedConfigMap({ name: "cas", namespace, body: { ...created, data: { n: "stale" } } });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(k8s.ApiException);
  expect(err.code).toBe(409);
  const status = typeof err.body === "string" ? JSON.parse(err.body) : err.body;
  expect(status.reason).toBe("Conflict");
  expect(status.details).toEqual({ name: "cas", kind: "configmaps" });
  const latest = await core.readNamespacedConfigMap({ name: "cas", namespace });
  const done = await core.replaceNamespacedConfigMap({ name: "cas", namespace, body: { ...latest, data: { n: "2" } } });
  expect(done.data).toEqual({ n: "2" });
});

test("typed create/get/list/delete and AlreadyExists", async () => {
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const dep = await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: "web" },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } },
      },
    },
  });
  expect(dep.metadata?.generation).toBe(1);
  expect(dep.spec?.strategy?.type).toBe("RollingUpdate");
  let err: any;
  try {
    await apps.createNamespacedDeployment({ namespace, body: dep });
  } catch (e) {
    err = e;
  }
  expect(err.code).toBe(409);
  const list = await apps.listNamespacedDeployment({ namespace, labelSelector: "nothing=here" });
  expect(list.items).toEqual([]);
  const scale = await apps.readNamespacedDeploymentScale({ name: "web", namespace });
  expect(scale.spec?.replicas).toBe(1);
  await apps.deleteNamespacedDeployment({ name: "web", namespace });
});
