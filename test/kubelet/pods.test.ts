// Real pods on a real node: containerd + CNI in a test-made network namespace.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { refs } from "../../internal/client/refs.ts";
import { busyboxPod, shimProcesses, startEnv, waitFor, waitPod, type Env } from "./setup.ts";

let env: Env;
beforeAll(async () => {
  env = await startEnv(["node-a"]);
}, 120_000);
afterAll(async () => {
  await env?.cleanup();
}, 60_000);

const pods = () => env.client.resource(refs.pods, "default");

test("a pod runs and reports Running with an IP from the node's podCIDR", async () => {
  await pods().create(busyboxPod("web", "node-a", "echo started; exec sleep 3600"));
  const p = await waitPod(env, "web", (p) => p.status?.phase === "Running" && !!p.status?.podIP, "Running with IP");
  const node: any = await env.client.resource(refs.nodes).get("node-a");
  const prefix = node.spec.podCIDR.split(".").slice(0, 3).join(".");
  expect(p.status!.podIP!.startsWith(prefix + ".")).toBe(true);
  expect(p.status!.hostIP).toBe(env.nodes[0]!.ip);
  const cs = p.status!.containerStatuses![0]!;
  expect(cs.ready).toBe(true);
  expect(cs.started).toBe(true);
  expect(cs.restartCount).toBe(0);
  expect(cs.containerID).toStartWith("containerd://");
  expect(cs.imageID).toContain("busybox@sha256:");
  expect(p.status!.conditions!.find((c) => c.type === "Ready")!.status).toBe("True");
  expect(p.status!.startTime).toBeTruthy();
}, 60_000);

