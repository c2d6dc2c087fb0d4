// Hollow nodes in a child process (spawnHollowNodes, used by bench:scheduler): the nodes register, a pod bound to
// one is reported Running by the child, and stop() ends the child cleanly; a child that cannot start rejects `ready`.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import type { Node, Pod } from "kubernetes-types/core/v1";
import { createClient, refs, type Client } from "../../internal/client/index.ts";
import { spawnHollowNodes } from "../../internal/hollow/subprocess.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { ensureServiceAccount, podSpec, waitFor } from "./helpers.ts";

setDefaultTimeout(60_000);
let cluster: TestCluster;
let client: Client;

beforeAll(async () => {
  cluster = await startTestCluster();
  client = createClient(cluster.clientConfig);
  await ensureServiceAccount(client);
});
afterAll(async () => {
  await cluster.stop();
});

test("nodes run in a child process: registered, pods reported Running, stopped cleanly", async () => {
  const h = spawnHollowNodes(cluster.clientConfig, { count: 2, prefix: "sp", cpu: "2", pods: 20 }, "error");
  await h.ready;
  const nodes = await client.resource<Node>(refs.nodes).list();
  const ours = nodes.items.filter((n) => n.metadata?.name?.startsWith("sp-"));
  expect(ours.map((n) => n.metadata?.name).sort()).toEqual(["sp-0", "sp-1"]);
  expect(ours[0]!.status?.allocatable).toMatchObject({ cpu: "2", pods: "20" });

  const pods = client.resource<Pod>(refs.pods, "default");
  await pods.create(podSpec("sp-pod"));
  await pods.createSubresource("sp-pod", "binding", { apiVersion: "v1", kind: "Binding", metadata: { name: "sp-pod" }, target: { kind: "Node", name: "sp-1" } });
  const running = await waitFor("pod Running", async () => {
    const p = await pods.get("sp-pod");
    return p.status?.phase === "Running" ? p : undefined;
  });
  expect(running.status?.podIP).toBeTruthy();
  expect(running.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");

  expect(await h.stop()).toBe(0);
  // Stopped: a newly bound pod stays Pending.
  await pods.create(podSpec("sp-after"));
  await pods.createSubresource("sp-after", "binding", { apiVersion: "v1", kind: "Binding", metadata: { name: "sp-after" }, target: { kind: "Node", name: "sp-0" } });
  await Bun.sleep(500);
  expect((await pods.get("sp-after")).status?.phase).toBe("Pending");
});

test("a child whose nodes never become ready rejects ready", async () => {
  const h = spawnHollowNodes({ server: "https://127.0.0.1:1", token: "x" }, { count: 1, prefix: "never" }, "error");
  const stopping = Bun.sleep(300).then(() => h.stop());
  await expect(h.ready).rejects.toThrow(/exited .* before its nodes were ready/);
  await stopping;
});
