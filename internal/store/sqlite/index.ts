export { SqliteStore, openSqliteStore, type SqliteStoreOptions } from "./store.ts";
export type { CompactionOptions } from "./compactor.ts";
