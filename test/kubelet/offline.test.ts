// Nodes keep pods running when the server is unreachable — also across an agent restart (local checkpoint and
// cached credentials) — and report back once the server returns.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { refs } from "../../internal/client/refs.ts";
import { startTestCluster } from "../helpers/cluster.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { busyboxPod, startEnv, waitFor, waitPod, type Env } from "./setup.ts";

let env: Env;
beforeAll(async () => {
  env = await startEnv(["node-o"], { clusterDataDir: tempDir("kubun-offline-cp-") });
}, 120_000);
afterAll(async () => {
  await env?.cleanup();
}, 60_000);

test("server down + agent kill -9 and restart: pods keep running, crashing containers still restart, status catches up", async () => {
  const pods = env.client.resource(refs.pods, "default");
  await pods.create(busyboxPod("steady", "node-o", "exec sleep 3600"));
  await pods.create(busyboxPod("flaky", "node-o", "sleep 1; exit 1", { restartPolicy: "Always" }));
  // Healthy for 3 s after each start, then its liveness probe fails and the kubelet restarts it.
  const sick = await pods.create(
    busyboxPod("sick", "node-o", "touch /tmp/alive; (sleep 3; rm /tmp/alive) & exec sleep 3600", { restartPolicy: "Always" }, {
      livenessProbe: { exec: { command: ["test", "-f", "/tmp/alive"] }, periodSeconds: 1, failureThreshold: 1 },
    }),
  );
  const steady = await waitPod(env, "steady", (p) => p.status?.phase === "Running", "Running");
  await waitPod(env, "flaky", (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, "restarted once");
  const node = env.nodes[0]!;
  const steadyId = steady.status!.containerStatuses![0]!.containerID!.replace("containerd://", "");
  // A Service the node's cluster DNS must still answer for after a restart without the server.
  const web = await env.client.resource(refs.services, "default").create({ apiVersion: "v1", kind: "Service", metadata: { name: "web" }, spec: { ports: [{ port: 80 }] } });
  const stateFile = `${node.dataDir}/agent/dns/cluster-state.json`;
  await waitFor("the node to save the cluster state", async () => (await Bun.file(stateFile).text().catch(() => "")).includes('"web"'), 30_000);

  // The control plane goes away; then the agent dies hard and comes back without it.
  const { dataDir } = env.cluster;
  const port = Number(new URL(env.cluster.localURL).port);
  await env.cluster.stop();
  await node.kill9();
  await node.start();
  const tasks = async () => env.world.ctr(node.namespace, ["tasks", "ls"]);
  // Offline, the restarted agent adopts the running container and keeps restarting the crashing one.
  const restartsSeen = await waitFor("flaky restarted while offline", async () => {
    const ids = (await env.world.ctr(node.namespace, ["containers", "ls", "-q"])).split("\n").filter((l) => l.includes("-main-"));
    const attempts = ids.map((id) => Number(id.split("-").pop()));
    return Math.max(...attempts) >= 2 ? attempts : undefined;
  }, 45_000).catch(async (e) => {
    console.error((await Bun.file(`${node.dataDir}/agent.log`).text()).slice(-6000));
    throw e;
  });
  expect(restartsSeen.length).toBeGreaterThan(0);
  // Liveness probes keep working offline: the sick container is restarted by the restarted agent.
  const sickAttempts = async () =>
    Math.max(-1, ...(await env.world.ctr(node.namespace, ["containers", "ls", "-q"])).split("\n").filter((id) => id.startsWith(sick.metadata!.uid!.slice(0, 13))).map((id) => Number(id.split("-").pop())));
  const atRestart = await sickAttempts();
  await waitFor("the sick container restarted by its liveness probe while offline", async () => (await sickAttempts()) > atRestart, 45_000);
  expect(await tasks()).toMatch(new RegExp(`${steadyId}\\s+\\d+\\s+RUNNING`));
  // Cluster DNS answers from the saved state, in the node's namespace, with no server anywhere.
  const answer = await waitFor("cluster DNS to answer offline", async () => {
    const p = Bun.spawn(["timeout", "5", "nsenter", `--net=/var/run/netns/${node.netns}`, "busybox", "nslookup", "web.default.svc.cluster.local", "10.43.0.10"], { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(p.stdout).text();
    await p.exited;
    return out.includes(`Address: ${web.spec.clusterIP}`) ? out : undefined;
  }, 30_000);
  expect(answer).toContain(web.spec.clusterIP);
  // One clear line says the node is offline (not one per failed call).
  const agentLog = await Bun.file(`${node.dataDir}/agent.log`).text();
  expect(agentLog.split("\n").filter((l) => l.includes("no API server reachable")).length).toBe(1);

  // The server returns on the same address and data: statuses catch up, the steady pod was never restarted.
  const cluster2 = await startTestCluster({ dataDir, port } as any);
  env.cluster = cluster2 as any;
  const { createClient } = await import("../../internal/client/client.ts");
  env.client = createClient({ server: cluster2.localURL, token: cluster2.adminToken, caPEM: cluster2.caPEM });
  const flaky = await waitPod(env, "flaky", (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2, "restart count caught up", 60_000);
  expect(flaky.status!.containerStatuses![0]!.restartCount).toBeGreaterThanOrEqual(2);
  const s = await waitPod(env, "steady", (p) => p.status?.phase === "Running", "Running");
  expect(s.status!.containerStatuses![0]!.containerID).toBe(`containerd://${steadyId}`);
  expect(s.status!.containerStatuses![0]!.restartCount).toBe(0);
}, 180_000);
