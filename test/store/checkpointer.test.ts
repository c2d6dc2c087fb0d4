// WAL checkpoints run on a worker thread (checkpointer.ts), not in a COMMIT on the event loop: once the WAL passes
// the threshold the main file receives its pages while SQLite's own auto-checkpoint (16x further) has not fired,
// the WAL restarts, and everything written reads back — also after a kill -9 in the middle of checkpoints.
import { afterEach, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { openSqliteStore, type SqliteStore } from "../../internal/store/sqlite/index.ts";
import { tempDir } from "./helpers.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function open(path: string, frames: number): SqliteStore {
  const store = openSqliteStore(path, { checkpointFrames: frames, volatilePrefixes: [] });
  cleanups.push(() => store.close());
  return store;
}

const value = (i: number) => JSON.stringify({ i, pad: "x".repeat(1500) });

test("past the threshold the WAL is copied into the main file by the worker, and the WAL restarts", async () => {
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  const path = join(dir.path, "state.db");
  const store = open(path, 200);
  const mainBefore = statSync(path).size;
  for (let i = 0; i < 300; i++) await store.create(`/registry/configmaps/ns/c${i}`, value(i));
  const cp = (store as any).checkpointer;
  for (let i = 0; cp.done === 0 && i < 200; i++) await Bun.sleep(10);
  expect(cp.done).toBeGreaterThan(0);
  // Only a checkpoint writes the main file; SQLite's backstop (3,200 frames) was never reached.
  expect(statSync(path).size).toBeGreaterThan(mainBefore + 300 * 1500);
  // Once a checkpoint has copied every frame, the next write starts the WAL over: it stays short.
  let i = 300;
  for (; i < 340 && !(cp.walFrames() < 200); i++) {
    while (cp.running) await Bun.sleep(5);
    await store.create(`/registry/configmaps/ns/c${i}`, value(i));
  }
  expect(cp.walFrames()).toBeLessThan(200);
  const listed = await store.list("/registry/configmaps/ns/");
  expect(listed.items).toHaveLength(i);
  expect(JSON.parse(listed.items.find((kv) => kv.key.endsWith("/c7"))!.value).i).toBe(7);
});

test("a store killed while checkpoints run keeps every acknowledged write", async () => {
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  const path = join(dir.path, "state.db");
  const script = `
    import { openSqliteStore } from ${JSON.stringify(join(import.meta.dir, "../../internal/store/sqlite/index.ts"))};
    const store = openSqliteStore(${JSON.stringify(path)}, { checkpointFrames: 64, volatilePrefixes: [] });
    for (let i = 0; ; i++) {
      await store.create("/registry/configmaps/ns/c" + i, JSON.stringify({ i, pad: "x".repeat(1500) }));
      console.log(i);
    }`;
  const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "ignore", cwd: dir.path });
  let acked = -1;
  const reader = proc.stdout.getReader();
  let buf = "";
  while (acked < 600) {
    const { value: chunk, done } = await reader.read();
    if (done) break;
    buf += new TextDecoder().decode(chunk);
    const lines = buf.split("\n");
    buf = lines.pop()!;
    if (lines.length) acked = Number(lines[lines.length - 1]);
  }
  proc.kill("SIGKILL");
  await proc.exited;
  expect(acked).toBeGreaterThanOrEqual(600);
  const store = open(path, 64);
  const listed = await store.list("/registry/configmaps/ns/");
  const have = new Set(listed.items.map((kv) => Number(kv.key.slice("/registry/configmaps/ns/c".length))));
  for (let i = 0; i <= acked; i++) expect(have.has(i)).toBe(true);
});
