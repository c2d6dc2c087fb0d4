// kubun snapshot save with --datastore-endpoint: etcd's own snapshot (Maintenance.Snapshot), complete and intact
// (etcd ends the stream with the sha256 of what precedes it); restore is left to etcdutl, with a clear error.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { openStore, type Store } from "../../internal/store/index.ts";
import { startEtcd, type EtcdServer } from "../store/fixtures/etcd.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { kubun } from "./cli.ts";

let etcd: EtcdServer;
let store: Store;
const storeDir = tempDir("kubun-etcd-snap-");
const dataDir = tempDir("kubun-etcd-snapdir-");
beforeAll(async () => {
  etcd = await startEtcd();
  store = await openStore({ dataDir: storeDir, etcdEndpoints: [etcd.endpoint] });
});
afterAll(async () => {
  await store?.close();
  await etcd?.stop();
  rmSync(storeDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

test("save streams etcd's snapshot; ls lists it; restore points to etcdutl", async () => {
  for (let i = 0; i < 50; i++) await store.create(`/registry/configmaps/default/cm-${i}`, JSON.stringify({ i, pad: "x".repeat(500) }));
  const saved = await kubun(["snapshot", "save", "--datastore-endpoint", etcd.endpoint, "--data-dir", dataDir, "--node-name", "cp-1"]);
  expect(saved.stderr).toBe("");
  expect(saved.code).toBe(0);
  const m = /^Snapshot (on-demand-cp-1-\d+) saved to (\S+) \((\d+) bytes, revision (\d+)\)/.exec(saved.stdout)!;
  expect(m).toBeTruthy();
  expect(Number(m[4])).toBeGreaterThanOrEqual(50);
  const file = readFileSync(m[2]!);
  expect(file.length).toBe(Number(m[3]));
  // The whole stream arrived: its last 32 bytes are the sha256 of the rest (what etcdutl verifies on restore).
  const body = file.subarray(0, file.length - 32);
  expect(Buffer.from(new Bun.CryptoHasher("sha256").update(body).digest()).equals(file.subarray(file.length - 32))).toBe(true);
  // A bbolt file: the meta page's magic 0xED0CDAED.
  expect(body.readUInt32LE(16)).toBe(0xed0cdaed);
  // The values are in it.
  expect(body.includes(Buffer.from("/registry/configmaps/default/cm-49"))).toBe(true);

  const ls = JSON.parse((await kubun(["snapshot", "ls", "--data-dir", dataDir, "-o", "json"])).stdout);
  expect(ls.map((x: any) => x.name)).toEqual([m[1]]);
  const restore = await kubun(["snapshot", "restore", m[1]!, "--datastore-endpoint", etcd.endpoint, "--data-dir", dataDir]);
  expect(restore.code).toBe(1);
  expect(restore.stderr).toBe("kubun: with --datastore-endpoint (etcd) restore the snapshot with etcdutl: etcdutl snapshot restore FILE --data-dir NEW_ETCD_DIR\n");

  const down = await kubun(["snapshot", "save", "--datastore-endpoint", "http://127.0.0.1:1", "--data-dir", dataDir]);
  expect(down.code).toBe(1);
  expect(down.stderr).toMatch(/^kubun: etcd at http:\/\/127.0.0.1:1 is not reachable/);
}, 60_000);
