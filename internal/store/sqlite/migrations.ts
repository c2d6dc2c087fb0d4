// Applies the drizzle-kit migrations of migrations/ at open. The SQL and the journal are imported as text/JSON so
// `bun build --compile` embeds them: the binary needs no migrations folder beside it.
// Deliberately not drizzle's migrate(): it reads the folder from disk and takes a deferred lock, so two processes
// opening a fresh file at once could both try to migrate. This does the same work under BEGIN IMMEDIATE and records
// applied migrations in drizzle's own table (__drizzle_migrations, same layout), so drizzle-kit tooling agrees with it.
import type { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import { StoreError } from "../types.ts";
import journal from "../../../migrations/meta/_journal.json" with { type: "json" };
import m0000 from "../../../migrations/0000_log_table.sql" with { type: "text" };
import m0001 from "../../../migrations/0001_lean_writes.sql" with { type: "text" };

/** Every migration of migrations/meta/_journal.json by tag. A new migration must be added here (a test checks). */
export const embeddedSQL: Record<string, string> = {
  "0000_log_table": m0000,
  "0001_lean_writes": m0001,
};

export interface Migration {
  tag: string;
  when: number;
  hash: string;
  statements: string[];
}

export function embeddedMigrations(): Migration[] {
  return journal.entries.map((e) => {
    const text = embeddedSQL[e.tag];
    if (text === undefined) throw new Error(`migration ${e.tag} is in the journal but not embedded`);
    return {
      tag: e.tag,
      when: e.when,
      // Same hash as drizzle's readMigrationFiles: sha256 of the whole file.
      hash: createHash("sha256").update(text).digest("hex"),
      statements: text.split("--> statement-breakpoint").filter((s) => s.trim() !== ""),
    };
  });
}

/** Applies the migrations newer than the last recorded one. Returns the tags applied. Never drops data. */
export function migrate(db: Database, migrations = embeddedMigrations()): string[] {
  db.run(`CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`);
  const applied: string[] = [];
  db.transaction(() => {
    const last = db
      .query<{ created_at: number }, []>(`SELECT created_at FROM "__drizzle_migrations" ORDER BY created_at DESC LIMIT 1`)
      .get();
    const lastWhen = last ? Number(last.created_at) : -1;
    const newestKnown = Math.max(-1, ...migrations.map((m) => m.when));
    if (lastWhen > newestKnown) {
      // Never run old code on a schema it does not know (a downgrade): refuse instead of guessing.
      throw new StoreError("the database was migrated by a newer kubun; refusing to open it with this older version");
    }
    for (const m of migrations) {
      if (m.when <= lastWhen) continue;
      for (const stmt of m.statements) db.run(stmt);
      db.run(`INSERT INTO "__drizzle_migrations" (hash, created_at) VALUES (?, ?)`, [m.hash, m.when]);
      applied.push(m.tag);
    }
  }).immediate();
  return applied;
}
