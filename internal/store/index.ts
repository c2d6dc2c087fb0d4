// Opens the store the server runs on: SQLite under the data dir by default, etcd when endpoints are given (HA).
//
//   const store = await openStore({ dataDir: "/var/lib/kubun", log });          // <dataDir>/server/db/state.db
//   const store = await openStore({ dataDir, etcdEndpoints: ["http://10.0.0.1:2379"] });
//
// SQLite knobs (openSqliteStore in ./sqlite): compaction { retainRevisions = 1000, retainMs = 5 min, intervalMs,
// batchRevisions = 500 }, pollMs = 1000 (how soon another process's writes reach watchers), busyTimeoutMs = 5000,
// volatilePrefixes (default: Leases; kept in memory only, never written to the file — see sqlite/volatile.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log/log.ts";
import { DEFAULT_VOLATILE_PREFIXES } from "./keys.ts";
import type { Store } from "./types.ts";

export * from "./types.ts";
export { DEFAULT_VOLATILE_PREFIXES } from "./keys.ts";
export type { CompactionOptions } from "./sqlite/compactor.ts";

/** PEM files for etcd over TLS (k3s's --datastore-cafile/-certfile/-keyfile). */
export interface EtcdTLSFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface OpenStoreOptions {
  dataDir: string;
  /** etcd client URLs (http://host:2379, or https:// with etcdTLS); when set, etcd is used instead of SQLite. */
  etcdEndpoints?: string[];
  etcdTLS?: EtcdTLSFiles;
  log?: Logger;
  /** SQLite file; default <dataDir>/server/db/state.db. */
  sqlitePath?: string;
  /** SQLite history bounds (defaults: 1000 revisions, 5 minutes). */
  compaction?: import("./sqlite/compactor.ts").CompactionOptions;
  /** SQLite: key prefixes kept in memory only (default: Leases); [] = every key durable. Ignored with etcd. */
  volatilePrefixes?: readonly string[];
}

export function defaultSqlitePath(dataDir: string): string {
  return join(dataDir, "server", "db", "state.db");
}

/** etcd3's gRPC TLS credentials from the files (a client certificate only when both cert and key are given). */
function etcdCredentials(tls: EtcdTLSFiles | undefined) {
  if (!tls?.caFile && !tls?.certFile) return undefined;
  const read = (f: string | undefined) => (f ? readFileSync(f) : undefined);
  return {
    credentials: {
      rootCertificate: read(tls.caFile) ?? Buffer.alloc(0),
      ...(tls.certFile && tls.keyFile ? { certChain: read(tls.certFile), privateKey: read(tls.keyFile) } : {}),
    },
  };
}

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  if (opts.etcdEndpoints && opts.etcdEndpoints.length > 0) {
    // Loaded only when used: the gRPC client costs memory that a SQLite server never needs.
    const { EtcdStore } = await import("./etcd/index.ts");
    const store = new EtcdStore(opts.etcdEndpoints, { log: opts.log, client: etcdCredentials(opts.etcdTLS) });
    try {
      await store.currentRevision(); // fail fast when etcd is unreachable
    } catch (e) {
      await store.close();
      throw new Error(`etcd at ${opts.etcdEndpoints.join(",")} is not reachable: ${(e as Error).message}`);
    }
    return store;
  }
  const { openSqliteStore } = await import("./sqlite/index.ts");
  return openSqliteStore(opts.sqlitePath ?? defaultSqlitePath(opts.dataDir), {
    log: opts.log,
    compaction: opts.compaction,
    volatilePrefixes: opts.volatilePrefixes ?? DEFAULT_VOLATILE_PREFIXES,
  });
}
