// Conversions between etcd's wire shapes and the store contract.
import type { IEvent, IKeyValue } from "etcd3";
import { CompactedError, StoreError, type KeyValue, type WatchEvent } from "../types.ts";

export const enc = (s: string): Buffer => Buffer.from(s);

export function toKV(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}

export function toEvent(ev: IEvent): WatchEvent {
  const prevKv = ev.prev_kv ? toKV(ev.prev_kv) : undefined;
  if (ev.type === "Delete") {
    const kv: KeyValue = {
      key: ev.kv.key.toString(),
      value: prevKv?.value ?? "",
      createRevision: prevKv?.createRevision ?? 0,
      modRevision: Number(ev.kv.mod_revision),
    };
    return prevKv ? { type: "DELETE", kv, prevKv } : { type: "DELETE", kv };
  }
  const kv = toKV(ev.kv);
  if (ev.kv.version === "1") return { type: "PUT", kv, created: true };
  return prevKv ? { type: "PUT", kv, prevKv } : { type: "PUT", kv };
}

/** etcd reports compaction and future revisions as error messages; map them to the store's errors. */
export function mapReadError(e: unknown, revision: number, compacted: () => Promise<number>): Promise<never> | never {
  const msg = (e as Error)?.message ?? "";
  if (msg.includes("required revision has been compacted")) {
    return compacted().then((c) => Promise.reject(new CompactedError(revision, Math.max(c, revision + 1))));
  }
  if (msg.includes("future revision")) throw new StoreError(`too large resource version: ${revision}`);
  throw e;
}
