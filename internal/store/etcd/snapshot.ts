// Snapshot of an etcd datastore (`kubun snapshot save` with --datastore-endpoint): etcd's own Maintenance.Snapshot
// stream, written to a file exactly as `etcdctl snapshot save` writes it, so `etcdutl snapshot restore` restores it.
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { Etcd3 } from "etcd3";
import { StoreError } from "../types.ts";

export async function saveEtcdSnapshot(client: Etcd3, outPath: string): Promise<{ revision: number; size: number }> {
  mkdirSync(dirname(outPath), { recursive: true, mode: 0o700 });
  const tmp = `${outPath}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w", 0o600);
  let revision = 0;
  try {
    const stream = await client.maintenance.snapshot();
    await new Promise<void>((resolve, reject) => {
      stream.on("data", (chunk) => {
        // The first header is the point in time of the snapshot.
        if (!revision && chunk.header?.revision) revision = Number(chunk.header.revision);
        if (chunk.blob?.length) writeSync(fd, chunk.blob);
      });
      stream.on("end", () => resolve());
      stream.on("error", (e) => reject(e));
    });
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw new StoreError(`etcd snapshot failed: ${(e as Error).message}`);
  }
  closeSync(fd);
  chmodSync(tmp, 0o600);
  renameSync(tmp, outPath);
  return { revision, size: statSync(outPath).size };
}
