// The writer acknowledges a write only after an fsync of the WAL that began after its COMMIT, keeps commit order in
// its answers, tells watchers at COMMIT, and rejects (rather than acknowledges) writes whose fsync failed.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { openSqliteStore, type SqliteStore } from "../../internal/store/sqlite/index.ts";
import { WalFile, type WalSync } from "../../internal/store/sqlite/walsync.ts";
import { tempDir } from "./helpers.ts";

/** A WalSync whose fsyncs finish when the test says so. */
class HeldSync implements WalSync {
  started: ((err: Error | null) => void)[] = [];
  syncNowCalls = 0;
  sync(done: (err: Error | null) => void): void {
    this.started.push(done);
  }
  syncNow(): void {
    this.syncNowCalls++;
  }
  close(): void {}
  finish(i: number, err: Error | null = null): void {
    this.started[i]!(err);
  }
}

const open: { store: SqliteStore; done: () => void }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.store.close();
    o.done();
  }
});

function storeWith(wal: WalSync, volatilePrefixes: string[] = []): SqliteStore {
  const dir = tempDir();
  const store = openSqliteStore(join(dir.path, "state.db"), { walSync: wal, volatilePrefixes });
  open.push({ store, done: () => dir.remove() });
  return store;
}

const turn = () => new Promise((r) => setImmediate(r));

test("a write is acknowledged after the fsync that began after its commit, not at commit", async () => {
  const wal = new HeldSync();
  const store = storeWith(wal);
  const events: string[] = [];
  const ac = new AbortController();
  (async () => {
    for await (const batch of store.watch("/registry/a/", { afterRevision: 0, signal: ac.signal })) for (const e of batch) events.push(e.kv.key);
  })().catch(() => {});
  let acked = false;
  const put = store.create("/registry/a/one", "1").then((kv) => ((acked = true), kv));
  await turn();
  await turn();
  expect(wal.started.length).toBe(1);
  expect(acked).toBe(false);
  // Committed: readable, and watchers were told, while the acknowledgement waits for the disk.
  expect((await store.get("/registry/a/one")).kv?.value).toBe("1");
  await Bun.sleep(20);
  expect(events).toEqual(["/registry/a/one"]);
  expect(acked).toBe(false);
  wal.finish(0);
  expect((await put).value).toBe("1");
  ac.abort();
});

test("batches committed during an fsync wait for the next one, answers in commit order", async () => {
  const wal = new HeldSync();
  const store = storeWith(wal);
  const order: string[] = [];
  const first = store.create("/registry/a/1", "x").then(() => order.push("1"));
  await turn();
  await turn();
  expect(wal.started.length).toBe(1);
  const second = store.create("/registry/a/2", "x").then(() => order.push("2"));
  const third = store.create("/registry/a/3", "x").then(() => order.push("3"));
  await turn();
  await turn();
  // Both committed, but one fsync is running: no second one yet, and nothing answered.
  expect(wal.started.length).toBe(1);
  expect(order).toEqual([]);
  wal.finish(0);
  await first;
  expect(order).toEqual(["1"]);
  expect(wal.started.length).toBe(2);
  wal.finish(1);
  await Promise.all([second, third]);
  expect(order).toEqual(["1", "2", "3"]);
});

test("a failed precondition or a volatile write waits behind pending durable writes, and alone needs no fsync", async () => {
  const wal = new HeldSync();
  const store = storeWith(wal, ["/registry/leases/"]);
  const order: string[] = [];
  const durable = store.create("/registry/a/1", "x").then(() => order.push("durable"));
  await turn();
  await turn();
  const conflict = store.create("/registry/a/1", "y").catch((e) => order.push(`conflict:${e.constructor.name}`));
  const lease = store.create("/registry/leases/n1", "l").then(() => order.push("lease"));
  await turn();
  await turn();
  expect(order).toEqual([]);
  wal.finish(0);
  await durable;
  wal.finish(1);
  await Promise.all([conflict, lease]);
  expect(order).toEqual(["durable", "conflict:KeyExistsError", "lease"]);
  // Nothing pending: a volatile write is answered without an fsync.
  const n = wal.started.length;
  await store.update("/registry/leases/n1", "l2", (await store.get("/registry/leases/n1")).kv!.modRevision);
  expect(wal.started.length).toBe(n);
});

test("a failed fsync rejects the writes it covered instead of acknowledging them", async () => {
  const wal = new HeldSync();
  const store = storeWith(wal);
  const put = store.create("/registry/a/1", "x");
  await turn();
  await turn();
  wal.finish(0, Object.assign(new Error("EIO: i/o error"), { code: "EIO" }));
  await expect(put).rejects.toThrow(/could not be made durable: EIO/);
});

test("close makes pending writes durable at once and answers them", async () => {
  const wal = new HeldSync();
  const dir = tempDir();
  const store = openSqliteStore(join(dir.path, "state.db"), { walSync: wal });
  const put = store.create("/registry/a/1", "x");
  await turn();
  await turn();
  await store.close();
  expect(wal.syncNowCalls).toBe(1);
  expect((await put).value).toBe("x");
  dir.remove();
});

test("the real WAL file: writes are acknowledged and survive a reopen; a replaced WAL is reopened", async () => {
  const dir = tempDir();
  const path = join(dir.path, "state.db");
  let store = openSqliteStore(path);
  await Promise.all(Array.from({ length: 50 }, (_, i) => store.create(`/registry/a/${i}`, `v${i}`)));
  await store.close();
  store = openSqliteStore(path);
  expect((await store.list("/registry/a/")).items.length).toBe(50);
  await store.close();
  // A WalFile whose file went away (checkpointed and removed) has nothing to sync.
  const gone = new WalFile(join(dir.path, "nothing-wal"));
  await new Promise<void>((res, rej) => gone.sync((e) => (e ? rej(e) : res())));
  gone.close();
  dir.remove();
});
