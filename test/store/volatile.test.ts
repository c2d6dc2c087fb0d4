// Volatile keys of the SQLite store (Leases by default): they share the revision sequence, reads, conflicts and watch
// stream with durable keys, never touch the database file, and are gone after a restart or crash — while revisions
// stay monotonic across it and every durable key survives.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { DEFAULT_VOLATILE_PREFIXES, openStore } from "../../internal/store/index.ts";
import { openSqliteStore } from "../../internal/store/sqlite/index.ts";
import {
  CompactedError,
  ConflictError,
  KeyExistsError,
  type KeyValue,
  NotFoundError,
  type Store,
  type WatchEvent,
} from "../../internal/store/types.ts";
import { valueFor } from "./fixtures/values.ts";
import { collect, fileState, rejects, rowCount, tempDir, until } from "./helpers.ts";

// Real processes and fsyncs on a shared CI machine: allow slow runs (the tests check outcomes, not speed).
setDefaultTimeout(30_000);

const FIXTURES = join(import.meta.dir, "fixtures");
const LEASES = "/registry/coordination.k8s.io/leases/";
const lease = (name: string) => `${LEASES}kube-node-lease/${name}`;
const revs = (events: WatchEvent[]) => events.map((e) => e.kv.modRevision);

test("Leases are volatile by default, for openStore and openSqliteStore alike", () => {
  expect(DEFAULT_VOLATILE_PREFIXES).toEqual([LEASES]);
});

