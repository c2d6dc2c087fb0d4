// kubun snapshot: save online against a running server, restore with the server stopped (refused while it runs),
// the cluster back at that point with revisions still monotonic (old resourceVersions get 410 Gone, new ones are
// higher than any seen before); scheduled snapshots with retention; ls, delete, prune.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startServerProcess, type ServerProcess } from "../ha/server-process.ts";
import { tempDir } from "../helpers/tmpdir.ts";
import { pollUntil } from "../helpers/wait.ts";
import { kubun } from "./cli.ts";

const servers: ServerProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const s of servers) await s.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A data dir under .tmp, removed after the file's tests (once its servers are stopped). */
function dataDirFor(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

async function start(dataDir: string, args: string[] = ["--disable-snapshots"]): Promise<ServerProcess> {
  const s = await startServerProcess({ dataDir, args: ["--disable-scheduler", "--disable-controller-manager", ...args] });
  servers.push(s);
  return s;
}

async function json(res: Response): Promise<any> {
  const body = await res.json();
  if (!res.ok && res.status !== 404) throw new Error(`${res.status}: ${JSON.stringify(body)}`);
  return body;
}

function configMap(name: string, data: Record<string, string>) {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data };
}

const CM = "/api/v1/namespaces/default/configmaps";

describe("snapshot save and restore", () => {
  test("save → changes → restore: the changes are gone, the cluster serves, revisions stay monotonic", async () => {
    const dataDir = dataDirFor("kubun-snap-");
    let s = await start(dataDir);
    const post = (o: unknown) => s.api(CM, { method: "POST", body: JSON.stringify(o), headers: { "content-type": "application/json" } });
    expect((await post(configMap("kept", { v: "1" }))).status).toBe(201);

    // Online: the server keeps writing while the snapshot is taken.
    const writes = Promise.all(Array.from({ length: 20 }, (_, i) => post(configMap(`during-${i}`, { i: String(i) }))));
    const saved = await kubun(["snapshot", "save", "--name", "before", "--data-dir", dataDir, "--node-name", "n1"]);
    expect(saved.stderr).toBe("");
    expect(saved.code).toBe(0);
    expect(saved.stdout).toMatch(/^Snapshot before-n1-\d+ saved to .*snapshots\/before-n1-\d+ \(\d+ bytes, revision \d+\)/);
    for (const r of await writes) expect(r.status).toBe(201);
    const snapName = /Snapshot (\S+) saved/.exec(saved.stdout)![1]!;

    const ls = await kubun(["snapshot", "ls", "--data-dir", dataDir, "-o", "json"]);
    expect(ls.code).toBe(0);
    const listed = JSON.parse(ls.stdout) as { name: string; size: number; location: string }[];
    expect(listed.map((x) => x.name)).toEqual([snapName]);
    expect(listed[0]!.location).toBe(join(dataDir, "server", "snapshots", snapName));

    // Changes after the snapshot.
    expect((await post(configMap("added-later", { v: "x" }))).status).toBe(201);
    const patched = await s.api(`${CM}/kept`, { method: "PATCH", body: JSON.stringify({ data: { v: "2" } }), headers: { "content-type": "application/merge-patch+json" } });
    expect(patched.status).toBe(200);
    const before = await json(await s.api(CM));
    const seenRV = Number(before.metadata.resourceVersion);

    // Refused while the server runs.
    const refused = await kubun(["snapshot", "restore", snapName, "--data-dir", dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`^kubun: restoring a snapshot needs the server stopped, but kubun server \\(pid ${s.pid}\\) is running`));
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    // Also without the pid file (a server of an older release writes none): it holds the database open.
    const pidFile = join(dataDir, "server", "kubun.pid");
    const pidText = readFileSync(pidFile, "utf8");
    rmSync(pidFile);
    const stillRefused = await kubun(["snapshot", "restore", snapName, "--data-dir", dataDir]);
    expect(stillRefused.code).toBe(1);
    expect(stillRefused.stderr).toContain(`kubun server (pid ${s.pid}) is running`);
    writeFileSync(pidFile, pidText);

    expect(await s.kill("SIGTERM")).toBe(0);
    expect(existsSync(pidFile)).toBe(false); // removed at shutdown
    const restored = await kubun(["snapshot", "restore", snapName, "--data-dir", dataDir]);
    expect(restored.stderr).toBe("");
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain(`Restored ${join(dataDir, "server", "snapshots", snapName)}`);
    expect(readdirSync(join(dataDir, "server", "db")).some((f) => f.startsWith("state.db.old-"))).toBe(true);

    s = await start(dataDir);
    // Back to the snapshot: the later change and the later object are gone.
    const kept = await json(await s.api(`${CM}/kept`));
    expect(kept.data).toEqual({ v: "1" });
    expect((await s.api(`${CM}/added-later`)).status).toBe(404);
    const after = await json(await s.api(CM));
    expect(after.items.map((i: any) => i.metadata.name)).not.toContain("added-later");
    // Monotonic: the list's revision and every new write are above anything clients saw before the restore.
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(seenRV);
    const created = await json(await post(configMap("added-after-restore", { v: "y" })));
    expect(Number(created.metadata.resourceVersion)).toBeGreaterThan(seenRV);
    // A client resuming a watch from a revision it saw before the restore must relist.
    const watch = await s.api(`${CM}?watch=1&resourceVersion=${seenRV}`);
    expect(watch.status).toBe(200);
    const events = (await watch.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l));
    expect(events).toHaveLength(1);
    expect(events[0].type).toBe("ERROR");
    expect(events[0].object).toMatchObject({ kind: "Status", reason: "Expired", code: 410 });
    // The cluster serves: the default namespaces and RBAC are there, and writes work.
    expect((await s.api("/api/v1/namespaces/kube-system")).status).toBe(200);
    expect((await s.api("/readyz")).status).toBe(200);
  }, 120_000);

  test("restore refuses a file that is not a snapshot, and a missing one", async () => {
    const dataDir = dataDirFor("kubun-snap-bad-");
    const missing = await kubun(["snapshot", "restore", "nope", "--data-dir", dataDir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^kubun: snapshot .*nope does not exist\n$/);
    await Bun.write(join(dataDir, "junk"), "not sqlite at all, just text ".repeat(100));
    const junk = await kubun(["snapshot", "restore", join(dataDir, "junk"), "--data-dir", dataDir]);
    expect(junk.code).toBe(1);
    expect(junk.stderr).toMatch(/not a kubun snapshot|cannot be opened|damaged/);
    expect(existsSync(join(dataDir, "server", "db", "state.db"))).toBe(false);
  });
});