test("exit codes: Never → Succeeded/Failed with the exit code; Always → restarts into CrashLoopBackOff with lastState", async () => {
  await pods().create(busyboxPod("ok-once", "node-a", "echo done", { restartPolicy: "Never" }));
  await pods().create(busyboxPod("fail-once", "node-a", "echo 'bad things' > /dev/termination-log; exit 2", { restartPolicy: "Never" }));
  await pods().create(busyboxPod("fail-logs", "node-a", "echo last words; exit 4", { restartPolicy: "Never" }, { terminationMessagePolicy: "FallbackToLogsOnError" }));
  await pods().create(busyboxPod("crasher", "node-a", "echo crash; exit 3", { restartPolicy: "Always" }));
  const ok = await waitPod(env, "ok-once", (p) => p.status?.phase === "Succeeded", "Succeeded");
  const t = ok.status!.containerStatuses![0]!.state!.terminated!;
  expect(t.exitCode).toBe(0);
  expect(t.reason).toBe("Completed");
  const failed = await waitPod(env, "fail-once", (p) => p.status?.phase === "Failed", "Failed");
  expect(failed.status!.containerStatuses![0]!.state!.terminated!.exitCode).toBe(2);
  expect(failed.status!.containerStatuses![0]!.state!.terminated!.reason).toBe("Error");
  expect(failed.status!.containerStatuses![0]!.restartCount).toBe(0);
  expect(failed.status!.containerStatuses![0]!.state!.terminated!.message).toBe("bad things\n");
  const fl = await waitPod(env, "fail-logs", (p) => p.status?.phase === "Failed", "Failed");
  expect(fl.status!.containerStatuses![0]!.state!.terminated!.message).toBe("last words");
  const c = await waitPod(
    env,
    "crasher",
    (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "CrashLoopBackOff",
    "CrashLoopBackOff",
    45_000,
  );
  const cs = c.status!.containerStatuses![0]!;
  expect(cs.lastState!.terminated!.exitCode).toBe(3);
  expect(cs.lastState!.terminated!.reason).toBe("Error");
  expect(cs.state!.waiting!.message).toContain("back-off");
  expect(c.status!.phase).toBe("Running");
  const events: any = await env.client.resource(refs.events, "default").list();
  const reasons = events.items.filter((e: any) => e.involvedObject.name === "crasher").map((e: any) => e.reason);
  expect(reasons).toContain("BackOff");
  expect(reasons).toContain("Started");
  expect(reasons).toContain("Created");
}, 90_000);

test("a memory hog over its limit is OOMKilled", async () => {
  await pods().create(
    busyboxPod("hog", "node-a", "head -c 300000000 /dev/zero | tail", { restartPolicy: "Never" }, { resources: { limits: { memory: "32Mi" } } }),
  );
  const p = await waitPod(env, "hog", (p) => p.status?.phase === "Failed", "Failed", 60_000);
  const t = p.status!.containerStatuses![0]!.state!.terminated!;
  expect(t.reason).toBe("OOMKilled");
  expect(t.exitCode).toBe(137);
}, 90_000);

test("init containers run in order before the app container", async () => {
  const pod = busyboxPod("with-init", "node-a", "cat /init-order/order; exec sleep 3600", {
    volumes: [{ name: "work", emptyDir: {} }],
    initContainers: [
      { name: "first", image: "busybox:latest", imagePullPolicy: "IfNotPresent", command: ["sh", "-c", "echo first >> /init-order/order"], volumeMounts: [{ name: "work", mountPath: "/init-order" }] },
      { name: "second", image: "busybox:latest", imagePullPolicy: "IfNotPresent", command: ["sh", "-c", "echo second >> /init-order/order"], volumeMounts: [{ name: "work", mountPath: "/init-order" }] },
    ],
  } as any, { volumeMounts: [{ name: "work", mountPath: "/init-order" }] });
  await pods().create(pod);
  const p = await waitPod(env, "with-init", (p) => p.status?.phase === "Running", "Running");
  expect(p.status!.initContainerStatuses!.map((s) => s.state?.terminated?.reason)).toEqual(["Completed", "Completed"]);
  expect(p.status!.conditions!.find((c) => c.type === "Initialized")!.status).toBe("True");
  const logs = await env.cluster.kubectl(["logs", "with-init"]);
  expect(logs.stdout).toBe("first\nsecond\n");
}, 60_000);

test("a pod's containers share one shim process, which outlives a container's restart", async () => {
  const pod = busyboxPod("pair", "node-a", "exec sleep 3600");
  pod.spec!.containers.push({ name: "sidecar", image: "busybox:latest", imagePullPolicy: "IfNotPresent", command: ["sh", "-c", "sleep 1; exit 1"] });
  await pods().create(pod);
  const p = await waitPod(env, "pair", (p) => (p.status?.containerStatuses?.find((c) => c.name === "sidecar")?.restartCount ?? 0) >= 1 && p.status?.phase === "Running", "sidecar restarted", 45_000);
  const uid = (p.metadata!.uid as string).slice(0, 13);
  // The shim started for the first of them serves both, and the restarted sidecar too (containerd's shim group).
  const served = shimProcesses(env.nodes[0]!.namespace).filter((s) => s.id.startsWith(`${uid}-`));
  expect(served.length).toBe(1);
  expect(p.status!.containerStatuses!.find((c) => c.name === "main")!.state!.running).toBeTruthy();
  await pods().delete("pair", { gracePeriodSeconds: 0 });
  // Once the pod's last container is gone, so is its shim.
  await waitFor("the pod's shim exits", () => shimProcesses(env.nodes[0]!.namespace).every((s) => !s.id.startsWith(`${uid}-`)), 30_000);
}, 90_000);

test("pods waiting out their grace period do not hold up a new pod's start", async () => {
  // More terminating pods than the kubelet once had pod workers (8), each ignoring SIGTERM for 20 s.
  const names = Array.from({ length: 10 }, (_, i) => `slow-stop-${i}`);
  await Promise.all(names.map((n) => pods().create(busyboxPod(n, "node-a", "while true; do sleep 0.2; done", { terminationGracePeriodSeconds: 20 }))));
  for (const n of names) await waitPod(env, n, (p) => p.status?.phase === "Running", "Running", 60_000);
  await Promise.all(names.map((n) => pods().delete(n)));
  await Bun.sleep(500); // the kubelet is now waiting out their grace periods
  await pods().create(busyboxPod("fresh", "node-a", "exec sleep 3600"));
  await waitPod(env, "fresh", (p) => p.status?.phase === "Running", "Running", 60_000);
  // Started while every one of them was still terminating.
  const left = (await pods().list()).items.filter((p: any) => names.includes(p.metadata.name) && p.metadata.deletionTimestamp);
  expect(left.length).toBe(names.length);
  await Promise.all(names.map((n) => pods().delete(n, { gracePeriodSeconds: 0 }).catch(() => {})));
  await pods().delete("fresh", { gracePeriodSeconds: 0 });
  await waitFor("pods gone", async () => (await pods().list()).items.every((p: any) => !names.includes(p.metadata.name) && p.metadata.name !== "fresh"), 60_000);
}, 120_000);

test("graceful deletion: a TERM handler ends the pod early; a pod ignoring TERM is killed after its grace period", async () => {
  const out = `${env.world.dir}/polite-out`;
  await pods().create(
    busyboxPod("polite", "node-a", "trap 'echo got TERM > /out/term; exit 0' TERM; while true; do sleep 0.2; done", {
      terminationGracePeriodSeconds: 30,
      volumes: [{ name: "out", hostPath: { path: out, type: "DirectoryOrCreate" } }],
    } as any, { volumeMounts: [{ name: "out", mountPath: "/out" }] }),
  );
  // sh as PID 1 without a trap ignores SIGTERM: only SIGKILL after the grace period ends it.
  await pods().create(busyboxPod("stubborn", "node-a", "while true; do sleep 0.2; done", { terminationGracePeriodSeconds: 4 }));
  await waitPod(env, "polite", (p) => p.status?.phase === "Running", "Running");
  await waitPod(env, "stubborn", (p) => p.status?.phase === "Running", "Running");
  const node = env.nodes[0]!;
  const politeUid = (await pods().get("polite")).metadata.uid as string;
  // The pod's own cgroup (parent of its containers'), in whichever hierarchies the host has.
  const podCgroups = () => ["", ...readdirSync("/sys/fs/cgroup").map((h) => `/${h}`)].map((h) => `/sys/fs/cgroup${h}/${node.namespace}/pod${politeUid}`).filter((d) => existsSync(d));
  expect(podCgroups().length).toBeGreaterThan(0);
  await pods().delete("polite");
  await pods().delete("stubborn");
  const gone = async (name: string) => pods().get(name).then(() => false, (e: any) => e.code === 404);
  // Well inside its 30 s grace period the polite pod is gone: it exited on SIGTERM and ran its handler.
  await waitFor("polite pod removed", () => gone("polite"), 15_000);
  expect(await Bun.file(`${out}/term`).text()).toBe("got TERM\n");
  await Bun.sleep(1000);
  expect(await gone("stubborn")).toBe(false); // still within its 4 s grace period
  await waitFor("stubborn pod removed", () => gone("stubborn"), 20_000);
  // Nothing of theirs is left in containerd or the cgroup tree, and the pod's network namespace is gone.
  expect(podCgroups()).toEqual([]);
  const list = await env.world.ctr(node.namespace, ["containers", "ls", "-q"]);
  for (const id of list.split("\n").filter(Boolean)) expect(id.startsWith(politeUid.slice(0, 13))).toBe(false);
  expect(readdirSync("/var/run/netns").some((n) => n.includes(politeUid))).toBe(false);
}, 60_000);
