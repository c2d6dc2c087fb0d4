// The scheduler cache: assumed pods count at once, the watch confirms them, failures and expiry undo them.
import { expect, test } from "bun:test";
import { SchedulerCache } from "../../internal/scheduler/cache.ts";
import { makePodInfo } from "../../internal/scheduler/podinfo.ts";
import { node, pod } from "./fixtures.ts";

test("an assumed pod uses resources until the watch confirms it or the binding fails", () => {
  const c = new SchedulerCache();
  c.addOrUpdateNode(node("a"));
  const p = pod("p", { cpu: "1" });
  c.assume(makePodInfo(p), "a");
  expect(c.node("a")!.requested.milliCPU).toBe(1000);
  expect(c.isAssumed("default/p")).toBe(true);
  // The watch shows it bound: no longer assumed, still counted once.
  c.upsertPod({ ...p, spec: { ...p.spec!, nodeName: "a" } });
  expect(c.isAssumed("default/p")).toBe(false);
  expect(c.node("a")!.requested.milliCPU).toBe(1000);
  expect(c.node("a")!.pods.size).toBe(1);

  const q = pod("q", { cpu: "500m" });
  c.assume(makePodInfo(q), "a");
  c.forget("default/q");
  expect(c.node("a")!.requested.milliCPU).toBe(1000);
});

test("assumed pods never confirmed expire after their binding finished", () => {
  const c = new SchedulerCache();
  c.addOrUpdateNode(node("a"));
  c.assume(makePodInfo(pod("p", { cpu: "1" })), "a");
  c.cleanupExpired(Date.now() + 60_000);
  expect(c.node("a")!.requested.milliCPU).toBe(1000); // binding not finished yet: kept
  c.finishBinding("default/p");
  c.cleanupExpired(Date.now() + 60_000);
  expect(c.node("a")!.requested.milliCPU).toBe(0);
});

test("pods on unknown nodes are kept until the node appears; node removal keeps them for its return", () => {
  const c = new SchedulerCache();
  c.upsertPod(pod("p", { cpu: "1", node: "later" }));
  c.addOrUpdateNode(node("later"));
  expect(c.node("later")!.requested.milliCPU).toBe(1000);
  c.removeNode("later");
  expect(c.nodes.length).toBe(0);
  c.addOrUpdateNode(node("later"));
  expect(c.node("later")!.pods.size).toBe(1);
  c.removePod("default/p");
  expect(c.node("later")!.pods.size).toBe(0);
});

test("terminal pods and updates free or move resources", () => {
  const c = new SchedulerCache();
  c.addOrUpdateNode(node("a"));
  c.addOrUpdateNode(node("b"));
  const p = pod("p", { cpu: "1", node: "a" });
  c.upsertPod(p);
  c.upsertPod({ ...p, status: { phase: "Succeeded" } });
  expect(c.node("a")!.requested.milliCPU).toBe(0);
  expect(c.podCount()).toBe(0);
});
