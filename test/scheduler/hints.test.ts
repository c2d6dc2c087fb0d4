// Queueing hints: a node update moves an unschedulable pod back only when it can undo what rejected the pod.
import { expect, test } from "bun:test";
import type { Node } from "kubernetes-types/core/v1";
import { nodeUpdateHints } from "../../internal/scheduler/hints.ts";
import { SchedulingQueue } from "../../internal/scheduler/queue.ts";
import { pod } from "./fixtures.ts";

const base: Node = {
  apiVersion: "v1",
  kind: "Node",
  metadata: { name: "n", labels: { zone: "a" } },
  spec: { taints: [{ key: "k", value: "v", effect: "NoSchedule" }] },
  status: { allocatable: { cpu: "1", memory: "1Gi", pods: "110" }, conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: "2026-01-01T00:00:00Z" }] as any },
};
const edit = (f: (n: Node) => void): Node => {
  const n = structuredClone(base);
  f(n);
  return n;
};

test("which plugins each kind of node change can help", () => {
  expect(nodeUpdateHints(base, edit((n) => (n.status!.conditions![0]!.lastHeartbeatTime = "2026-01-01T00:00:10Z")))).toEqual([]);
  expect(nodeUpdateHints(base, edit((n) => (n.status!.allocatable!.cpu = "2")))).toContain("NodeResourcesFit");
  const labels = nodeUpdateHints(base, edit((n) => (n.metadata!.labels!.zone = "b")));
  expect(labels).toContain("NodeAffinity");
  expect(labels).not.toContain("NodeResourcesFit");
  expect(labels).not.toContain("TaintToleration");
  const taints = nodeUpdateHints(base, edit((n) => (n.spec!.taints = [])));
  expect(taints).toContain("TaintToleration");
  expect(taints).not.toContain("NodeResourcesFit");
  expect(nodeUpdateHints(base, edit((n) => (n.spec!.unschedulable = true)))).toContain("NodeUnschedulable");
});

async function unschedulable(q: SchedulingQueue, name: string, rejectedBy: string[]): Promise<void> {
  q.add(`default/${name}`, pod(name));
  await q.pop();
  q.failed(`default/${name}`, "unschedulable", rejectedBy);
}

test("a node update moves only the pods whose rejection it can undo; pods with unknown rejections always move", async () => {
  const q = new SchedulingQueue({ initialBackoffMs: 10_000 });
  await unschedulable(q, "needs-cpu", ["NodeResourcesFit"]);
  await unschedulable(q, "needs-toleration", ["TaintToleration"]);
  await unschedulable(q, "unknown", []);
  expect(q.stats().unschedulable).toBe(3);
  // A label change helps neither resources nor taints; the pod with unknown rejections is retried.
  q.moveAllToActiveOrBackoff(nodeUpdateHints(base, edit((n) => (n.metadata!.labels!.zone = "b"))));
  expect(q.get("default/needs-cpu")!.where).toBe("unschedulable");
  expect(q.get("default/needs-toleration")!.where).toBe("unschedulable");
  expect(q.get("default/unknown")!.where).not.toBe("unschedulable");
  // Room appears: the pod that wanted CPU moves (to backoff: its 10 s have not passed), the other one stays.
  q.moveAllToActiveOrBackoff(nodeUpdateHints(base, edit((n) => (n.status!.allocatable!.cpu = "8"))));
  expect(q.get("default/needs-cpu")!.where).toBe("backoff");
  expect(q.get("default/needs-toleration")!.where).toBe("unschedulable");
  q.moveAllToActiveOrBackoff(nodeUpdateHints(base, edit((n) => (n.spec!.taints = []))));
  expect(q.get("default/needs-toleration")!.where).toBe("backoff");
  q.close();
});