describe("volatile writes", () => {
  test("never touch the database file", async () => {
    const dir = tempDir();
    const path = join(dir.path, "state.db");
    const store = openSqliteStore(path);
    try {
      await store.create("/registry/pods/default/a", "durable");
      // The first volatile write raises the persisted revision floor (one small write per 10^6 revisions).
      let kv = await store.create(lease("n0"), "0");
      const rows = rowCount(path);
      const before = fileState(path);
      for (let i = 1; i <= 200; i++) kv = await store.update(lease("n0"), String(i), kv.modRevision);
      // Concurrent ones share a batch (an empty transaction: no write either).
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.create(lease(`m${i}`), "x")));
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.delete(lease(`m${i}`))));
      await store.delete(lease("n0"), kv.modRevision);
      await store.create(lease("n0"), "again");
      expect(fileState(path)).toBe(before);
      expect(rowCount(path)).toBe(rows);
      expect((await store.get(lease("n0"))).kv?.value).toBe("again");
      // A durable write still goes to the file, with a revision after all of them.
      const d = await store.create("/registry/pods/default/b", "durable");
      expect(d.modRevision).toBe((await store.currentRevision()));
      expect(rowCount(path)).toBe(rows + 1);
    } finally {
      await store.close();
      dir.remove();
    }
  });

  test("share one revision sequence with durable writes in get, list, count and watch", async () => {
    const dir = tempDir();
    const store = openSqliteStore(join(dir.path, "state.db"));
    try {
      // (A watch from revision 0 means "from now": start from a real revision.)
      const start = (await store.create("/registry/first", "x")).modRevision;
      const live = collect(store, "/registry/", start, (evs) => evs.length >= 60);
      // Interleaved, partly concurrent: every revision is unique, in one sequence.
      const acked: KeyValue[] = [];
      for (let i = 0; i < 10; i++) {
        acked.push(await store.create(lease(`n${i}`), `l${i}`));
        acked.push(await store.create(`/registry/pods/default/p${i}`, `p${i}`));
      }
      acked.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 ? store.create(lease(`c${i}`), "c") : store.create(`/registry/pods/default/c${i}`, "c"))),
        )),
      );
      const mid = await store.currentRevision();
      for (let i = 0; i < 10; i++) {
        acked.push(await store.update(lease(`n${i}`), `l${i}-2`, acked[2 * i]!.modRevision));
        acked.push(await store.delete(`/registry/pods/default/p${i}`));
      }
      const ackedRevs = acked.map((kv) => kv.modRevision).sort((a, b) => a - b);
      expect(new Set(ackedRevs).size).toBe(60);

      const got = await live;
      expect(revs(got)).toEqual(ackedRevs);
      // A watcher that starts in the past replays the same interleaved history (log rows merged with memory).
      const replay = await collect(store, "/registry/", start, (evs) => evs.length >= 60);
      expect(replay.map((e) => [e.type, e.kv.key, e.kv.modRevision])).toEqual(got.map((e) => [e.type, e.kv.key, e.kv.modRevision]));
      // Only the Leases, from the middle.
      const leasesOnly = await collect(store, LEASES, mid, (evs) => evs.length >= 10);
      expect(leasesOnly.every((e) => e.type === "PUT" && e.prevKv?.value.startsWith("l"))).toBe(true);

      const now = await store.list("/registry/");
      expect(now.items.map((kv) => kv.key)).toEqual([...now.items.map((kv) => kv.key)].sort());
      expect(now.items.filter((kv) => kv.key.startsWith(LEASES)).length).toBe(20);
      expect(now.items.filter((kv) => kv.key.startsWith("/registry/pods/")).length).toBe(10);
      expect(now.items.length).toBe(31);
      expect((await store.count("/registry/")).count).toBe(31);
      expect((await store.count(LEASES)).count).toBe(20);
      expect((await store.count("/registry/coordination.k8s.io/")).count).toBe(20);
      expect((await store.get(lease("n3"))).kv?.value).toBe("l3-2");

      // As of the middle revision: every pod p* still live, every Lease n* at its first value.
      const atMid = await store.list("/registry/", { revision: mid });
      expect(atMid.revision).toBe(mid);
      expect(atMid.items.filter((kv) => kv.key.includes("/default/p")).length).toBe(10);
      expect(atMid.items.filter((kv) => kv.key.includes("/n")).map((kv) => kv.value)).toEqual(Array.from({ length: 10 }, (_, i) => `l${i}`));

      // Pages of 7 across both kinds, at one revision while writes continue.
      const keys: string[] = [];
      let after: string | undefined;
      let remaining = -1;
      for (let page = 0; remaining !== 0; page++) {
        const r = await store.list("/registry/", { limit: 7, startAfter: after, revision: mid });
        keys.push(...r.items.map((kv) => kv.key));
        after = keys[keys.length - 1];
        remaining = r.remaining;
        expect(remaining).toBe(atMid.items.length - keys.length);
        await store.create(lease(`late${page}`), "x");
        await store.create(`/registry/pods/default/late${page}`, "x");
      }
      expect(keys).toEqual(atMid.items.map((kv) => kv.key));
    } finally {
      await store.close();
      dir.remove();
    }
  });

  test("have the same conflict semantics", async () => {
    const dir = tempDir();
    const store = openSqliteStore(join(dir.path, "state.db"));
    try {
      const a = await store.create(lease("a"), "1");
      await rejects(store.create(lease("a"), "2"), KeyExistsError);
      const b = await store.update(lease("a"), "2", a.modRevision);
      expect(b.createRevision).toBe(a.modRevision);
      const stale = await rejects(store.update(lease("a"), "3", a.modRevision), ConflictError);
      expect(stale.current).toEqual(b);
      await rejects(store.delete(lease("a"), a.modRevision), ConflictError);
      await rejects(store.update(lease("missing"), "x", 1), NotFoundError);
      await rejects(store.delete(lease("missing")), NotFoundError);

      // Many renewers of one Lease at once: exactly one wins each revision.
      let cur = b;
      let wins = 0;
      let conflicts = 0;
      for (let round = 0; round < 5; round++) {
        const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.update(lease("a"), `r${round}-${i}`, cur.modRevision)));
        const ok = results.filter((r) => r.status === "fulfilled");
        expect(ok.length).toBe(1);
        wins++;
        conflicts += results.filter((r) => r.status === "rejected" && r.reason instanceof ConflictError).length;
        cur = (ok[0] as PromiseFulfilledResult<KeyValue>).value;
      }
      expect([wins, conflicts]).toEqual([5, 45]);
      expect((await store.get(lease("a"))).kv).toEqual(cur);
      const gone = await store.delete(lease("a"), cur.modRevision);
      expect(gone.value).toBe(cur.value);
      expect((await store.create(lease("a"), "new")).createRevision).toBeGreaterThan(gone.modRevision);
    } finally {
      await store.close();
      dir.remove();
    }
  });

  test("turned off with volatilePrefixes: [] — Leases are durable and survive a reopen", async () => {
    const dir = tempDir();
    const path = join(dir.path, "state.db");
    try {
      let store = openSqliteStore(path, { volatilePrefixes: [] });
      const kv = await store.create(lease("a"), "kept");
      expect(rowCount(path)).toBe(1);
      await store.close();
      store = openSqliteStore(path, { volatilePrefixes: [] });
      expect((await store.get(lease("a"))).kv).toEqual(kv);
      await store.close();
    } finally {
      dir.remove();
    }
  });

  test("Leases that an older kubun stored durably move to memory once, keeping their revisions", async () => {
    const dir = tempDir();
    const path = join(dir.path, "state.db");
    try {
      let store: Store = openSqliteStore(path, { volatilePrefixes: [] });
      let a = await store.create(lease("a"), "1");
      a = await store.update(lease("a"), "2", a.modRevision);
      const b = await store.create(lease("b"), "1");
      await store.delete(lease("b"));
      const pod = await store.create("/registry/pods/default/p", "durable");
      await store.close();

      store = await openStore({ dataDir: dir.path, sqlitePath: path });
      expect(rowCount(path)).toBe(1); // only the pod is left in the file
      expect((await store.get(lease("a"))).kv).toEqual(a);
      expect((await store.get(lease("b"))).kv).toBeUndefined();
      expect((await store.list(LEASES)).items).toEqual([a]);
      const a2 = await store.update(lease("a"), "3", a.modRevision);
      expect(a2.modRevision).toBeGreaterThan(pod.modRevision);
      expect(a2.createRevision).toBe(a.createRevision);
      // Their history did not come along: reads and watches from before this open are refused.
      await rejects(store.list("/registry/", { revision: b.modRevision }), CompactedError);
      await store.close();

      store = openSqliteStore(path);
      expect((await store.get(lease("a"))).kv).toBeUndefined();
      expect((await store.get("/registry/pods/default/p")).kv).toEqual(pod);
      await store.close();
    } finally {
      dir.remove();
    }
  });

  test("TTL'd volatile keys read as absent once expired and are swept with a DELETE", async () => {
    const dir = tempDir();
    const store = openSqliteStore(join(dir.path, "state.db"));
    try {
      const start = (await store.create("/registry/first", "x")).modRevision;
      const kv = await store.create(lease("ttl"), "v", 0.2);
      expect(kv.expiresAt).toBeDefined();
      const events = await collect(store, LEASES, start, (evs) => evs.some((e) => e.type === "DELETE"));
      expect(events.map((e) => e.type)).toEqual(["PUT", "DELETE"]);
      expect((await store.get(lease("ttl"))).kv).toBeUndefined();
    } finally {
      await store.close();
      dir.remove();
    }
  });
});

