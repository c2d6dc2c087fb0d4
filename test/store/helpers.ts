// Shared helpers for the store tests.
import { mkdtempSync, rmSync } from "node:fs";
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
