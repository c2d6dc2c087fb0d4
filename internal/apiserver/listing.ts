// Reading collections: resourceVersion semantics, pagination with continue tokens, label and field selectors.
import { CompactedError, StoreError, type KeyValue, type Store } from "../store/types.ts";
import { continueFromFuture, decodeContinue, encodeContinue } from "./continuetoken.ts";
import { decodeShared, selectableOf, type KObject } from "./objects.ts";
import { storageKey, storagePrefix, type ResourceInfo } from "../api/resources.ts";
import { matchFields, matchFieldValues, parseFieldSelector, pinnedName, type FieldSelector } from "../api/selectors/fields.ts";
import { matchLabels, parseLabelSelector, type LabelSelector } from "../api/selectors/labels.ts";
import { badRequest, expired, StatusError } from "../api/status.ts";

export interface Selectors {
  labels: LabelSelector;
  fields: FieldSelector;
}

export function parseSelectors(ri: ResourceInfo, q: URLSearchParams): Selectors {
  return { labels: parseLabelSelector(q.get("labelSelector")), fields: parseFieldSelector(q.get("fieldSelector"), ri) };
}

export function matches(ri: ResourceInfo, sel: Selectors, obj: KObject | undefined): boolean {
  if (!obj) return false;
  return matchLabels(sel.labels, obj.metadata?.labels) && matchFields(sel.fields, ri, obj);
}

/** matches() for a stored value, through its cached labels and field values (no parsed copy kept). */
export function matchesStored(ri: ResourceInfo, sel: Selectors, kv: KeyValue): boolean {
  const s = selectableOf(kv, ri);
  return matchLabels(sel.labels, s.labels) && matchFieldValues(sel.fields, (field) => s.fields[field]);
}

export function collectionPrefix(ri: ResourceInfo, namespace: string | undefined): string {
  return ri.namespaced && namespace ? `${storagePrefix(ri)}${namespace}/` : storagePrefix(ri);
}

/** Decoded objects of a list result (shared parses: read, don't mutate). */
export function objectsOf(res: ListResult): KObject[] {
  return res.kvs.map(decodeShared);
}

export function parseRV(s: string | null, what = "resourceVersion"): number | undefined {
  if (s === null || s === "") return undefined;
  if (!/^\d+$/.test(s)) throw badRequest(`${what}: Invalid value: "${s}": must be a non-negative integer`);
  return Number(s);
}

/** Wait (up to 3 s, as upstream) for the store to reach a revision a client has already seen. */
export async function waitForRevision(store: Store, rev: number): Promise<void> {
  const deadline = Date.now() + 3000;
  while ((await store.currentRevision()) < rev) {
    if (Date.now() > deadline) {
      throw new StatusError(504, "Timeout", `Too large resource version: ${rev}, current: ${await store.currentRevision()}`, {
        causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
        retryAfterSeconds: 1,
      });
    }
    await Bun.sleep(25);
  }
}

export interface ListResult {
  /** Matching entries in key order; decode with objectsOf() or pass through with rawJSON(). */
  kvs: KeyValue[];
  revision: number;
  continue?: string;
  remainingItemCount?: number;
}

export async function listObjects(
  store: Store,
  ri: ResourceInfo,
  namespace: string | undefined,
  q: URLSearchParams,
  sel: Selectors,
): Promise<ListResult> {
  const prefix = collectionPrefix(ri, namespace);
  const limitParam = parseRV(q.get("limit"), "limit");
  const limit = limitParam && limitParam > 0 ? limitParam : 0;
  const cont = q.get("continue");
  const rvParam = q.get("resourceVersion");
  const match = q.get("resourceVersionMatch");
  const rv = parseRV(rvParam);
  let revision: number | undefined;
  let startAfter: string | undefined;

  if (match && !["Exact", "NotOlderThan"].includes(match)) {
    throw badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
  }
  if (match && rvParam === null) throw badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided");
  if (cont) {
    if (rvParam && rvParam !== "0") throw badRequest("specifying resource version is not allowed when using continue");
    const t = decodeContinue(cont);
    revision = t.rv;
    startAfter = prefix + t.start;
  } else if (rv !== undefined && rv > 0) {
    await waitForRevision(store, rv);
    if (match === "Exact") revision = rv;
  } else if (match === "Exact") {
    throw badRequest('resourceVersionMatch "Exact" is forbidden for resourceVersion "0"');
  }

  // A selector pinning the name reads a single key.
  const name = pinnedName(sel.fields);
  if (name !== undefined && !cont && (!ri.namespaced || namespace) && revision === undefined) {
    const { revision: r, kv } = await store.get(storageKey(ri, namespace, name));
    return { kvs: kv && matchesStored(ri, sel, kv) ? [kv] : [], revision: r };
  }

  const filtering = sel.labels.length > 0 || sel.fields.length > 0;
  const items: KeyValue[] = [];
  try {
    for (;;) {
      const want = limit ? limit - items.length : 0;
      const chunk = limit ? (filtering ? Math.max(want, 500) : want) : 0;
      const res = await store.list(prefix, { limit: chunk, startAfter, revision });
      revision = res.revision;
      for (let i = 0; i < res.items.length; i++) {
        const kv = res.items[i]!;
        if (filtering && !matchesStored(ri, sel, kv)) continue;
        items.push(kv);
        if (limit && items.length === limit) {
          const more = i < res.items.length - 1 || res.remaining > 0;
          if (!more) return { kvs: items, revision };
          const out: ListResult = { kvs: items, revision, continue: encodeContinue({ rv: revision, start: kv.key.slice(prefix.length) }) };
          if (!filtering) out.remainingItemCount = res.remaining + (res.items.length - 1 - i);
          return out;
        }
      }
      if (!limit || res.remaining === 0 || res.items.length === 0) return { kvs: items, revision };
      startAfter = res.items[res.items.length - 1]!.key;
    }
  } catch (err) {
    if (err instanceof CompactedError) {
      if (cont) {
        throw expired(
          "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
        );
      }
      throw expired(`too old resource version: ${err.requested} (${err.compacted})`);
    }
    // A token naming a revision this store never reached was not issued here: the client's error, not ours.
    if (cont && err instanceof StoreError && /too large resource version/.test(err.message)) throw continueFromFuture();
    throw err;
  }
}
