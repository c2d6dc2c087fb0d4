// The bound on pod starts running at once: never more holders than slots, waiters served in order, and a
// failing holder gives its slot back.
import { expect, test } from "bun:test";
import { Slots } from "../../internal/kubelet/slots.ts";

test("at most `size` run at once, the rest in arrival order; a failure frees its slot", async () => {
  const slots = new Slots(3);
  let running = 0;
  let most = 0;
  const order: number[] = [];
  const gates = Array.from({ length: 10 }, () => Promise.withResolvers<void>());
  const all = gates.map((g, i) =>
    slots.run(async () => {
      order.push(i);
      most = Math.max(most, ++running);
      await g.promise;
      running--;
      if (i === 1) throw new Error("boom");
      return i;
    }),
  );
  const settled = Promise.allSettled(all);
  await Bun.sleep(10);
  expect(order).toEqual([0, 1, 2]);
  expect(slots.inUse).toBe(3);
  for (const g of gates) {
    g.resolve();
    await Bun.sleep(1);
  }
  const results = await settled;
  expect(most).toBe(3);
  expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(results[1]!.status).toBe("rejected");
  expect(results.filter((r) => r.status === "fulfilled").map((r: any) => r.value)).toEqual([0, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(slots.inUse).toBe(0);
});