describe("compaction with volatile keys", () => {
  test("durable compaction keeps volatile history above the watermark, and the reverse", async () => {
    const dir = tempDir();
    const store = openSqliteStore(join(dir.path, "state.db"));
    try {
      let l = await store.create(lease("a"), "l1");
      let p = await store.create("/registry/pods/default/p", "p1");
      const r1 = await store.currentRevision();
      l = await store.update(lease("a"), "l2", l.modRevision);
      p = await store.update("/registry/pods/default/p", "p2", p.modRevision);
      const r2 = await store.currentRevision();
      l = await store.update(lease("a"), "l3", l.modRevision);
      p = await store.update("/registry/pods/default/p", "p3", p.modRevision);

      // Compact to a durable revision: volatile values as of it and after it are still readable.
      await store.compact(r1);
      expect(await store.compactRevision()).toBe(r1);
      expect((await store.list("/registry/", { revision: r1 })).items.map((kv) => kv.value)).toEqual(["l1", "p1"]);
      expect((await store.list("/registry/", { revision: r2 })).items.map((kv) => kv.value)).toEqual(["l2", "p2"]);
      await rejects(store.list("/registry/", { revision: r1 - 1 }), CompactedError);
      const after = await collect(store, "/registry/", r1, (evs) => evs.length >= 4);
      expect(after.map((e) => e.kv.value)).toEqual(["l2", "p2", "l3", "p3"]);

      // Compact to a volatile revision: durable history above it still readable.
      const lr = (await store.update(lease("a"), "l4", l.modRevision)).modRevision;
      p = await store.update("/registry/pods/default/p", "p4", p.modRevision);
      await store.compact(lr);
      expect(await store.compactRevision()).toBe(lr);
      expect((await store.list("/registry/", { revision: lr })).items.map((kv) => kv.value)).toEqual(["l4", "p3"]);
      await rejects(collect(store, "/registry/", lr - 1, () => true), CompactedError);
      expect((await collect(store, "/registry/", lr, (evs) => evs.length >= 1)).map((e) => e.kv.value)).toEqual(["p4"]);
    } finally {
      await store.close();
      dir.remove();
    }
  });

  test("background compaction bounds volatile history in memory without writing to the file", async () => {
    const dir = tempDir();
    const path = join(dir.path, "state.db");
    const store = openSqliteStore(path, { compaction: { retainRevisions: 10, retainMs: 3_600_000, intervalMs: 3_600_000 } });
    try {
      await store.create("/registry/pods/default/p", "durable");
      let kv = await store.create(lease("a"), "0");
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.create(lease(`gone${i}`), "x")));
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.delete(lease(`gone${i}`))));
      const before = fileState(path);
      for (let i = 1; i <= 100; i++) kv = await store.update(lease("a"), String(i), kv.modRevision);
      expect(store.volatileKeyCount).toBe(21);
      await store.compactNow();
      const current = await store.currentRevision();
      expect(await store.compactRevision()).toBe(current - 10);
      // Deleted Leases whose tombstones were compacted are forgotten; the live one keeps its newest value.
      expect(store.volatileKeyCount).toBe(1);
      expect((await store.get(lease("a"))).kv?.value).toBe("100");
      expect((await store.list(LEASES, { revision: current - 10 })).items.map((kv) => kv.value)).toEqual(["90"]);
      await rejects(store.list(LEASES, { revision: current - 11 }), CompactedError);
      expect(fileState(path)).toBe(before);
    } finally {
      await store.close();
      dir.remove();
    }
  });
});

