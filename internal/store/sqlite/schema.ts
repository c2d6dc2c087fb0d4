// Schema of the SQLite store: one append-only log table, as in kine.
// Every write appends a row; the integer primary key (SQLite's rowid) is the global revision. Revisions never go
// backwards: new rows get max(id)+1 and compaction never deletes the newest row (see compactor.ts), which spares the
// AUTOINCREMENT bookkeeping page on every write. The live value of a key is its newest row that is not deleted.
//
// Disk wear matters more than usual (SD cards): each index costs a page write per write, so there is deliberately no
// separate (name, id) index. The unique (name, prev_revision) index serves every by-key lookup: like every SQLite
// index it carries the rowid (= id), so a key's newest row is an index-only max(id), and "was this row superseded
// (as of revision R)?" is one seek for the row whose prev_revision is its id (queries.ts).
// Measured on a Lease-sized update: 28.5 KiB written with AUTOINCREMENT, a (name, id) index and 4 KiB pages,
// 10.4 KiB without them and with 1 KiB pages (set when the file is created, store.ts).
//
// Edit this file, then `bun run db:generate` writes a new SQL migration into migrations/ (and add it to
// internal/store/sqlite/migrations.ts so it is embedded in the binary).
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const kine = sqliteTable(
  "kine",
  {
    id: integer("id").primaryKey(),
    name: text("name").notNull(),
    /** This row created the key (no live previous value); its create revision is its own id. */
    created: integer("created", { mode: "boolean" }).notNull().default(false),
    /** This row is a deletion tombstone; its value is NULL (the deleted value is the prev_revision row). */
    deleted: integer("deleted", { mode: "boolean" }).notNull().default(false),
    /** Create revision of the key; 0 on created rows (it is then the row's own id). */
    createRevision: integer("create_revision").notNull().default(0),
    /** Id of the row this one supersedes (0 for the first row of a key). */
    prevRevision: integer("prev_revision").notNull().default(0),
    /** Absolute expiry, ms since the epoch, for TTL'd keys (Events); NULL = never. */
    expiresAt: integer("expires_at"),
    // The object's JSON text (text, not blob: no decode on every read).
    value: text("value"),
  },
  (t) => [
    // Exactly one writer can supersede a given row of a key (conflict safety across processes); also the by-key
    // index: newest row per key, lists in key order and reads as of a revision all walk it.
    uniqueIndex("kine_name_prev_revision_uindex").on(t.name, t.prevRevision),
    // The TTL sweeper finds the next expiry without scanning the log.
    index("kine_expires_at_index").on(t.expiresAt).where(sql`${t.expiresAt} IS NOT NULL`),
  ],
);

/** Small persistent settings of the store, e.g. the compaction watermark. */
export const meta = sqliteTable("kine_meta", {
  key: text("key").primaryKey(),
  value: integer("value").notNull(),
});
