// Restore keeps revisions monotonic also when the replaced database handed out volatile (Lease) revisions that
// never reached the file: the next revision is above every one handed out before, and old ones are 410 (compacted).
import { expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { openSqliteStore } from "../../internal/store/sqlite/index.ts";
import { restoreSqliteSnapshot, saveSqliteSnapshot } from "../../internal/store/sqlite/snapshot.ts";
import { CompactedError, DEFAULT_VOLATILE_PREFIXES } from "../../internal/store/index.ts";
import { tempDir } from "../helpers/tmpdir.ts";

const LEASE = `${DEFAULT_VOLATILE_PREFIXES[0]}kube-node-lease/n1`;

test("restore: revisions above the replaced database's, volatile ones included; old revisions compacted", async () => {
  const dir = tempDir("kubun-restore-rev-");
  const db = join(dir, "state.db");
  const snap = join(dir, "snap");
  let store = openSqliteStore(db, { revisionFloorStep: 50 });
  await store.create("/registry/configmaps/default/a", '{"v":1}');
  const lease = await store.create(LEASE, '{"renew":0}');
  const saved = saveSqliteSnapshot(db, snap);
  // After the snapshot: durable changes and many Lease renewals (revisions that never reach the file).
  await store.create("/registry/configmaps/default/b", '{"v":2}');
  let rev = lease.modRevision;
  for (let i = 1; i <= 120; i++) rev = (await store.update(LEASE, `{"renew":${i}}`, rev)).modRevision;
  const before = await store.currentRevision();
  expect(before).toBe(rev);
  await store.close();

  const r = restoreSqliteSnapshot(db, snap);
  expect(r.snapshotRevision).toBe(saved.revision);
  // The replaced database's floor covers the Lease revisions it handed out.
  expect(r.previousRevision).toBeGreaterThanOrEqual(before);

  store = openSqliteStore(db, { revisionFloorStep: 50 });
  try {
    expect((await store.get("/registry/configmaps/default/a")).kv?.value).toBe('{"v":1}');
    expect((await store.get("/registry/configmaps/default/b")).kv).toBeUndefined();
    // Leases are not in snapshots: their holders recreate them.
    expect((await store.get(LEASE)).kv).toBeUndefined();
    expect(await store.currentRevision()).toBeGreaterThan(before);
    const next = await store.create("/registry/configmaps/default/c", "{}");
    expect(next.modRevision).toBeGreaterThan(before + 1);
    // Anything a client saw before the restore is gone: lists and watches from it are compacted (410).
    await expect(store.list("/registry/configmaps/", { revision: before })).rejects.toBeInstanceOf(CompactedError);
    const it = store.watch("/registry/configmaps/", { afterRevision: before })[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toBeInstanceOf(CompactedError);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
