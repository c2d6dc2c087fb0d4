import { expect, test } from "bun:test";
import { SchedulingQueue } from "../../internal/scheduler/queue.ts";
import { pod } from "./fixtures.ts";

test("higher priority first, then first in", async () => {
  const q = new SchedulingQueue();
  q.add("default/a", pod("a", { priority: 1 }));
  q.add("default/b", pod("b", { priority: 100 }));
  q.add("default/c", pod("c", { priority: 1 }));
  expect((await q.pop())!.key).toBe("default/b");
  expect((await q.pop())!.key).toBe("default/a");
  expect((await q.pop())!.key).toBe("default/c");
  q.close();
  expect(await q.pop()).toBeUndefined();
});

test("an unschedulable pod waits for a cluster event, then for its backoff", async () => {
  const q = new SchedulingQueue({ initialBackoffMs: 50, maxBackoffMs: 100 });
  q.add("default/a", pod("a"));
  await q.pop();
  q.failed("default/a", "unschedulable", ["NodeResourcesFit"]);
  expect(q.stats().unschedulable).toBe(1);
  // An event that only helps other plugins leaves it where it is.
  q.moveAllToActiveOrBackoff(["InterPodAffinity"]);
  expect(q.stats().unschedulable).toBe(1);
  q.moveAllToActiveOrBackoff();
  // Still inside its 50 ms backoff.
  expect(q.stats().backoff).toBe(1);
  const next = await q.pop();
  expect(next!.key).toBe("default/a");
  expect(next!.attempts).toBe(1);
  q.close();
});

test("a cluster event during an attempt sends its failure to backoff, not the pool", async () => {
  const q = new SchedulingQueue({ initialBackoffMs: 20 });
  q.add("default/a", pod("a"));
  await q.pop();
  q.moveAllToActiveOrBackoff();
  q.failed("default/a", "unschedulable");
  expect(q.stats().backoff).toBe(1);
  expect((await q.pop())!.key).toBe("default/a");
  q.close();
});

test("backoff doubles per attempt up to the maximum", () => {
  const q = new SchedulingQueue({ initialBackoffMs: 1000, maxBackoffMs: 10_000 });
  const item = { attempts: 1 } as any;
  const seq = [1, 2, 3, 4, 5, 6].map((a) => q.backoffMs({ ...item, attempts: a }));
  expect(seq).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  q.close();
});

test("deleting a queued pod drops it; a spec change moves an unschedulable pod", async () => {
  const q = new SchedulingQueue({ initialBackoffMs: 1 });
  q.add("default/a", pod("a"));
  q.add("default/b", pod("b"));
  q.delete("default/a");
  expect((await q.pop())!.key).toBe("default/b");
  q.failed("default/b", "unschedulable");
  await Bun.sleep(5);
  q.add("default/b", pod("b", { labels: { x: "y" } }));
  expect(q.stats().active).toBe(1);
  q.close();
});
