// Lists at the current revision, and gets of keys under a listed prefix, come from the SQLite store's list cache
// (listcache.ts). It must answer exactly what the log holds: after any mix of creates, updates and deletes, across
// namespaces, for whole lists, namespace lists and pages continued at their revision while other keys change; rows
// another process writes; keys that expire; and key orders where JavaScript's string order is not SQLite's.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { openSqliteStore, type SqliteStore } from "../../internal/store/sqlite/index.ts";
import type { KeyValue } from "../../internal/store/types.ts";
import { tempDir } from "./helpers.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function openAt(path: string, opts: Parameters<typeof openSqliteStore>[1] = {}): SqliteStore {
  const store = openSqliteStore(path, { volatilePrefixes: [], ...opts });
  cleanups.push(() => store.close());
  return store;
}

function newStore(opts: Parameters<typeof openSqliteStore>[1] = {}): { store: SqliteStore; path: string } {
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  const path = join(dir.path, "state.db");
  return { store: openAt(path, opts), path };
}

const view = (kvs: KeyValue[]) => kvs.map((kv) => `${kv.key}=${kv.value}@${kv.modRevision}`);

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

/** Every page of prefix at the first page's revision, `limit` at a time; `between` runs before each next page. */
async function pages(store: SqliteStore, prefix: string, limit: number, between: () => Promise<void>): Promise<{ items: KeyValue[]; revision: number }> {
  const first = await store.list(prefix, { limit });
  const items = [...first.items];
  let last = first;
  while (last.remaining > 0) {
    await between();
    last = await store.list(prefix, { limit, startAfter: items[items.length - 1]!.key, revision: first.revision });
    expect(last.revision).toBe(first.revision);
    items.push(...last.items);
  }
  return { items, revision: first.revision };
}

test("lists follow random creates, updates and deletes exactly, whole, by namespace and paged at a revision", async () => {
  const { store } = newStore();
  const live = new Map<string, KeyValue>();
  const seen = new Set<string>();
  const next = rng(7);
  const namespaces = ["a", "a-b", "b"];
  const keyFor = () => {
    const r = next();
    return r < 0.15 ? `/registry/nodes/n${Math.floor(next() * 20)}` : `/registry/pods/${namespaces[Math.floor(next() * 3)]}/p${Math.floor(next() * 40)}`;
  };
  const op = async (key = keyFor()) => {
    const cur = live.get(key);
    if (!cur) live.set(key, await store.create(key, `{"v":${next()}}`));
    else if (next() < 0.3) {
      await store.delete(key, cur.modRevision);
      live.delete(key);
    } else live.set(key, await store.update(key, `{"v":${next()}}`, cur.modRevision));
  };
  const expected = (prefix: string) => view([...live.values()].filter((kv) => kv.key.startsWith(prefix)).sort((x, y) => (x.key < y.key ? -1 : 1)));
  for (let round = 0; round < 12; round++) {
    // Concurrent writes (of distinct keys) share a commit; the lists below must see every one of them.
    const keys = new Set<string>();
    while (keys.size < 25) keys.add(keyFor());
    await Promise.all([...keys].map((k) => op(k)));
    for (const k of keys) seen.add(k);
    for (const prefix of ["/registry/pods/", "/registry/pods/a/", "/registry/pods/a-b/", "/registry/nodes/"]) {
      expect(view((await store.list(prefix)).items)).toEqual(expected(prefix));
    }
    // Gets (now from the cache): every key written so far, live or deleted, at a revision that covers it.
    for (const key of seen) {
      const got = await store.get(key);
      const want = live.get(key);
      expect(got.kv ? view([got.kv]) : []).toEqual(want ? view([want]) : []);
      expect(got.revision).toBeGreaterThanOrEqual(want?.modRevision ?? 0);
    }
    // A paged list at one revision: writes under other prefixes between pages leave it on the cache, writes under
    // its own prefix send later pages to the log at the old revision; either way it is the state at that revision.
    const snapshot = expected("/registry/pods/");
    const paged = await pages(store, "/registry/pods/", 7, async () => {
      if (next() < 0.5) {
        const node = `/registry/nodes/extra${round}-${Math.floor(next() * 1e6)}`;
        live.set(node, await store.create(node, "{}"));
      } else await op();
    });
    expect(view(paged.items)).toEqual(snapshot);
  }
  expect(live.size).toBeGreaterThan(30);
});

