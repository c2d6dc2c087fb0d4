import { expect, test } from "bun:test";
import { BucketRateLimiter, ItemExponentialRateLimiter, WorkQueue, defaultControllerRateLimiter } from "../../internal/client/index.ts";

test("dedups queued items and keeps FIFO order", async () => {
  const q = new WorkQueue<string>();
  q.add("a");
  q.add("b");
  q.add("a");
  expect(q.len()).toBe(2);
  expect(await q.get()).toBe("a");
  expect(await q.get()).toBe("b");
});

test("an item being processed is not handed out twice, and a re-add during processing requeues it after done", async () => {
  const q = new WorkQueue<string>();
  q.add("a");
  const a = await q.get();
  q.add("a");
  expect(q.len()).toBe(0);
  let second: string | undefined;
  const p = q.get().then((x) => (second = x));
  await Bun.sleep(5);
  expect(second).toBeUndefined();
  q.done(a!);
  await p;
  expect(second).toBe("a");
});

test("shutDown wakes waiting workers with undefined but drains queued items first", async () => {
  const q = new WorkQueue<string>();
  q.add("x");
  q.shutDown();
  expect(await q.get()).toBe("x");
  expect(await q.get()).toBeUndefined();
  const q2 = new WorkQueue<string>();
  const w = q2.get();
  q2.shutDown();
  expect(await w).toBeUndefined();
  q2.add("late");
  expect(q2.len()).toBe(0);
});

test("addAfter delays the item; the earliest pending delay wins", async () => {
  const q = new WorkQueue<string>();
  q.addAfter("a", 1000);
  q.addAfter("a", 20);
  expect(q.len()).toBe(0);
  const t0 = Date.now();
  expect(await q.get()).toBe("a");
  expect(Date.now() - t0).toBeLessThan(900);
  q.shutDown();
});

test("per-item exponential backoff from 5 ms up to 1000 s, reset by forget", () => {
  const l = new ItemExponentialRateLimiter<string>(5, 1000_000);
  expect([l.when("a"), l.when("a"), l.when("a"), l.when("b")]).toEqual([5, 10, 20, 5]);
  for (let i = 0; i < 40; i++) l.when("a");
  expect(l.when("a")).toBe(1000_000);
  expect(l.numRequeues("a")).toBe(44);
  l.forget("a");
  expect(l.when("a")).toBe(5);
});

test("token bucket allows the burst, then spaces items at 1/qps", () => {
  const l = new BucketRateLimiter<string>(10, 100);
  for (let i = 0; i < 100; i++) expect(l.when(String(i))).toBe(0);
  const d = l.when("x");
  expect(d).toBeGreaterThan(90);
  expect(d).toBeLessThanOrEqual(100);
  const d2 = l.when("y");
  expect(d2).toBeGreaterThan(190);
});

test("default controller rate limiter combines both", () => {
  const l = defaultControllerRateLimiter<string>();
  expect(l.when("a")).toBe(5);
  expect(l.when("a")).toBe(10);
  expect(l.numRequeues("a")).toBe(2);
  l.forget("a");
  expect(l.numRequeues("a")).toBe(0);
});

test("runWorkers processes items in parallel, requeues failures with backoff and forgets successes", async () => {
  const q = new WorkQueue<string>({ name: "t" });
  const attempts = new Map<string, number>();
  let concurrent = 0;
  let maxConcurrent = 0;
  const ac = new AbortController();
  const done = new Set<string>();
  const run = q.runWorkers(
    3,
    async (k) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await Bun.sleep(5);
      concurrent--;
      const n = (attempts.get(k) ?? 0) + 1;
      attempts.set(k, n);
      if (k === "flaky" && n < 3) throw new Error("boom");
      done.add(k);
      if (done.size === 6) ac.abort();
    },
    ac.signal,
  );
  for (const k of ["a", "b", "c", "d", "e", "flaky"]) q.add(k);
  await run;
  expect(attempts.get("flaky")).toBe(3);
  expect(q.numRequeues("flaky")).toBe(0);
  expect(maxConcurrent).toBe(3);
  expect(q.shuttingDown).toBe(true);
});
