// etcd-specific behaviour: the background compaction loop (what kube-apiserver does for its etcd).
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { EtcdStore } from "../../internal/store/etcd/index.ts";
import { openStore } from "../../internal/store/index.ts";
import { CompactedError } from "../../internal/store/types.ts";
import { ETCD_BIN, type EtcdServer, startEtcd } from "./fixtures/etcd.ts";
import { rejects, tempDir } from "./helpers.ts";

setDefaultTimeout(30_000);

const hasEtcd = existsSync(ETCD_BIN);
let server: EtcdServer;
beforeAll(async () => {
  if (hasEtcd) server = await startEtcd();
});
afterAll(async () => {
  await server?.stop();
});

test.skipIf(!hasEtcd)("the background loop compacts to the revision seen one interval earlier", async () => {
  const store = new EtcdStore([server.endpoint], { compactIntervalMs: 100 });
  try {
    let kv = await store.create("/registry/bg/a", "0");
    const first = kv.modRevision;
    for (let i = 1; i <= 5; i++) kv = await store.update(kv.key, String(i), kv.modRevision);
    const deadline = Date.now() + 15_000;
    while ((await store.compactRevision()) < kv.modRevision && Date.now() < deadline) await Bun.sleep(50);
    expect(await store.compactRevision()).toBeGreaterThanOrEqual(kv.modRevision);
    await rejects(store.list("/registry/bg/", { revision: first }), CompactedError);
    expect((await store.get(kv.key)).kv?.value).toBe("5");
  } finally {
    await store.close();
  }
});

test.skipIf(!hasEtcd)("openStore uses etcd when endpoints are given", async () => {
  const dir = tempDir();
  try {
    const store = await openStore({ dataDir: dir.path, etcdEndpoints: [server.endpoint] });
    expect(store).toBeInstanceOf(EtcdStore);
    expect((await store.create("/registry/open/x", "1")).value).toBe("1");
    await store.close();
    const err = await openStore({ dataDir: dir.path, etcdEndpoints: ["http://127.0.0.1:1"] }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/not reachable/);
  } finally {
    dir.remove();
  }
});