describe("scheduled snapshots", () => {
  test("a fast schedule takes snapshots and keeps only --snapshot-retention of them", async () => {
    const dataDir = dataDirFor("kubun-snap-sched-");
    const s = await start(dataDir, ["--snapshot-schedule-cron", "@every 1s", "--snapshot-retention", "2", "--node-name", "cp-1"]);
    const ls = async () => JSON.parse((await kubun(["snapshot", "ls", "--data-dir", dataDir, "-o", "json"])).stdout) as { name: string }[];
    const first = await pollUntil("two scheduled snapshots", async () => ((await ls()).length >= 2 ? ls() : undefined), 30_000);
    expect(first.every((x) => /^scheduled-cp-1-\d+$/.test(x.name))).toBe(true);
    // Later ones replace the oldest: never more than the retention, and the set moves on.
    const later = await pollUntil("newer scheduled snapshots", async () => {
      const now = await ls();
      expect(now.length).toBeLessThanOrEqual(2);
      return now.some((x) => !first.some((f) => f.name === x.name)) && !now.some((x) => x.name === first[0]!.name) ? now : undefined;
    }, 30_000);
    expect(later.length).toBe(2);
    expect(s.log()).toContain("snapshot saved");
  }, 90_000);

  test("a bad schedule or retention is a usage error", async () => {
    const bad = await kubun(["server", "--snapshot-schedule-cron", "61 * * * *", "--data-dir", dataDirFor("kubun-snap-badcron-")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^kubun: --snapshot-schedule-cron: invalid schedule "61 \* \* \* \*": .*\n$/);
    const zero = await kubun(["server", "--snapshot-retention", "0", "--data-dir", dataDirFor("kubun-snap-badret-")]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toBe("kubun: --snapshot-retention must be at least 1, got 0\n");
  });
});

describe("snapshot ls, delete, prune", () => {
  test("prune keeps the newest of a name; delete removes by name; unknown names fail", async () => {
    const dataDir = dataDirFor("kubun-snap-prune-");
    const s = await start(dataDir);
    const names: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await kubun(["snapshot", "save", "--name", "nightly", "--data-dir", dataDir]);
      expect(r.code).toBe(0);
      names.push(/Snapshot (\S+) saved/.exec(r.stdout)![1]!);
    }
    const other = await kubun(["snapshot", "save", "--data-dir", dataDir]);
    expect(other.stdout).toMatch(/^Snapshot on-demand-/);
    const pruned = await kubun(["snapshot", "prune", "--name", "nightly", "--snapshot-retention", "1", "--data-dir", dataDir]);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toBe(`Snapshot ${names[0]} deleted\nSnapshot ${names[1]} deleted\n`);
    const table = await kubun(["snapshot", "ls", "--data-dir", dataDir]);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+LOCATION\s+SIZE\s+CREATED$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0]).sort()).toEqual([names[2]!, /Snapshot (\S+) saved/.exec(other.stdout)![1]!].sort());

    const gone = await kubun(["snapshot", "delete", "no-such-snapshot", "--data-dir", dataDir]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^kubun: snapshot "no-such-snapshot" not found in /);
    const del = await kubun(["snapshot", "delete", names[2]!, "--data-dir", dataDir]);
    expect(del.stdout).toBe(`Snapshot ${names[2]} deleted\n`);
    const badName = await kubun(["snapshot", "save", "--name", "../escape", "--data-dir", dataDir]);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/invalid snapshot name/);
    await s.kill();
  }, 90_000);
});