test("rows another process writes are listed and got (the cache is dropped and filled again)", async () => {
  const { store, path } = newStore({ pollMs: 60_000 });
  await store.create("/registry/pods/ns/a", "1");
  expect((await store.list("/registry/pods/ns/")).items.map((kv) => kv.key)).toEqual(["/registry/pods/ns/a"]);
  const other = openAt(path);
  const b = await other.create("/registry/pods/ns/b", "2");
  await other.delete("/registry/pods/ns/a");
  // A get, before any list notices them: the key the other process deleted is gone, the one it made is there.
  expect((await store.get("/registry/pods/ns/a")).kv).toBeUndefined();
  expect(view([(await store.get("/registry/pods/ns/b")).kv!])).toEqual(view([b]));
  const listed = await store.list("/registry/pods/ns/");
  expect(view(listed.items)).toEqual(view([b]));
  expect(listed.revision).toBeGreaterThanOrEqual(b.modRevision);
  // And writes of this process after that are followed again.
  const c = await store.create("/registry/pods/ns/c", "3");
  expect(view((await store.list("/registry/pods/")).items)).toEqual(view([b, c]));
});

test("a key whose TTL ran out is neither listed nor got, even before the sweeper deletes it", async () => {
  const { store } = newStore();
  await store.create("/registry/events/ns/keep", "{}");
  await store.create("/registry/events/ns/short", "{}", 1);
  expect((await store.list("/registry/events/ns/")).items.map((kv) => kv.key)).toEqual(["/registry/events/ns/keep", "/registry/events/ns/short"]);
  const realNow = Date.now;
  Date.now = () => realNow() + 5_000;
  try {
    const res = await store.list("/registry/events/ns/");
    expect(res.items.map((kv) => kv.key)).toEqual(["/registry/events/ns/keep"]);
    expect((await store.list("/registry/events/ns/", { limit: 1 })).remaining).toBe(0);
    expect((await store.get("/registry/events/ns/short")).kv).toBeUndefined();
    expect((await store.get("/registry/events/ns/keep")).kv?.value).toBe("{}");
  } finally {
    Date.now = realNow;
  }
});

test("keys are listed in SQLite's byte order where JavaScript's order differs, and around subdirectories", async () => {
  const { store } = newStore();
  // UTF-16 puts the surrogate pair of U+1F600 before U+FF01; UTF-8 bytes (SQLite) put U+FF01 first.
  await store.create("/registry/x/\u{1F600}", "1");
  await store.create("/registry/x/\uFF01", "2");
  await store.create("/registry/x/a", "3");
  expect((await store.list("/registry/x/")).items.map((kv) => kv.key)).toEqual(["/registry/x/a", "/registry/x/\uFF01", "/registry/x/\u{1F600}"]);
  // A directory with keys beside a subdirectory interleaves them in key order.
  for (const k of ["/registry/m/z", "/registry/m/b/c", "/registry/m/a", "/registry/m/b0"]) await store.create(k, "{}");
  const order = ["/registry/m/a", "/registry/m/b/c", "/registry/m/b0", "/registry/m/z"];
  expect((await store.list("/registry/m/")).items.map((kv) => kv.key)).toEqual(order);
  expect((await store.list("/registry/m/")).items.map((kv) => kv.key)).toEqual(order);
});

test("a key deleted and made again is listed once, with its new value", async () => {
  const { store } = newStore();
  await store.create("/registry/cm/ns/a", "old");
  await store.create("/registry/cm/ns/b", "b");
  expect((await store.list("/registry/cm/ns/")).items).toHaveLength(2);
  await store.delete("/registry/cm/ns/a");
  const again = await store.create("/registry/cm/ns/a", "new");
  const listed = await store.list("/registry/cm/ns/");
  expect(listed.items.map((kv) => [kv.key, kv.value, kv.createRevision])).toEqual([
    ["/registry/cm/ns/a", "new", again.createRevision],
    ["/registry/cm/ns/b", "b", listed.items[1]!.createRevision],
  ]);
});
