// SQLite-specific behaviour: migrations, several processes on one file, compaction policy, idle disk writes,
// TTL reads before the sweep, slow and many watchers.
import { Database } from "bun:sqlite";
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import journal from "../../migrations/meta/_journal.json";
import { defaultSqlitePath, openStore } from "../../internal/store/index.ts";
import { embeddedMigrations, embeddedSQL, migrate } from "../../internal/store/sqlite/migrations.ts";
import { openSqliteStore } from "../../internal/store/sqlite/index.ts";
import { CompactedError, ConflictError, type WatchEvent } from "../../internal/store/types.ts";
import { collect, fileState, rejects, rowCount, tempDir, until } from "./helpers.ts";

// Real processes and fsyncs on a shared CI machine: allow slow runs (the tests check outcomes, not speed).
setDefaultTimeout(30_000);

const FIXTURES = join(import.meta.dir, "fixtures");

describe("migrations", () => {
  test("every migration of the journal is embedded, identical to its file", () => {
    expect(Object.keys(embeddedSQL).sort()).toEqual(journal.entries.map((e) => e.tag).sort());
    for (const e of journal.entries) {
      expect(embeddedSQL[e.tag]).toBe(readFileSync(join(import.meta.dir, "../../migrations", `${e.tag}.sql`), "utf8"));
    }
  });

  test("an old data dir is upgraded in place, keeping its data; migrations run once", () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, "state.db");
      const [first] = embeddedMigrations();
      let db = new Database(path);
      expect(migrate(db, [first!])).toEqual([first!.tag]);
      db.run("INSERT INTO kine (name, created, value) VALUES ('/registry/x', 1, 'kept')");
      db.close();

      const later = { tag: "9999_test_upgrade", when: first!.when + 1, hash: "h", statements: ["CREATE INDEX `test_upgrade_idx` ON `kine` (`deleted`)"] };
      db = new Database(path);
      expect(migrate(db, [first!, later])).toEqual([later.tag]);
      expect(migrate(db, [first!, later])).toEqual([]);
      // An older binary (which knows only the first migration) refuses the newer database.
      expect(() => migrate(db, [first!])).toThrow(/newer kubun/);
      expect(db.query("SELECT value FROM kine WHERE name = '/registry/x'").get()).toEqual({ value: "kept" });
      expect(db.query(`SELECT count(*) AS n FROM "__drizzle_migrations"`).get()).toEqual({ n: 2 });
      db.close();
    } finally {
      dir.remove();
    }
  });

  test("a database of the first schema is upgraded by openSqliteStore with its log intact", async () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, "state.db");
      const db = new Database(path);
      migrate(db, embeddedMigrations().slice(0, 1));
      db.run("INSERT INTO kine (name, created, value) VALUES ('/registry/a', 1, 'a1')");
      db.run("INSERT INTO kine (name, created, create_revision, prev_revision, value) VALUES ('/registry/a', 0, 1, 1, 'a2')");
      db.run("INSERT INTO kine (name, created, value) VALUES ('/registry/b', 1, 'b1')");
      db.close();

      const store = openSqliteStore(path);
      try {
        expect(await store.currentRevision()).toBe(3);
        expect((await store.get("/registry/a")).kv).toEqual({ key: "/registry/a", value: "a2", createRevision: 1, modRevision: 2 });
        expect((await store.list("/registry/", { revision: 1 })).items.map((i) => i.value)).toEqual(["a1"]);
        const kv = await store.update("/registry/a", "a3", 2);
        expect(kv.modRevision).toBe(4);
        const events = await collect(store, "/registry/", 1, (evs) => evs.length >= 3);
        expect(events.map((e) => e.kv.value)).toEqual(["a2", "b1", "a3"]);
      } finally {
        await store.close();
      }
      const check = new Database(path, { readonly: true });
      expect(check.query(`SELECT count(*) AS n FROM "__drizzle_migrations"`).get()).toEqual({ n: embeddedMigrations().length });
      check.close();
    } finally {
      dir.remove();
    }
  });

  test("openStore puts the database under <dataDir>/server/db and reopens it with its data", async () => {
    const dir = tempDir();
    try {
      let store = await openStore({ dataDir: dir.path });
      const kv = await store.create("/registry/a", "1");
      await store.close();
      expect(statSync(defaultSqlitePath(dir.path)).isFile()).toBe(true);
      store = await openStore({ dataDir: dir.path });
      expect((await store.get("/registry/a")).kv).toEqual(kv);
      expect(await store.currentRevision()).toBe(kv.modRevision);
      await store.close();
    } finally {
      dir.remove();
    }
  });
});

