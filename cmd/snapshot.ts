// kubun snapshot save|ls|delete|prune|restore: datastore snapshots, as `k3s etcd-snapshot` (work in internal/ops).
import { defineCommand } from "citty";
import { snapshotFlags } from "../internal/config/flags.ts";
import { UsageError, type Settings } from "../internal/config/load.ts";
import type { SnapshotTarget } from "../internal/ops/snapshots.ts";
import { commandFromFlags } from "./command.ts";
import { printRows } from "./output.ts";

function target(s: Settings): SnapshotTarget {
  const endpoints = s["datastore-endpoint"] ? String(s["datastore-endpoint"]).split(",").map((e) => e.trim()) : undefined;
  const file = (k: string) => (s[k] ? String(s[k]) : undefined);
  return {
    dataDir: String(s["data-dir"]),
    dir: file("snapshot-dir"),
    etcdEndpoints: endpoints,
    etcdTLS: endpoints ? { caFile: file("datastore-cafile"), certFile: file("datastore-certfile"), keyFile: file("datastore-keyfile") } : undefined,
  };
}

const ops = () => import("../internal/ops/snapshots.ts");

const save = commandFromFlags("snapshot save", "Take a snapshot of the datastore now (online)", snapshotFlags, async (s) => {
  const { saveSnapshot } = await ops();
  const r = await saveSnapshot(target(s), { name: String(s.name), nodeName: s["node-name"] as string | undefined });
  console.log(`Snapshot ${r.name} saved to ${r.location} (${r.size} bytes, revision ${r.revision})`);
});

const ls = commandFromFlags("snapshot ls", "List snapshots", snapshotFlags, async (s) => {
  const { listSnapshots } = await ops();
  const list = listSnapshots(target(s));
  printRows(String(s.output), list, ["Name", "Location", "Size", "Created"], (x) => [x.name, `file://${x.location}`, String(x.size), x.createdAt]);
});

const del = commandFromFlags("snapshot delete", "Delete snapshots by name", snapshotFlags, async (s, names) => {
  if (names.length === 0) throw new UsageError("kubun snapshot delete: name at least one snapshot (see 'kubun snapshot ls')");
  const { deleteSnapshots } = await ops();
  for (const n of deleteSnapshots(target(s), names)) console.log(`Snapshot ${n} deleted`);
});

const prune = commandFromFlags("snapshot prune", "Delete the oldest snapshots of --name beyond --snapshot-retention", snapshotFlags, async (s) => {
  const { pruneSnapshots } = await ops();
  const gone = pruneSnapshots(target(s), String(s.name), Number(s["snapshot-retention"]));
  for (const n of gone) console.log(`Snapshot ${n} deleted`);
  if (gone.length === 0) console.log("Nothing to prune");
});

const restore = commandFromFlags("snapshot restore", "Restore a snapshot (the server must be stopped)", snapshotFlags, async (s, args) => {
  if (args.length !== 1) throw new UsageError("kubun snapshot restore: give exactly one snapshot (a name from 'kubun snapshot ls' or a path)");
  const { restoreSnapshot } = await ops();
  const r = restoreSnapshot(target(s), args[0]!);
  console.log(`Restored ${r.from} (revision ${r.snapshotRevision}); the replaced database is kept at ${r.oldPath ?? "(none)"}.`);
  console.log("Start the server: clients see a new revision and relist.");
});

export const snapshotCommand = defineCommand({
  meta: { name: "snapshot", description: "Save, list, delete, prune and restore datastore snapshots" },
  subCommands: { save, ls, list: ls, delete: del, rm: del, prune, restore },
});
