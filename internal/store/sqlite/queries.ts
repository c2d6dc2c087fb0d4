// Every SQL statement of the SQLite store, prepared once at open (drizzle builder + .prepare()).
// Reads "as of revision R" take, per key, the newest row with id <= R (kine's model).
import { and, asc, eq, gt, gte, lt, lte, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import type { Changes } from "bun:sqlite";
import type { BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import type { KeyValue } from "../types.ts";
import { kine, meta } from "./schema.ts";

const P = sql.placeholder;
const k2 = alias(kine, "k2");
// `${k2}` renders only the alias name inside sql``; spell out the aliased table for subqueries.
const fromK2 = sql`${kine} ${sql.identifier("k2")}`;
const prev = alias(kine, "p");

/** One log row as the store reads it. */
export interface LogRow {
  id: number;
  name: string;
  created: boolean;
  deleted: boolean;
  createRevision: number;
  prevRevision: number;
  expiresAt: number | null;
  value: string | null;
}

/** A log row joined with the row it superseded (for watch events: prevKv, and the value of a deletion). */
export interface EventRow extends LogRow {
  pId: number | null;
  pCreated: boolean | null;
  pDeleted: boolean | null;
  pCreateRevision: number | null;
  pExpiresAt: number | null;
  pValue: string | null;
}

const rowColumns = {
  id: kine.id,
  name: kine.name,
  created: kine.created,
  deleted: kine.deleted,
  createRevision: kine.createRevision,
  prevRevision: kine.prevRevision,
  expiresAt: kine.expiresAt,
  value: kine.value,
};

// The columns a KeyValue needs, in the order kvFromValues reads them.
const kvColumns = {
  id: kine.id,
  name: kine.name,
  created: kine.created,
  createRevision: kine.createRevision,
  expiresAt: kine.expiresAt,
  value: kine.value,
};

const eventColumns = {
  ...rowColumns,
  pId: prev.id,
  pCreated: prev.created,
  pDeleted: prev.deleted,
  pCreateRevision: prev.createRevision,
  pExpiresAt: prev.expiresAt,
  pValue: prev.value,
};

// Row is the newest of its key as of revision :rev: it is at or below :rev and no row at or below :rev superseded it.
// Each row names the row it superseded (prev_revision), so "superseded" is one seek in the unique (name,
// prev_revision) index — cheap even for a key with a long history (a max(id) per row would be quadratic there).
const newestAsOf = sql`${kine.id} <= ${P("rev")} AND NOT EXISTS (SELECT 1 FROM ${fromK2} WHERE ${k2.name} = ${kine.name} AND ${k2.prevRevision} = ${kine.id} AND ${k2.id} <= ${P("rev")})`;
// Row is the newest of its key.
const newest = sql`NOT EXISTS (SELECT 1 FROM ${fromK2} WHERE ${k2.name} = ${kine.name} AND ${k2.prevRevision} = ${kine.id})`;
const notExpired = sql`(${kine.expiresAt} IS NULL OR ${kine.expiresAt} > ${P("now")})`;
// Keys in [lo, end) after :after, live as of :rev.
const liveInRange = and(
  gte(kine.name, P("lo")),
  gt(kine.name, P("after")),
  lt(kine.name, P("end")),
  eq(kine.deleted, false),
  newestAsOf,
  notExpired,
);

export function prepareQueries(db: BunSQLiteDatabase) {
  return {
    /** Newest row of a key (live, deleted or expired): max(id) comes from the index alone, then one row is read. */
    latest: db
      .select(rowColumns)
      .from(kine)
      .where(sql`${kine.id} = (SELECT max(${k2.id}) FROM ${fromK2} WHERE ${k2.name} = ${P("name")})`)
      .prepare(),

    /** Current revision: the newest row's id (compaction never deletes the newest row). */
    currentRevision: db.select({ seq: sql<number | null>`max(${kine.id})` }).from(kine).prepare(),

    getMeta: db.select({ value: meta.value }).from(meta).where(eq(meta.key, P("key"))).prepare(),
    setMeta: db
      .insert(meta)
      .values({ key: sql`${P("key")}`, value: sql`${P("value")}` })
      .onConflictDoUpdate({ target: meta.key, set: { value: sql`excluded.value` } })
      .prepare(),

    /** Appends a row with an explicit id: revisions come from the store's counter (revisions.ts), not the rowid. */
    insert: db
      .insert(kine)
      .values({
        id: sql`${P("id")}`,
        name: sql`${P("name")}`,
        created: sql`${P("created")}`,
        deleted: sql`${P("deleted")}`,
        createRevision: sql`${P("createRevision")}`,
        prevRevision: sql`${P("prevRevision")}`,
        expiresAt: sql`${P("expiresAt")}`,
        value: sql`${P("value")}`,
      })
      .prepare(),

    /** One page of live keys as of :rev, in key order (:limit -1 = all); read with .values() + kvFromValues. */
    listPage: db.select(kvColumns).from(kine).where(liveInRange).orderBy(asc(kine.name)).limit(P("limit")).prepare(),
    countRange: db.select({ n: sql<number>`count(*)` }).from(kine).where(liveInRange).prepare(),

    /** Rows with id in (:from, :to], in revision order, for watch delivery. */
    eventsAll: db
      .select(eventColumns)
      .from(kine)
      .leftJoin(prev, eq(prev.id, kine.prevRevision))
      .where(and(gt(kine.id, P("from")), lte(kine.id, P("to"))))
      .orderBy(asc(kine.id))
      .limit(P("limit"))
      .prepare(),
    /** Same, only keys in [lo, end). The unary + keeps SQLite on the id range instead of the name index. */
    eventsInRange: db
      .select(eventColumns)
      .from(kine)
      .leftJoin(prev, eq(prev.id, kine.prevRevision))
      .where(
        and(
          gt(kine.id, P("from")),
          lte(kine.id, P("to")),
          sql`+${kine.name} >= ${P("lo")}`,
          sql`+${kine.name} < ${P("end")}`,
        ),
      )
      .orderBy(asc(kine.id))
      .limit(P("limit"))
      .prepare(),

    /** Any row (live or history) of a key in [lo, end)? */
    anyInRange: db
      .select({ id: kine.id })
      .from(kine)
      .where(and(gte(kine.name, P("lo")), lt(kine.name, P("end"))))
      .limit(1)
      .prepare(),
    /** Every row of the keys in [lo, end) (keys that became volatile move to memory, see volatile.ts). */
    deleteRange: db
      .delete(kine)
      .where(and(gte(kine.name, P("lo")), lt(kine.name, P("end"))))
      .prepare(),

    /** Live TTL'd keys whose expiry is due. */
    expired: db
      .select(rowColumns)
      .from(kine)
      .where(and(sql`${kine.expiresAt} IS NOT NULL`, lte(kine.expiresAt, P("now")), eq(kine.deleted, false), newest))
      .orderBy(asc(kine.expiresAt))
      .limit(P("limit"))
      .prepare(),
    /** Earliest expiry among live keys. */
    nextExpiry: db
      .select({ expiresAt: kine.expiresAt })
      .from(kine)
      .where(and(sql`${kine.expiresAt} IS NOT NULL`, eq(kine.deleted, false), newest))
      .orderBy(asc(kine.expiresAt))
      .limit(1)
      .prepare(),

    /** Is there anything compaction could delete in (:from, :to]? */
    compactable: db
      .select({ id: kine.id })
      .from(kine)
      .where(
        and(gt(kine.id, P("from")), lte(kine.id, P("to")), sql`(${kine.deleted} = 1 OR ${kine.prevRevision} != 0)`),
      )
      .limit(1)
      .prepare(),
    /** Rows superseded by a row in (:from, :to]. */
    deleteSuperseded: db
      .delete(kine)
      .where(
        sql`${kine.id} IN (SELECT ${k2.prevRevision} FROM ${fromK2} WHERE ${k2.id} > ${P("from")} AND ${k2.id} <= ${P("to")} AND ${k2.prevRevision} != 0)`,
      )
      .prepare(),
    /** Tombstones in (:from, :to], except the newest row of all: it holds the current revision. */
    deleteTombstones: db
      .delete(kine)
      .where(
        and(
          gt(kine.id, P("from")),
          lte(kine.id, P("to")),
          eq(kine.deleted, true),
          sql`${kine.id} < (SELECT max(${k2.id}) FROM ${fromK2})`,
        ),
      )
      .prepare(),
  };
}

export type Queries = ReturnType<typeof prepareQueries>;

export function rowToKV(r: LogRow): KeyValue {
  const kv: KeyValue = {
    key: r.name,
    value: r.value ?? "",
    createRevision: r.created ? r.id : r.createRevision,
    modRevision: r.id,
  };
  if (r.expiresAt != null) kv.expiresAt = r.expiresAt;
  return kv;
}

/**
 * A kvColumns row as raw values. Lists of thousands of objects skip drizzle's per-row object mapping this way
 * (measured ~40% faster on a 10,000-key list).
 */
export function kvFromValues(row: unknown[]): KeyValue {
  const [id, name, created, createRevision, expiresAt, value] = row as [number, string, number, number, number | null, string | null];
  const kv: KeyValue = { key: name, value: value ?? "", createRevision: created ? id : createRevision, modRevision: id };
  if (expiresAt != null) kv.expiresAt = expiresAt;
  return kv;
}

/** drizzle types bun-sqlite's run() as void; it returns bun:sqlite's Changes. */
export function changes(result: unknown): Changes {
  return result as Changes;
}
