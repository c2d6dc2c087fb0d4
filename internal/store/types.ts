// The store contract: a kine-like revisioned key-value log.
// The API server only ever talks to this interface; SQLite (default) and etcd (HA) implement it.
// Keys are paths like "/registry/pods/default/web-1"; values are the object's JSON text.
// Every write gets a new global revision, which the API server exposes as metadata.resourceVersion.

export interface KeyValue {
  key: string;
  value: string;
  /** Revision at which this key was (last) created. */
  createRevision: number;
  /** Revision of the write that produced this value. */
  modRevision: number;
  /** Absolute expiry in ms since the epoch, if the key was written with a TTL. */
  expiresAt?: number;
}

export interface ListOptions {
  /** Max items to return; 0 or undefined = all. */
  limit?: number;
  /** Return keys strictly greater than this key (the continue position). */
  startAfter?: string;
  /** Read as of this revision (0/undefined = current). Throws CompactedError if compacted away. */
  revision?: number;
}

export interface ListResult {
  /** The revision the list was read at. */
  revision: number;
  items: KeyValue[];
  /** Number of keys remaining after the returned page (0 when complete). */
  remaining: number;
}

export type WatchEventType = "PUT" | "DELETE";

export interface WatchEvent {
  type: WatchEventType;
  /** For PUT: the new value; for DELETE: the last value before deletion, with modRevision = the delete's revision. */
  kv: KeyValue;
  /** For PUT of an existing key and for DELETE: the value before this event. */
  prevKv?: KeyValue;
  /** True when this PUT created the key (no live previous value). */
  created?: boolean;
}

export interface WatchOptions {
  /** Deliver events with revision > afterRevision. 0/undefined = only new events from now. */
  afterRevision?: number;
  signal?: AbortSignal;
}

export interface Store {
  /** Latest live value for key, or undefined. Returns the current store revision too. */
  get(key: string): Promise<{ revision: number; kv?: KeyValue }>;

  /** Live keys with the given prefix, ordered by key. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;

  /** Count of live keys with the given prefix. */
  count(prefix: string): Promise<{ revision: number; count: number }>;

  /** Create key; throws KeyExistsError if it is live. ttlSeconds makes it expire (Events). */
  create(key: string, value: string, ttlSeconds?: number): Promise<KeyValue>;

  /**
   * Replace key if its live modRevision equals expectedRevision.
   * Throws NotFoundError if absent, ConflictError (with the current kv) on mismatch.
   */
  update(key: string, value: string, expectedRevision: number, ttlSeconds?: number): Promise<KeyValue>;

  /**
   * Delete key, if expectedRevision is given only when it matches.
   * Returns the deleted value (modRevision = the delete's revision).
   */
  delete(key: string, expectedRevision?: number): Promise<KeyValue>;

  /**
   * Events for keys with the prefix, in revision order, no gaps, no duplicates.
   * Yields batches. Throws CompactedError (at the first iteration) if afterRevision is older than retained history.
   */
  watch(prefix: string, opts?: WatchOptions): AsyncIterable<WatchEvent[]>;

  /** Current (highest) revision. */
  currentRevision(): Promise<number>;

  /** Oldest revision that can still be watched/listed from (revisions <= this have been compacted). */
  compactRevision(): Promise<number>;

  /** Drop history at or below revision (live values are kept). */
  compact(revision: number): Promise<void>;

  close(): Promise<void>;
}

export class StoreError extends Error {}

export class KeyExistsError extends StoreError {
  constructor(public key: string) {
    super(`key exists: ${key}`);
  }
}

export class NotFoundError extends StoreError {
  constructor(public key: string) {
    super(`key not found: ${key}`);
  }
}

export class ConflictError extends StoreError {
  constructor(
    public key: string,
    public current?: KeyValue,
  ) {
    super(`revision conflict on ${key}`);
  }
}

export class CompactedError extends StoreError {
  constructor(
    public requested: number,
    public compacted: number,
  ) {
    super(`required revision ${requested} has been compacted (oldest available ${compacted + 1})`);
  }
}