describe("several processes on one file", () => {
  test("a watcher here sees keys written by another process, in order", async () => {
    const dir = tempDir();
    const path = join(dir.path, "state.db");
    const store = openSqliteStore(path, { pollMs: 100 });
    try {
      const start = await store.currentRevision();
      const events = collect(store, "/registry/other/", start, (evs) => evs.length >= 30);
      const child = Bun.spawn([process.execPath, join(FIXTURES, "writer.ts"), path, "/registry/other/", "30", "3"], {
        stdout: "ignore",
        stderr: "inherit",
      });
      expect(await child.exited).toBe(0);
      const got = await events;
      expect(got.length).toBe(30);
      expect(got.every((e) => e.type === "PUT" && e.created)).toBe(true);
      const revs = got.map((e) => e.kv.modRevision);
      expect(revs).toEqual([...revs].sort((a, b) => a - b));
      expect(new Set(got.map((e) => e.kv.key)).size).toBe(30);
      expect((await store.list("/registry/other/")).items.length).toBe(30);
    } finally {
      await store.close();
      dir.remove();
    }
  });

  test("optimistic updates from three processes lose no increment", async () => {
    const dir = tempDir();
    const path = join(dir.path, "state.db");
    const store = openSqliteStore(path);
    try {
      await store.create("/registry/counter", "0");
      const n = 40;
      const children = [0, 1].map(() =>
        Bun.spawn([process.execPath, join(FIXTURES, "counter.ts"), path, "/registry/counter", String(n)], {
          stdout: "ignore",
          stderr: "inherit",
        }),
      );
      for (let i = 0; i < n; i++) {
        for (;;) {
          const { kv } = await store.get("/registry/counter");
          try {
            await store.update("/registry/counter", String(Number(kv!.value) + 1), kv!.modRevision);
            break;
          } catch (e) {
            if (!(e instanceof ConflictError)) throw e;
          }
        }
      }
      for (const c of children) expect(await c.exited).toBe(0);
      expect((await store.get("/registry/counter")).kv?.value).toBe(String(3 * n));
    } finally {
      await store.close();
      dir.remove();
    }
  }, 30_000);
});

