// The hollow kubelet's lease controller, as upstream's: a renewal that fails is retried at once within the same
// pass (not one whole period later, when the node would already be late), a conflict re-reads the Lease, and a
// vanished Lease is recreated. Driven against an in-memory Lease API, so each pass is one sync() call.
import { expect, test } from "bun:test";
import type { Lease } from "kubernetes-types/coordination/v1";
import { ApiError, type ResourceClient } from "../../internal/client/types.ts";
import { NodeLease } from "../../internal/hollow/lease.ts";
import { logger } from "../../internal/log/log.ts";

/** One Lease kept in memory with resourceVersion checks; `failNext` makes the next calls of a verb throw. */
function fakeLeases() {
  let stored: Lease | undefined;
  let rv = 0;
  const calls: string[] = [];
  const failNext: Record<string, unknown[]> = { get: [], create: [], update: [] };
  const fail = (verb: string) => {
    const e = failNext[verb]!.shift();
    if (e) throw e;
  };
  const api = {
    get: async (name: string) => {
      calls.push("get");
      fail("get");
      if (!stored || stored.metadata?.name !== name) throw new ApiError(404, "NotFound", `leases "${name}" not found`);
      return structuredClone(stored);
    },
    create: async (obj: Lease) => {
      calls.push("create");
      fail("create");
      if (stored) throw new ApiError(409, "AlreadyExists", "exists");
      stored = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++rv) } };
      return structuredClone(stored);
    },
    update: async (obj: Lease) => {
      calls.push("update");
      fail("update");
      if (!stored) throw new ApiError(404, "NotFound", "gone");
      if (obj.metadata?.resourceVersion !== stored.metadata?.resourceVersion) throw new ApiError(409, "Conflict", "the object has been modified");
      stored = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++rv) } };
      return structuredClone(stored);
    },
  } as unknown as ResourceClient<Lease>;
  return {
    api,
    calls,
    failNext,
    get stored() {
      return stored;
    },
    /** Someone else writes the Lease (the next PUT from an old copy conflicts). */
    bump() {
      stored = { ...stored!, metadata: { ...stored!.metadata, resourceVersion: String(++rv) } };
    },
    drop() {
      stored = undefined;
    },
  };
}

const signal = new AbortController().signal;
const renewTime = (l?: Lease) => Date.parse(l?.spec?.renewTime ?? "");

test("first pass creates the Lease; later passes renew from the last written copy without a GET", async () => {
  const f = fakeLeases();
  const nl = new NodeLease({ name: "n1", leases: () => f.api, durationSeconds: 40, log: logger("test") });
  await nl.sync(signal);
  expect(f.calls).toEqual(["get", "create"]);
  expect(f.stored?.spec?.holderIdentity).toBe("n1");
  f.calls.length = 0;
  await nl.sync(signal);
  expect(f.calls).toEqual(["update"]);
  expect(f.stored?.metadata?.resourceVersion).toBe("2");
});

test("a failed renewal (connection reset, server error) is retried within the same pass", async () => {
  const f = fakeLeases();
  const nl = new NodeLease({ name: "n1", leases: () => f.api, durationSeconds: 40, log: logger("test") });
  await nl.sync(signal);
  const before = renewTime(f.stored);
  await Bun.sleep(5);
  f.calls.length = 0;
  f.failNext.update!.push(Object.assign(new Error("socket closed"), { code: "ECONNRESET" }), new ApiError(500, "InternalError", "boom"));
  await nl.sync(signal);
  // Two failures, then the third PUT of the same pass renews: the node is not left a whole period behind.
  expect(f.calls).toEqual(["update", "update", "update"]);
  expect(renewTime(f.stored)).toBeGreaterThan(before);
  expect(nl.lease?.metadata?.resourceVersion).toBe(f.stored?.metadata?.resourceVersion);
});

test("a conflict re-reads the Lease and renews in the same pass", async () => {
  const f = fakeLeases();
  const nl = new NodeLease({ name: "n1", leases: () => f.api, durationSeconds: 40, log: logger("test") });
  await nl.sync(signal);
  f.bump();
  f.calls.length = 0;
  await nl.sync(signal);
  expect(f.calls).toEqual(["update", "get", "update"]);
  expect(f.stored?.spec?.holderIdentity).toBe("n1");
  expect(nl.lease?.metadata?.resourceVersion).toBe(f.stored?.metadata?.resourceVersion);
});

test("a vanished Lease (server restart) is recreated in the same pass", async () => {
  const f = fakeLeases();
  const nl = new NodeLease({ name: "n1", leases: () => f.api, durationSeconds: 40, log: logger("test") });
  await nl.sync(signal);
  f.drop();
  f.calls.length = 0;
  await nl.sync(signal);
  expect(f.calls).toEqual(["update", "get", "create"]);
  expect(f.stored?.spec?.holderIdentity).toBe("n1");
});

test("a pass that keeps failing gives up after the upstream number of tries and the next pass starts over", async () => {
  const f = fakeLeases();
  const nl = new NodeLease({ name: "n1", leases: () => f.api, durationSeconds: 40, log: logger("test") });
  await nl.sync(signal);
  f.calls.length = 0;
  for (let i = 0; i < 10; i++) f.failNext.update!.push(new ApiError(503, "ServiceUnavailable", "down"));
  await expect(nl.sync(signal)).rejects.toThrow("down");
  // 5 PUTs from the kept copy, then ensure (GET) and 5 more from the fresh copy.
  expect(f.calls).toEqual(["update", "update", "update", "update", "update", "get", "update", "update", "update", "update", "update"]);
  f.calls.length = 0;
  await nl.sync(signal);
  expect(f.calls).toEqual(["get", "update"]);
});