describe("restarts", () => {
  test("after a reopen Leases are gone, revisions are higher than any before, and older watches get CompactedError", async () => {
    const dir = tempDir();
    const path = join(dir.path, "state.db");
    try {
      let store = openSqliteStore(path);
      const pod = await store.create("/registry/pods/default/p", "durable");
      let l = await store.create(lease("a"), "0");
      for (let i = 1; i <= 50; i++) l = await store.update(lease("a"), String(i), l.modRevision);
      const highest = await store.currentRevision();
      expect(highest).toBe(l.modRevision);
      await store.close();

      store = openSqliteStore(path);
      try {
        expect((await store.get(lease("a"))).kv).toBeUndefined();
        expect((await store.get("/registry/pods/default/p")).kv).toEqual(pod);
        expect(await store.currentRevision()).toBeGreaterThanOrEqual(highest);
        expect((await store.create(lease("a"), "recreated")).modRevision).toBeGreaterThan(highest);
        expect((await store.create("/registry/pods/default/q", "x")).modRevision).toBeGreaterThan(highest);
        // The Lease events before the restart are lost: watching or listing from there is refused, not silently short.
        await rejects(collect(store, "/registry/", pod.modRevision, () => true), CompactedError);
        await rejects(store.list("/registry/", { revision: highest }), CompactedError);
      } finally {
        await store.close();
      }
    } finally {
      dir.remove();
    }
  });

  test("a process that dies without closing: the next one still hands out higher revisions", async () => {
    const dir = tempDir();
    const path = join(dir.path, "state.db");
    // Floor raised every 20 revisions, so this run crosses it several times.
    const abandoned = openSqliteStore(path, { revisionFloorStep: 20 });
    try {
      let l = await abandoned.create(lease("a"), "0");
      for (let i = 1; i <= 75; i++) l = await abandoned.update(lease("a"), String(i), l.modRevision);
      // Not closed (its memory is simply dropped, as in a crash); another store opens the file.
      const store = openSqliteStore(path);
      try {
        expect((await store.get(lease("a"))).kv).toBeUndefined();
        expect((await store.create("/registry/pods/default/p", "x")).modRevision).toBeGreaterThan(l.modRevision);
        expect((await store.create(lease("b"), "x")).modRevision).toBeGreaterThan(l.modRevision);
      } finally {
        await store.close();
      }
    } finally {
      await abandoned.close();
      dir.remove();
    }
  });

  test("kill -9: every acknowledged durable key survives, Leases are gone, revisions stay above all acknowledged", async () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, "state.db");
      // A small floor step, so the floor is raised many times while the child runs and the kill may land near one.
      const child = Bun.spawn([process.execPath, join(FIXTURES, "lease-writer.ts"), path, "37"], { stdout: "pipe", stderr: "inherit" });
      const durable = new Map<string, number>();
      let highest = 0;
      let volatile = 0;
      const decoder = new TextDecoder();
      let buf = "";
      const reader = child.stdout.getReader();
      while (durable.size < 150 || volatile < 300) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const [tag, kind, key, rev] = buf.slice(0, nl).split(" ");
          buf = buf.slice(nl + 1);
          if (tag !== "ACK") continue;
          highest = Math.max(highest, Number(rev));
          if (kind === "D") durable.set(key!, Number(rev));
          else volatile++;
        }
      }
      child.kill("SIGKILL");
      await child.exited;
      expect(child.signalCode).toBe("SIGKILL");
      expect(durable.size).toBeGreaterThanOrEqual(150);

      const store = openSqliteStore(path);
      try {
        for (const [key, rev] of durable) {
          const { kv } = await store.get(key);
          expect(kv?.value).toBe(valueFor(key));
          expect(kv?.modRevision).toBe(rev);
        }
        expect((await store.list(LEASES)).items).toEqual([]);
        expect(await store.compactRevision()).toBeGreaterThanOrEqual(highest);
        await rejects(collect(store, "/registry/", highest, () => true), CompactedError);
        expect((await store.create(lease("a"), "recreated")).modRevision).toBeGreaterThan(highest);
        expect((await store.create("/registry/crash/after", "ok")).modRevision).toBeGreaterThan(highest);
      } finally {
        await store.close();
      }
    } finally {
      dir.remove();
    }
  });
});

