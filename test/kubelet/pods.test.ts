// Real pods on a real node: containerd + CNI in a test-made network namespace.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { refs } from "../../internal/client/refs.ts";
import { busyboxPod, startEnv, waitPod, type Env } from "./setup.ts";

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