describe("compaction", () => {
  test("background pass bounds history by revision count and skips when there is nothing to delete", async () => {
    const dir = tempDir();
    const path = join(dir.path, "state.db");
    const store = openSqliteStore(path, { compaction: { retainRevisions: 10, retainMs: 3_600_000, intervalMs: 3_600_000, batchRevisions: 7 } });
    try {
      let kv = await store.create("/registry/a", "0");
      for (let i = 1; i <= 100; i++) kv = await store.update("/registry/a", String(i), kv.modRevision);
      for (let i = 0; i < 20; i++) await store.create(`/registry/b${i}`, "x");
      for (let i = 0; i < 20; i++) await store.delete(`/registry/b${i}`);
      const current = await store.currentRevision();
      expect(rowCount(path)).toBe(current);

      await store.compactNow();
      expect(await store.compactRevision()).toBe(current - 10);
      // Left: a's live row, the 10 newest revisions (tombstones of b10..b19) and the rows they superseded.
      expect(rowCount(path)).toBe(1 + 10 + 10);
      expect((await store.get("/registry/a")).kv?.value).toBe("100");
      await rejects(store.list("/registry/", { revision: current - 11 }), CompactedError);
      // As of the watermark b10..b19 were still live (their deletes are the 10 newest revisions).
      const atWatermark = await store.list("/registry/", { revision: current - 10 });
      expect(atWatermark.items.map((i) => i.key)).toEqual(["/registry/a", ...Array.from({ length: 10 }, (_, i) => `/registry/b${10 + i}`)]);
      expect((await store.list("/registry/")).items.map((i) => i.key)).toEqual(["/registry/a"]);

      // Nothing new to delete: the pass writes nothing.
      const before = fileState(path);
      await store.compactNow();
      await store.compactNow();
      expect(fileState(path)).toBe(before);
      expect(await store.compactRevision()).toBe(current - 10);
    } finally {
      await store.close();
      dir.remove();
    }
  });

  test("revisions never go backwards, even when compaction removes the newest tombstone's history", async () => {
    const dir = tempDir();
    const store = openSqliteStore(join(dir.path, "state.db"));
    try {
      const a = await store.create("/registry/a", "1");
      const del = await store.delete("/registry/a");
      await store.compact(del.modRevision);
      expect(await store.currentRevision()).toBe(del.modRevision);
      expect((await store.create("/registry/b", "x")).modRevision).toBe(del.modRevision + 1);
      await store.compact(del.modRevision + 1);
      // The tombstone is no longer the newest row, so it went.
      expect((await store.list("/registry/")).items.map((i) => i.key)).toEqual(["/registry/b"]);
      expect((await store.create("/registry/a", "again")).createRevision).toBeGreaterThan(a.modRevision + 1);
    } finally {
      await store.close();
      dir.remove();
    }
  });

  test("history older than retainMs is dropped by the background timer", async () => {
    const dir = tempDir();
    const store = openSqliteStore(join(dir.path, "state.db"), {
      compaction: { retainRevisions: 1_000_000, retainMs: 150, intervalMs: 30 },
    });
    try {
      let kv = await store.create("/registry/a", "0");
      for (let i = 1; i <= 5; i++) kv = await store.update("/registry/a", String(i), kv.modRevision);
      await until(async () => (await store.compactRevision()) >= kv.modRevision - 1);
      expect((await store.get("/registry/a")).kv?.value).toBe("5");
    } finally {
      await store.close();
      dir.remove();
    }
  });

  test("a watcher that lagged behind a compaction gets CompactedError after what it had queued", async () => {
    const dir = tempDir();
    const store = openSqliteStore(join(dir.path, "state.db"));
    try {
      const kv = await store.create("/registry/a", "0");
      const it = store.watch("/registry/", { afterRevision: kv.modRevision })[Symbol.asyncIterator]();
      // More than a watcher may buffer: it stops queueing and would read the rest from the log.
      await Promise.all(Array.from({ length: 2100 }, (_, i) => store.create(`/registry/k${i}`, "v")));
      const current = await store.currentRevision();
      await store.compact(current);
      let received = 0;
      const err = await rejects(
        (async () => {
          for (;;) {
            const r = await it.next();
            if (r.done) break;
            received += r.value.length;
          }
        })(),
        CompactedError,
      );
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThan(2100);
      expect(err.compacted).toBe(current);
    } finally {
      await store.close();
      dir.remove();
    }
  }, 30_000);
});

describe("TTL", () => {
  test("an expired key that is not yet swept reads as absent, and the sweep emits its DELETE", async () => {
    const dir = tempDir();
    const path = join(dir.path, "state.db");
    try {
      let store = openSqliteStore(path);
      const start = (await store.create("/registry/first", "x")).modRevision;
      await store.create("/registry/events/e1", "event", 0.1);
      await store.create("/registry/events/e2", "long", 3600);
      await store.close();
      await Bun.sleep(150);
      // Reopened after the expiry, before its sweeper ran: reads already skip the key.
      store = openSqliteStore(path);
      expect((await store.get("/registry/events/e1")).kv).toBeUndefined();
      expect((await store.list("/registry/events/")).items.map((i) => i.key)).toEqual(["/registry/events/e2"]);
      expect((await store.count("/registry/events/")).count).toBe(1);
      const events = await collect(store, "/registry/events/", start, (evs) => evs.some((e) => e.type === "DELETE"));
      expect(events.map((e) => [e.type, e.kv.key])).toEqual([
        ["PUT", "/registry/events/e1"],
        ["PUT", "/registry/events/e2"],
        ["DELETE", "/registry/events/e1"],
      ]);
      expect(events[1]!.kv.expiresAt).toBeGreaterThan(Date.now());
      await store.close();
    } finally {
      dir.remove();
    }
  });

  test("creating over an expired, unswept key deletes it first", async () => {
    const dir = tempDir();
    const store = openSqliteStore(join(dir.path, "state.db"));
    try {
      const start = (await store.create("/other", "x")).modRevision;
      await store.create("/registry/k", "old", 0.05);
      await Bun.sleep(60);
      const kv = await store.create("/registry/k", "new");
      expect(kv.createRevision).toBe(kv.modRevision);
      const events = await collect(store, "/registry/", start, (evs) => evs.length >= 3);
      expect(events.map((e) => [e.type, e.kv.value])).toEqual([
        ["PUT", "old"],
        ["DELETE", "old"],
        ["PUT", "new"],
      ]);
    } finally {
      await store.close();
      dir.remove();
    }
  });
});

