// The hollow process's call limiter: bulk calls (status reports, pod status) never take more than their share, a
// Lease renewal starts even while bulk work fills its share, freed slots go to waiting renewals first, and a call
// that fails still frees its slot. limitedClient limits calls, never watches.
import { expect, test } from "bun:test";
import type { Client } from "../../internal/client/client.ts";
import { refs } from "../../internal/client/refs.ts";
import { CallLimiter, limitedClient } from "../../internal/hollow/limiter.ts";

/** A call that stays in flight until released; records when it started. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const done = new Promise<void>((r) => (open = r));
  return { call: async () => (log.push(name), await done, name), open };
}

test("bulk calls are held to their share; a heartbeat starts beside them and is served first when slots free up", async () => {
  const l = new CallLimiter(4, 2);
  const started: string[] = [];
  const bulk = Array.from({ length: 4 }, (_, i) => gate(started, `bulk${i}`));
  const bulkRuns = bulk.map((g) => l.run("bulk", g.call));
  await Bun.sleep(0);
  expect(started).toEqual(["bulk0", "bulk1"]);
  expect(l.stats()).toEqual({ inflight: { heartbeat: 0, bulk: 2 }, waiting: { heartbeat: 0, bulk: 2 } });

  // Heartbeats use the slots bulk work may not.
  const hb = Array.from({ length: 3 }, (_, i) => gate(started, `hb${i}`));
  const hbRuns = hb.map((g) => l.run("heartbeat", g.call));
  await Bun.sleep(0);
  expect(started).toEqual(["bulk0", "bulk1", "hb0", "hb1"]);
  expect(l.stats().waiting).toEqual({ heartbeat: 1, bulk: 2 });

  // A bulk call ends: its slot goes to the waiting heartbeat, not to the waiting bulk calls.
  bulk[0]!.open();
  await bulkRuns[0];
  await Bun.sleep(0);
  expect(started.at(-1)).toBe("hb2");
  expect(l.stats().inflight).toEqual({ heartbeat: 3, bulk: 1 });

  // Heartbeats end: bulk calls get their share back, never more.
  for (const g of hb) g.open();
  await Promise.all(hbRuns);
  await Bun.sleep(0);
  expect(started.at(-1)).toBe("bulk2");
  expect(l.stats()).toEqual({ inflight: { heartbeat: 0, bulk: 2 }, waiting: { heartbeat: 0, bulk: 1 } });
  for (const g of bulk) g.open();
  await Promise.all(bulkRuns);
  expect(l.stats()).toEqual({ inflight: { heartbeat: 0, bulk: 0 }, waiting: { heartbeat: 0, bulk: 0 } });
});

test("a failing call frees its slot and its error reaches the caller", async () => {
  const l = new CallLimiter(1, 1);
  const err = await l.run("bulk", async () => {
    throw new Error("boom");
  }).catch((e) => e);
  expect(err.message).toBe("boom");
  expect(await l.run("heartbeat", async () => "ok")).toBe("ok");
  expect(l.stats().inflight).toEqual({ heartbeat: 0, bulk: 0 });
});

test("limitedClient limits calls, not watches", async () => {
  const l = new CallLimiter(1, 1);
  let release!: () => void;
  const calls: string[] = [];
  const fake = {
    config: { server: "x", token: "t" },
    request: async () => undefined,
    stream: async () => new Response(),
    resource: () => ({
      get: async (name: string) => (calls.push(`get ${name}`), await new Promise<void>((r) => (release = r)), { name }),
      watch: () => (calls.push("watch"), (async function* () {})()),
    }),
  } as unknown as Client;
  const c = limitedClient(fake, l, "bulk").resource(refs.pods, "default");
  const first = c.get("a");
  const second = c.get("b");
  await Bun.sleep(0);
  expect(calls).toEqual(["get a"]);
  for await (const _ of c.watch({})) {
    // no events
  }
  expect(calls).toEqual(["get a", "watch"]);
  release();
  await first;
  await Bun.sleep(0);
  expect(calls).toEqual(["get a", "watch", "get b"]);
  release();
  await second;
});
