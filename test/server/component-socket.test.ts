// In-process components (scheduler, controller manager) reach the API server over its private unix socket, not
// through the TLS listener: their clients keep working with no TCP path to the server at all, authenticate as
// themselves (RBAC applies as before), and watch.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { createClient } from "../../internal/client/client.ts";
import { refs } from "../../internal/client/refs.ts";
import { ApiError } from "../../internal/client/types.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

test("the components' config names the private socket, which only its owner may open", () => {
  for (const name of ["scheduler", "controller-manager"] as const) {
    const cfg = cluster.componentConfig(name);
    expect(cfg.unixSocket).toBeString();
    expect(statSync(cfg.unixSocket!).mode & 0o777).toBe(0o600);
  }
});

test("a component's client works over the socket alone, as itself", async () => {
  // A server URL nothing listens on: every call must go through the socket.
  const cfg = { ...cluster.componentConfig("scheduler"), server: "https://127.0.0.1:1" };
  const client = createClient(cfg);
  const nodes = await client.resource(refs.nodes).list();
  expect(nodes.items).toBeArray();
  // RBAC still sees system:kube-scheduler: it may not create namespaces.
  const err = await client
    .resource(refs.namespaces)
    .create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "sched-made" } })
    .catch((e) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).code).toBe(403);
  expect((err as ApiError).message).toContain("system:kube-scheduler");
});

test("a watch over the socket delivers events", async () => {
  const cm = createClient({ ...cluster.componentConfig("controller-manager"), server: "https://127.0.0.1:1" });
  const ac = new AbortController();
  const seen: string[] = [];
  const done = (async () => {
    for await (const ev of cm.resource(refs.configmaps, "default").watch({ signal: ac.signal })) {
      seen.push(`${ev.type} ${(ev.object as any)?.metadata?.name}`);
      if (seen.includes("ADDED sock-cm")) break;
    }
  })();
  await Bun.sleep(200);
  await createClient(cluster.clientConfig).resource(refs.configmaps, "default").create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "sock-cm" } });
  await Promise.race([done, Bun.sleep(10_000)]);
  ac.abort();
  expect(seen).toContain("ADDED sock-cm");
});
