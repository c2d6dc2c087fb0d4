// store.expireNow(): one TTL sweep on demand (bench/storegrowth.ts drives a simulated clock with it). It must do what
// the expiry timer does: delete exactly the keys whose TTL has passed, through the log (watchers see DELETE), and
// leave live keys alone.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { openSqliteStore, type SqliteStore } from "../../internal/store/sqlite/index.ts";
import { collect, tempDir } from "./helpers.ts";

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

test("expireNow deletes due TTL keys through the log and keeps the others", async () => {
  const dir = tempDir();
  const realNow = Date.now;
  let store: SqliteStore | undefined;
  cleanup = async () => {
    Date.now = realNow;
    await store?.close();
    dir.remove();
  };
  store = openSqliteStore(join(dir.path, "state.db"));
  const start = realNow();
  const old = await store.create("/registry/events/default/old", '{"n":1}', 3600);
  await store.create("/registry/events/default/young", '{"n":2}', 7200);
  await store.create("/registry/configmaps/default/kept", '{"n":3}');

  // 90 simulated minutes later only the 1 h event is due; the expiry timer (armed for real time) has not fired.
  Date.now = () => start + 90 * 60_000;
  expect((await store.get("/registry/events/default/old")).kv).toBeUndefined(); // reads already hide it
  await store.expireNow();

  const events = await collect(store, "/registry/events/", old.modRevision, (es) => es.some((e) => e.type === "DELETE"));
  const deletes = events.filter((e) => e.type === "DELETE");
  expect(deletes.map((e) => e.kv.key)).toEqual(["/registry/events/default/old"]);
  expect((await store.get("/registry/events/default/young")).kv?.value).toBe('{"n":2}');
  expect((await store.get("/registry/configmaps/default/kept")).kv?.value).toBe('{"n":3}');
  // The deleted key is gone from lists, and a second sweep has nothing to do (no new revision).
  expect((await store.list("/registry/events/")).items.map((kv) => kv.key)).toEqual(["/registry/events/default/young"]);
  const rev = await store.currentRevision();
  await store.expireNow();
  expect(await store.currentRevision()).toBe(rev);
});

test("hours of expired events leave no rows behind once compaction passes", async () => {
  const { Database } = await import("bun:sqlite");
  const dir = tempDir();
  const realNow = Date.now;
  let store: SqliteStore | undefined;
  let reader: InstanceType<typeof Database> | undefined;
  cleanup = async () => {
    Date.now = realNow;
    reader?.close();
    await store?.close();
    dir.remove();
  };
  const path = join(dir.path, "state.db");
  store = openSqliteStore(path);
  let now = realNow();
  Date.now = () => now;
  // Events with the API server's 1 h TTL, some updated (count bumps), over several simulated hours.
  for (let hour = 0; hour < 6; hour++) {
    for (let i = 0; i < 20; i++) {
      const kv = await store.create(`/registry/events/default/e-${hour}-${i}`, '{"count":1}', 3600);
      if (i % 3 === 0) await store.update(kv.key, '{"count":2}', kv.modRevision, 3600);
    }
    now += 3600_000;
    await store.expireNow();
    await store.compactNow();
  }
  // Past the 5-minute retention: the last pass may drop every tombstone and superseded row.
  now += 2 * 3600_000;
  await store.expireNow();
  await store.compactNow();
  now += 10 * 60_000;
  await store.compactNow();
  reader = new Database(path, { readonly: true });
  const count = (where: string) => reader!.query<{ n: number }, []>(`SELECT count(*) AS n FROM kine WHERE name LIKE '/registry/events/%' ${where}`).get()!.n;
  // Only the log's newest row may stay (compaction never deletes it: it carries the current revision), a tombstone.
  expect(count("")).toBeLessThanOrEqual(1);
  expect(count("AND deleted = 0")).toBe(0);
  expect((await store.list("/registry/events/")).items).toEqual([]);
});
