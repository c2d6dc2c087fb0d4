// Shared helpers for the store tests.
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Store, WatchEvent } from "../../internal/store/types.ts";

export function tempDir(prefix = "kubun-store-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Watches prefix from afterRevision until `done(events)` holds or the timeout passes; returns what arrived. */
export async function collect(
  store: Store,
  prefix: string,
  afterRevision: number,
  done: (events: WatchEvent[]) => boolean,
  timeoutMs = 15_000,
): Promise<WatchEvent[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const out: WatchEvent[] = [];
  try {
    for await (const batch of store.watch(prefix, { afterRevision, signal: ac.signal })) {
      out.push(...batch);
      if (done(out)) break;
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return out;
}

/** Expects the promise to reject with an instance of cls; returns the error. */
export async function rejects<T extends Error>(p: Promise<unknown>, cls: new (...a: never[]) => T): Promise<T> {
  try {
    await p;
  } catch (e) {
    if (e instanceof cls) return e;
    throw new Error(`expected ${cls.name}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
  }
  throw new Error(`expected ${cls.name}, but it resolved`);
}

export function uniquePrefix(name: string): string {
  return `/registry/test-${name}-${Math.random().toString(36).slice(2, 8)}/`;
}

/** Rows in the log table of the database file at path (read by a separate connection). */
export function rowCount(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.query<{ n: number }, []>("SELECT count(*) AS n FROM kine").get()!.n;
  } finally {
    db.close();
  }
}

/** Size and mtime of the database file and its WAL: unchanged means nothing was written. */
export function fileState(path: string): string {
  return [path, `${path}-wal`]
    .map((p) => {
      try {
        const s = statSync(p);
        return `${s.size}@${s.mtimeMs}`;
      } catch {
        return "absent";
      }
    })
    .join(" ");
}

/** Waits until cond holds (polling), or throws after timeoutMs. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(20);
  }
}
