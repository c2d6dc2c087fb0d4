// The Store contract, run against every backend: SQLite (default), SQLite with the test keys volatile (in memory
// only, see internal/store/sqlite/volatile.ts) and etcd (HA; a real etcd 3.4 is started).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { EtcdStore } from "../../internal/store/etcd/index.ts";
import { openSqliteStore } from "../../internal/store/sqlite/index.ts";
import {
  CompactedError,
  ConflictError,
  KeyExistsError,
  NotFoundError,
  type Store,
  type WatchEvent,
} from "../../internal/store/types.ts";
import { ETCD_BIN, type EtcdServer, startEtcd } from "./fixtures/etcd.ts";
import { collect, rejects, tempDir, uniquePrefix } from "./helpers.ts";

// Real processes and fsyncs on a shared CI machine: allow slow runs (the tests check outcomes, not speed).
setDefaultTimeout(30_000);

interface Backend {
  name: string;
  start(): Promise<{ store: Store; stop(): Promise<void> }>;
  /** Shortest TTL the backend honours (etcd leases have a minimum). */
  ttlSeconds: number;
}

const backends: Backend[] = [
  {
    name: "sqlite",
    ttlSeconds: 0.3,
    async start() {
      const dir = tempDir();
      const store = openSqliteStore(`${dir.path}/state.db`);
      return {
        store,
        async stop() {
          await store.close();
          dir.remove();
        },
      };
    },
  },
  {
    // Every test key volatile (in memory only): the same contract must hold for them.
    name: "sqlite-volatile",
    ttlSeconds: 0.3,
    async start() {
      const dir = tempDir();
      const store = openSqliteStore(`${dir.path}/state.db`, { volatilePrefixes: ["/registry/test-"] });
      return {
        store,
        async stop() {
          await store.close();
          dir.remove();
        },
      };
    },
  },
];
if (existsSync(ETCD_BIN)) {
  backends.push({
    name: "etcd",
    ttlSeconds: 2,
    async start() {
      const server: EtcdServer = await startEtcd();
      const store = new EtcdStore([server.endpoint], { compactIntervalMs: 0 });
      return {
        store,
        async stop() {
          await store.close();
          await server.stop();
        },
      };
    },
  });
}

