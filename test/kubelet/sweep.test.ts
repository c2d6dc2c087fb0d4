// A node cleans up after itself on start: pods deleted while its agent was stopped lose their containers, network
// namespace, IP lease, volumes, logs and cgroup, and leftovers of pods nobody knows (a crash half-way through a teardown)
// go too — while the pods it still runs, and the logs of finished pods the API still has, are left alone.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { refs } from "../../internal/client/refs.ts";
import { run } from "../../internal/runtime/run.ts";
import { busyboxPod, startEnv, waitFor, waitPod, type Env } from "./setup.ts";

let env: Env;
beforeAll(async () => {
  env = await startEnv(["node-s"]);
}, 120_000);
afterAll(async () => {
  await env?.cleanup();
}, 60_000);

const netnsExists = (name: string) => existsSync(`/var/run/netns/${name}`);

test("on start the agent removes what pods that no longer exist left behind, and nothing else", async () => {
  const node = env.nodes[0]!;
  const pods = env.client.resource(refs.pods, "default");
  const withVolume = { volumes: [{ name: "scratch", emptyDir: { medium: "Memory" } }] };
  const mount = { volumeMounts: [{ name: "scratch", mountPath: "/scratch" }] };
  await pods.create(busyboxPod("keeper", "node-s", "exec sleep 3600", withVolume, mount));
  await pods.create(busyboxPod("goner", "node-s", "exec sleep 3600", withVolume, mount));
  await pods.create(busyboxPod("done", "node-s", "echo finished; exit 0", { restartPolicy: "Never" }));
  const keeper = await waitPod(env, "keeper", (p) => p.status?.phase === "Running", "Running");
  const goner = await waitPod(env, "goner", (p) => p.status?.phase === "Running", "Running");
  const done = await waitPod(env, "done", (p) => p.status?.phase === "Succeeded", "Succeeded");
  const [keeperUID, gonerUID, doneUID] = [keeper, goner, done].map((p) => p.metadata!.uid!);
  const netnsOf = (uid: string) => `${node.netns}-${uid}`;
  expect(netnsExists(netnsOf(gonerUID))).toBe(true);

  // The agent stops; meanwhile the pod is force-deleted (no kubelet to confirm), and a leftover of an unknown pod
  // appears: a namespace, a pod directory with a mounted volume, a log directory.
  await node.kill9();
  await pods.delete("goner", { gracePeriodSeconds: 0 });
  const stray = crypto.randomUUID();
  await run(["ip", "netns", "add", netnsOf(stray)]);
  const strayVolume = join(node.dataDir, "agent", "pods", stray, "volumes", "x");
  mkdirSync(strayVolume, { recursive: true });
  await run(["mount", "-t", "tmpfs", "tmpfs", strayVolume]);
  const strayLogs = join(node.logDir, `default_stray_${stray}`, "c");
  mkdirSync(strayLogs, { recursive: true });
  writeFileSync(join(strayLogs, "0.log"), "old\n");
  // …and the cgroups of both: a stray pod's, and the force-deleted pod's (runc removed only its containers').
  const cgroupOf = (uid: string) => `/sys/fs/cgroup/memory/${node.namespace}/pod${uid}`;
  const v1 = existsSync("/sys/fs/cgroup/memory");
  if (v1) mkdirSync(cgroupOf(stray));
  if (v1) expect(existsSync(cgroupOf(gonerUID))).toBe(true);

  await node.start();
  await waitFor(
    "the deleted pod's and the stray's leftovers removed",
    () => !netnsExists(netnsOf(gonerUID)) && !netnsExists(netnsOf(stray)) && !existsSync(join(node.dataDir, "agent", "pods", stray)) && !existsSync(join(node.logDir, `default_stray_${stray}`)),
    45_000,
  );
  if (v1) await waitFor("the stray's and the deleted pod's cgroups removed", () => !existsSync(cgroupOf(stray)) && !existsSync(cgroupOf(gonerUID)), 15_000);
  const mounts = await Bun.file("/proc/mounts").text();
  expect(mounts).not.toContain(stray);
  expect(mounts).not.toContain(gonerUID);
  expect(readdirSync(join(node.dataDir, "agent", "pods"))).not.toContain(gonerUID);
  expect((await env.world.ctr(node.namespace, ["containers", "ls", "-q"])).split("\n").filter((id) => id.includes(gonerUID.slice(0, 8)))).toEqual([]);

  // What is still wanted is untouched: the running pod (same container, namespace) and the finished pod's logs.
  const k = await waitPod(env, "keeper", (p) => p.status?.phase === "Running", "Running");
  expect(k.status!.containerStatuses![0]!.containerID).toBe(keeper.status!.containerStatuses![0]!.containerID!);
  expect(k.status!.containerStatuses![0]!.restartCount).toBe(0);
  expect(netnsExists(netnsOf(keeperUID))).toBe(true);
  expect(readdirSync(node.logDir).some((d) => d.endsWith(doneUID))).toBe(true);
  expect(mounts).toContain(keeperUID);
  if (v1) expect(existsSync(cgroupOf(keeperUID))).toBe(true);
}, 150_000);