describe("a second process on the same file", () => {
  test("does not see this process's Leases; durable keys from both stay consistent and watchers never miss silently", async () => {
    const dir = tempDir();
    const path = join(dir.path, "state.db");
    const store = openSqliteStore(path, { pollMs: 50 });
    try {
      let l = await store.create(lease("here"), "0");
      const start = await store.currentRevision();
      // This watcher either sees all 30 keys of the other process in order, or is ended with CompactedError.
      const watched = collect(store, "/registry/other/", start, (evs) => evs.length >= 30).then(
        (evs) => ({ evs, err: undefined as unknown }),
        (err) => ({ evs: [] as WatchEvent[], err }),
      );
      const child = Bun.spawn([process.execPath, join(FIXTURES, "writer.ts"), path, "/registry/other/", "30", "3"], {
        stdout: "ignore",
        stderr: "inherit",
      });
      let renewals = 0;
      while (child.exitCode === null) {
        l = await store.update(lease("here"), String(++renewals), l.modRevision);
        await Bun.sleep(2);
      }
      expect(await child.exited).toBe(0);
      await until(async () => (await store.list("/registry/other/")).items.length === 30);
      const { evs, err } = await watched;
      if (process.env.DEBUG_VOLATILE) console.log("watcher outcome", err ? String(err) : `${evs.length} events`);
      if (err) expect(err).toBeInstanceOf(CompactedError);
      else {
        expect(new Set(evs.map((e) => e.kv.key)).size).toBe(30);
        expect(revs(evs)).toEqual([...revs(evs)].sort((a, b) => a - b));
      }
      expect((await store.get(lease("here"))).kv?.value).toBe(String(renewals));
      // The other process's view: its own keys, none of ours.
      const other = openSqliteStore(path);
      try {
        expect((await other.list("/registry/other/")).items.length).toBe(30);
        expect((await other.get(lease("here"))).kv).toBeUndefined();
      } finally {
        await other.close();
      }
    } finally {
      await store.close();
      dir.remove();
    }
  });
});