describe("watchers", () => {
  test("a slow watcher reads its backlog from the log and misses nothing", async () => {
    const dir = tempDir();
    const store = openSqliteStore(join(dir.path, "state.db"));
    try {
      const start = await store.currentRevision();
      const it = store.watch("/registry/slow/", { afterRevision: start })[Symbol.asyncIterator]();
      const total = 3000;
      for (let i = 0; i < total; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, j) => store.create(`/registry/slow/${i + j}`, "v")));
        await store.create(`/registry/fast/${i}`, "other prefix");
      }
      const got: WatchEvent[] = [];
      while (got.length < total) {
        const r = await it.next();
        if (r.done) break;
        got.push(...r.value);
      }
      await it.return?.();
      expect(got.length).toBe(total);
      const revs = got.map((e) => e.kv.modRevision);
      for (let i = 1; i < revs.length; i++) expect(revs[i]!).toBeGreaterThan(revs[i - 1]!);
      expect(got.every((e) => e.kv.key.startsWith("/registry/slow/"))).toBe(true);
      expect(store.watcherCount).toBe(0);
    } finally {
      await store.close();
      dir.remove();
    }
  }, 30_000);

  test("hundreds of watchers on different prefixes each get exactly their events", async () => {
    const dir = tempDir();
    const store = openSqliteStore(join(dir.path, "state.db"));
    try {
      const n = 200;
      const start = await store.currentRevision();
      const all = Array.from({ length: n }, (_, i) =>
        collect(store, `/registry/ns${i}/`, start, (evs) => evs.length >= 2),
      );
      expect(store.watcherCount).toBe(n);
      await Promise.all(Array.from({ length: n }, (_, i) => store.create(`/registry/ns${i}/a`, String(i))));
      await Promise.all(Array.from({ length: n }, (_, i) => store.create(`/registry/ns${i}/b`, String(i))));
      const results = await Promise.all(all);
      results.forEach((evs, i) => {
        expect(evs.map((e) => e.kv.key)).toEqual([`/registry/ns${i}/a`, `/registry/ns${i}/b`]);
      });
      await until(() => store.watcherCount === 0);
    } finally {
      await store.close();
      dir.remove();
    }
  });
});

test("an idle store writes nothing to disk", async () => {
  const dir = tempDir();
  const path = join(dir.path, "state.db");
  const store = openSqliteStore(path, { pollMs: 50, compaction: { retainRevisions: 5, retainMs: 100, intervalMs: 50 } });
  try {
    let kv = await store.create("/registry/a", "0");
    for (let i = 1; i <= 20; i++) kv = await store.update("/registry/a", String(i), kv.modRevision);
    const ac = new AbortController();
    const watching = (async () => {
      for await (const _ of store.watch("/registry/", { signal: ac.signal })) {
        // drain
      }
    })();
    // Let the compactor catch up with the writes (by age, all history goes), then nothing changes any more.
    await until(async () => (await store.compactRevision()) === kv.modRevision);
    await Bun.sleep(300);
    const before = fileState(path);
    await Bun.sleep(600); // many poll and compaction ticks
    expect(fileState(path)).toBe(before);
    ac.abort();
    await watching;
  } finally {
    await store.close();
    dir.remove();
  }
});
