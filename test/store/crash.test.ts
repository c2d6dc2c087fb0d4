// Durability: a child process writes keys and reports each acknowledged one, is killed with SIGKILL mid-stream,
// and every acknowledged key must be there, intact, when the store is reopened.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { openSqliteStore } from "../../internal/store/sqlite/index.ts";
import { valueFor } from "./fixtures/values.ts";
import { tempDir } from "./helpers.ts";

const WRITER = join(import.meta.dir, "fixtures", "writer.ts");

test("every acknowledged write survives kill -9", async () => {
  const dir = tempDir();
  try {
    const db = join(dir.path, "server", "db", "state.db");
    const child = Bun.spawn([process.execPath, WRITER, db, "/registry/crash/", "0", "8"], {
      stdout: "pipe",
      stderr: "ignore",
    });
    const acked = new Map<string, number>();
    const decoder = new TextDecoder();
    let buf = "";
    const reader = child.stdout.getReader();
    while (acked.size < 400) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const [tag, key, rev] = buf.slice(0, nl).split(" ");
        buf = buf.slice(nl + 1);
        if (tag === "ACK") acked.set(key!, Number(rev));
      }
    }
    // Mid-stream: the writer is still busy writing.
    child.kill("SIGKILL");
    await child.exited;
    expect(child.signalCode).toBe("SIGKILL");
    expect(acked.size).toBeGreaterThanOrEqual(400);

    const store = openSqliteStore(db);
    try {
      for (const [key, rev] of acked) {
        const { kv } = await store.get(key);
        expect(kv?.value).toBe(valueFor(key));
        expect(kv?.modRevision).toBe(rev);
      }
      const all = await store.list("/registry/crash/");
      expect(all.items.length).toBeGreaterThanOrEqual(acked.size);
      for (const kv of all.items) expect(kv.value).toBe(valueFor(kv.key));
      // The reopened store keeps working.
      await store.create("/registry/crash/after", "ok");
    } finally {
      await store.close();
    }
  } finally {
    dir.remove();
  }
}, 30_000);