// STORE_BACKEND=etcd (or sqlite) runs one backend only.
for (const backend of backends.filter((b) => !process.env.STORE_BACKEND || b.name === process.env.STORE_BACKEND)) {
  describe(`store contract: ${backend.name}`, () => {
    let store: Store;
    let stop: () => Promise<void>;
    beforeAll(async () => {
      ({ store, stop } = await backend.start());
    });
    afterAll(async () => {
      await stop?.();
    });

    test("create, get, update, delete and their preconditions", async () => {
      const p = uniquePrefix("crud");
      const key = `${p}a`;
      expect((await store.get(key)).kv).toBeUndefined();

      const created = await store.create(key, '{"v":1}');
      expect(created).toMatchObject({ key, value: '{"v":1}' });
      expect(created.createRevision).toBe(created.modRevision);
      const got = await store.get(key);
      expect(got.kv).toEqual(created);
      expect(got.revision).toBeGreaterThanOrEqual(created.modRevision);
      await rejects(store.create(key, "again"), KeyExistsError);

      const updated = await store.update(key, '{"v":2}', created.modRevision);
      expect(updated.modRevision).toBeGreaterThan(created.modRevision);
      expect(updated.createRevision).toBe(created.createRevision);
      const conflict = await rejects(store.update(key, '{"v":3}', created.modRevision), ConflictError);
      expect(conflict.current?.value).toBe('{"v":2}');
      expect(conflict.current?.modRevision).toBe(updated.modRevision);
      await rejects(store.update(`${p}missing`, "x", 1), NotFoundError);

      await rejects(store.delete(key, created.modRevision), ConflictError);
      const deleted = await store.delete(key, updated.modRevision);
      expect(deleted.value).toBe('{"v":2}');
      expect(deleted.modRevision).toBeGreaterThan(updated.modRevision);
      expect((await store.get(key)).kv).toBeUndefined();
      await rejects(store.delete(key), NotFoundError);
      await rejects(store.update(key, "x", updated.modRevision), NotFoundError);

      // A re-created key starts a new life.
      const again = await store.create(key, "reborn");
      expect(again.createRevision).toBe(again.modRevision);
      expect(again.createRevision).toBeGreaterThan(deleted.modRevision);
      expect((await store.delete(key)).value).toBe("reborn");
      expect(await store.currentRevision()).toBeGreaterThanOrEqual(again.modRevision + 1);
    });

    test("list and count by prefix, ordered by key", async () => {
      const p = uniquePrefix("list");
      await Promise.all(["c", "a", "b"].map((k) => store.create(`${p}${k}`, k)));
      await store.create(`${p.slice(0, -1)}x/other`, "not in prefix");
      const res = await store.list(p);
      expect(res.items.map((i) => i.key)).toEqual([`${p}a`, `${p}b`, `${p}c`]);
      expect(res.remaining).toBe(0);
      expect(res.revision).toBeGreaterThanOrEqual(Math.max(...res.items.map((i) => i.modRevision)));
      expect((await store.count(p)).count).toBe(3);
    });

    test("a list as of any retained revision shows exactly that revision's values", async () => {
      const p = uniquePrefix("asof");
      const history: { rev: number; values: Record<string, string> }[] = [];
      const current: Record<string, string> = {};
      const revs: Record<string, number> = {};
      for (let i = 0; i < 40; i++) {
        const key = `${p}${"abc"[i % 3]}`;
        let kv;
        if (revs[key] === undefined) kv = await store.create(key, `v${i}`);
        else if (i % 7 === 0) {
          kv = await store.delete(key, revs[key]);
          delete current[key];
          delete revs[key];
          history.push({ rev: kv.modRevision, values: { ...current } });
          continue;
        } else kv = await store.update(key, `v${i}`, revs[key]!);
        current[key] = kv.value;
        revs[key] = kv.modRevision;
        history.push({ rev: kv.modRevision, values: { ...current } });
      }
      for (const h of history) {
        const res = await store.list(p, { revision: h.rev });
        expect(Object.fromEntries(res.items.map((i) => [i.key, i.value]))).toEqual(h.values);
        expect((await store.list(p, { revision: h.rev, limit: 1 })).remaining).toBe(Math.max(0, Object.keys(h.values).length - 1));
      }
    });

    test("pagination at a fixed revision stays consistent while writes continue", async () => {
      const p = uniquePrefix("page");
      const n = 53;
      const original = new Map<string, string>();
      for (let i = 0; i < n; i++) {
        const key = `${p}${String(i).padStart(3, "0")}`;
        original.set(key, `v${i}`);
      }
      await Promise.all([...original].map(([k, v]) => store.create(k, v)));

      const first = await store.list(p, { limit: 10 });
      expect(first.items.length).toBe(10);
      expect(first.remaining).toBe(n - 10);
      const seen = [...first.items];
      let cursor = first.items[first.items.length - 1]!.key;
      let round = 0;
      while (true) {
        // Meanwhile: update, delete and add keys in the listed range.
        const victim = `${p}${String(round * 5 + 40).padStart(3, "0")}`;
        const cur = (await store.get(victim)).kv;
        if (cur) {
          if (round % 2 === 0) await store.update(victim, "changed", cur.modRevision);
          else await store.delete(victim);
        }
        await store.create(`${p}${String(round).padStart(3, "0")}x`, "new");
        round++;

        const page = await store.list(p, { limit: 10, startAfter: cursor, revision: first.revision });
        expect(page.revision).toBe(first.revision);
        seen.push(...page.items);
        expect(page.remaining).toBe(n - seen.length);
        if (page.items.length === 0 || page.remaining === 0) break;
        cursor = page.items[page.items.length - 1]!.key;
      }
      expect(seen.map((i) => [i.key, i.value])).toEqual([...original]);
      // The current view does see the changes.
      const now = await store.list(p);
      expect(now.items.length).toBeGreaterThan(n - round);
      expect(now.items.some((i) => i.value === "new")).toBe(true);
    });

    test("watch delivers events in revision order, with created/prevKv, and replays history", async () => {
      const p = uniquePrefix("watch");
      const start = await store.currentRevision();
      const live = collect(store, p, start, (evs) => evs.some((e) => e.kv.key === `${p}end`));
      await Bun.sleep(50);

      const a = await store.create(`${p}a`, "a1");
      await store.create(`${uniquePrefix("elsewhere")}z`, "other prefix");
      const a2 = await store.update(`${p}a`, "a2", a.modRevision);
      await Promise.all([store.create(`${p}b`, "b1"), store.create(`${p}c`, "c1")]);
      await store.delete(`${p}a`, a2.modRevision);
      await store.create(`${p}end`, "fin");

      const check = (events: WatchEvent[]) => {
        expect(events.map((e) => [e.type, e.kv.key])).toEqual([
          ["PUT", `${p}a`],
          ["PUT", `${p}a`],
          ...(events[2]!.kv.key === `${p}b`
            ? [
                ["PUT", `${p}b`],
                ["PUT", `${p}c`],
              ]
            : [
                ["PUT", `${p}c`],
                ["PUT", `${p}b`],
              ]),
          ["DELETE", `${p}a`],
          ["PUT", `${p}end`],
        ]);
        const revs = events.map((e) => e.kv.modRevision);
        expect([...revs].sort((x, y) => x - y)).toEqual(revs);
        expect(new Set(revs).size).toBe(revs.length);
        expect(events[0]!.created).toBe(true);
        expect(events[0]!.prevKv).toBeUndefined();
        expect(events[1]!.created).toBeFalsy();
        expect(events[1]!.prevKv).toMatchObject({ value: "a1", modRevision: a.modRevision });
        expect(events[4]!.kv).toMatchObject({ value: "a2", createRevision: a.createRevision });
        expect(events[4]!.prevKv?.modRevision).toBe(a2.modRevision);
      };
      check(await live);
      // Replay of the same history from the same start.
      check(await collect(store, p, start, (evs) => evs.length >= 6));
      // Replay from the middle starts right after the given revision.
      const tail = await collect(store, p, a2.modRevision, (evs) => evs.length >= 4);
      expect(tail[0]!.kv.modRevision).toBeGreaterThan(a2.modRevision);
      expect(tail.length).toBe(4);
    });

    test("many concurrent writers to one key: exactly one wins each revision", async () => {
      const p = uniquePrefix("race");
      const key = `${p}k`;
      const creators = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.create(key, `c${i}`)));
      expect(creators.filter((r) => r.status === "fulfilled").length).toBe(1);
      for (const r of creators) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(KeyExistsError);

      let rev = (await store.get(key)).kv!.modRevision;
      for (let round = 0; round < 5; round++) {
        const results = await Promise.allSettled(
          Array.from({ length: 25 }, (_, i) => store.update(key, `r${round}w${i}`, rev)),
        );
        const winners = results.filter((r) => r.status === "fulfilled");
        expect(winners.length).toBe(1);
        for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(ConflictError);
        const won = (winners[0] as PromiseFulfilledResult<{ value: string; modRevision: number }>).value;
        const now = (await store.get(key)).kv!;
        expect(now.value).toBe(won.value);
        expect(now.modRevision).toBe(won.modRevision);
        rev = won.modRevision;
      }
    });

    test("compaction: older revisions give CompactedError, newer ones still work", async () => {
      const p = uniquePrefix("compact");
      const a = await store.create(`${p}a`, "1");
      let last = a;
      for (let i = 2; i <= 5; i++) last = await store.update(`${p}a`, String(i), last.modRevision);
      await store.create(`${p}b`, "b");
      const mid = last.modRevision;
      await store.compact(mid);
      expect(await store.compactRevision()).toBeGreaterThanOrEqual(mid);

      const err = await rejects(store.list(p, { revision: a.modRevision }), CompactedError);
      expect(err.requested).toBe(a.modRevision);
      // (not expect().rejects: it does not let network I/O run while waiting)
      await rejects(collect(store, p, a.modRevision, () => true, 5000), CompactedError);

      // Live values and history from the watermark on are intact.
      expect((await store.get(`${p}a`)).kv?.value).toBe("5");
      const atMid = await store.list(p, { revision: mid });
      expect(atMid.items.map((i) => i.value)).toEqual(["5"]);
      const fromMid = await collect(store, p, mid, (evs) => evs.length >= 1);
      expect(fromMid.map((e) => e.kv.key)).toEqual([`${p}b`]);
    });

    test("TTL keys expire with a DELETE event", async () => {
      const p = uniquePrefix("ttl");
      const start = await store.currentRevision();
      await store.create(`${p}event`, "short-lived", backend.ttlSeconds);
      await store.create(`${p}keep`, "stays");
      expect((await store.get(`${p}event`)).kv?.value).toBe("short-lived");
      const events = await collect(store, p, start, (evs) => evs.some((e) => e.type === "DELETE"), 20_000);
      const del = events.find((e) => e.type === "DELETE");
      expect(del?.kv.key).toBe(`${p}event`);
      expect(del?.kv.value).toBe("short-lived");
      expect((await store.get(`${p}event`)).kv).toBeUndefined();
      expect((await store.list(p)).items.map((i) => i.key)).toEqual([`${p}keep`]);
      // The key can be created again.
      expect((await store.create(`${p}event`, "again")).value).toBe("again");
       }, 30_000);

    test("an aborted watch ends its iteration", async () => {
      const p = uniquePrefix("abort");
      const ac = new AbortController();
      const it = store.watch(p, { afterRevision: await store.currentRevision(), signal: ac.signal });
      let first!: () => void;
      const gotFirst = new Promise<void>((r) => (first = r));
      const done = (async () => {
        let n = 0;
        for await (const b of it) {
          n += b.length;
          first();
        }
        return n;
      })();
      await store.create(`${p}x`, "1");
      await gotFirst;
      ac.abort();
      expect(await done).toBe(1);
    });
  });
}
