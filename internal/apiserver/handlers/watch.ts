// watch: a chunked stream of JSON lines {"type":..., "object":...}. Initial state as ADDED events when no
// resourceVersion (or "0") is given, then changes from the store's watch fan-out, re-filtered by the selectors
// (an object that stops matching is DELETED, one that starts matching is ADDED), periodic BOOKMARKs,
// and an ERROR event carrying 410 Expired when the starting point has been compacted.
import { CompactedError, type KeyValue, type WatchEvent } from "../../store/types.ts";
import { collectionPrefix, listObjects, matchesStored, objectsOf, parseRV, parseSelectors, waitForRevision, type Selectors } from "../listing.ts";
import { decodeShared, rawJSON, type KObject } from "../objects.ts";
import type { Rest } from "../rest.ts";
import { partialMetadata, rendering } from "../respond.ts";
import { groupVersion, onResourcesChanged, storagePrefix } from "../../api/resources.ts";
import { queryBool } from "../queryopts.ts";
import { expired, StatusError } from "../../api/status.ts";
import { metrics } from "../metrics.ts";
import { needsConversion, toExternal } from "../conversion.ts";
import { acceptsText, notAcceptable, prefersProtobuf, PROTOBUF_WATCH } from "../mediatypes.ts";
import { encodeWatchFrame, protobufType } from "../protobuf/encode.ts";

const enc = new TextEncoder();
/** Events queued for a client that does not read before we give up on it. */
const MAX_BACKLOG = 5_000;

/** Upstream sends a bookmark about once a minute; a little more often keeps resumes cheap. */
const DEFAULT_BOOKMARK_INTERVAL_MS = 30_000;

type Out = { type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR"; object: unknown };

/** Store events → API watch events for one watcher (kv: the object to send, as stored). */
export function translate(r: Rest, sel: Selectors, prefix: string, batch: WatchEvent[]): { type: Out["type"]; kv: KeyValue }[] {
  const out: { type: Out["type"]; kv: KeyValue }[] = [];
  const filtering = sel.labels.length > 0 || sel.fields.length > 0;
  for (const e of batch) {
    if (!e.kv.key.startsWith(prefix)) continue;
    if (e.type === "DELETE") {
      if (!filtering || matchesStored(r.ri, sel, e.kv)) out.push({ type: "DELETED", kv: e.kv });
      continue;
    }
    const existed = e.created === true ? false : e.prevKv !== undefined || e.kv.createRevision !== e.kv.modRevision;
    if (!filtering) {
      out.push({ type: existed ? "MODIFIED" : "ADDED", kv: e.kv });
      continue;
    }
    const now = matchesStored(r.ri, sel, e.kv);
    // Without the previous value we cannot tell a transition; treat it as unchanged.
    const before = !existed ? false : e.prevKv ? matchesStored(r.ri, sel, e.prevKv) : now;
    if (now && before) out.push({ type: "MODIFIED", kv: e.kv });
    else if (now) out.push({ type: "ADDED", kv: e.kv });
    else if (before) out.push({ type: "DELETED", kv: e.kv });
  }
  return out;
}

export async function handleWatch(r: Rest): Promise<Response> {
  const q = r.q;
  const sel = parseSelectors(r.ri, q);
  if (r.name) sel.fields.push({ field: "metadata.name", op: "=", value: r.name });
  const rvParam = q.get("resourceVersion");
  const rv = parseRV(rvParam) ?? 0;
  const sendInitial = queryBool(q, "sendInitialEvents");
  if (sendInitial !== undefined && q.get("resourceVersionMatch") !== "NotOlderThan") {
    throw new StatusError(422, "Invalid", `ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan`);
  }
  const bookmarks = queryBool(q, "allowWatchBookmarks") === true;
  const timeoutParam = parseRV(q.get("timeoutSeconds"), "timeoutSeconds");
  // Upstream spreads watch lifetimes between 30 and 60 minutes so that clients reconnect at different times.
  const timeoutMs = (timeoutParam ?? 1800 + Math.floor(Math.random() * 1800)) * 1000;
  const how = rendering(r.c);
  // Protobuf clients get length-prefixed WatchEvent frames (Tables have no protobuf form: JSON if accepted).
  const pb = prefersProtobuf(r.c) && how !== "table" && protobufType(groupVersion(r.ri), r.ri.kind) !== undefined;
  if (prefersProtobuf(r.c) && !pb && !acceptsText(r.c)) throw notAcceptable();
  const passThrough = how === "object" && !needsConversion(r.ri) && !pb;
  const prefix = collectionPrefix(r.ri, r.namespace);
  const initial = sendInitial === true || (sendInitial === undefined && rv === 0);

  let startRev = rv;
  let initialItems: KObject[] = [];
  if (initial) {
    const lq = new URLSearchParams();
    if (rv > 0) lq.set("resourceVersion", String(rv));
    const listed = await listObjects(r.deps.store, r.ri, r.namespace, lq, sel);
    initialItems = objectsOf(listed);
    startRev = listed.revision;
  } else if (rv > 0) {
    await waitForRevision(r.deps.store, rv);
  }

  const render = (stored: KObject): unknown => {
    const obj = toExternal(r.ri, stored);
    if (how === "table" && r.deps.tables) {
      const inc = q.get("includeObject");
      return r.deps.tables.toTable(r.ri, [obj], { includeObject: inc === "None" || inc === "Object" ? inc : "Metadata" });
    }
    if (how === "metadata") return partialMetadata(obj);
    return obj;
  };
  const bookmark = (rev: number, initialEnd = false): Out => {
    const metadata: Record<string, unknown> = { resourceVersion: String(rev) };
    if (initialEnd) metadata.annotations = { "k8s.io/initial-events-end": "true" };
    return { type: "BOOKMARK", object: { kind: r.ri.kind, apiVersion: groupVersion(r.ri), metadata } };
  };

  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let backlog = 0;
  let lastSent = startRev;
  const timers: Timer[] = [];
  let sub: { close(): void; progress(): number } | undefined;

  let untrack = () => {};
  const close = () => {
    if (closed) return;
    closed = true;
    untrack();
    for (const t of timers) clearTimeout(t), clearInterval(t);
    sub?.close();
    metrics.watchers(r.ri.resource, -1);
    try {
      controller.close();
    } catch {}
  };
  const send = (events: Out[], preEncoded?: string) => {
    if (closed || (events.length === 0 && !preEncoded)) return;
    backlog = controller.desiredSize !== null && controller.desiredSize < 0 ? -controller.desiredSize : 0;
    if (backlog > MAX_BACKLOG) return close();
    if (pb) {
      for (const e of events) controller.enqueue(encodeWatchFrame(e.type, e.object as Record<string, unknown>));
      return;
    }
    let text = preEncoded ?? "";
    for (const e of events) text += JSON.stringify(e) + "\n";
    controller.enqueue(enc.encode(text));
  };

  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      close();
    },
  });
  metrics.watchers(r.ri.resource, 1);
  untrack = r.watchCache.track(close);

  const initialEvents: Out[] = initialItems.map((obj) => ({ type: "ADDED", object: render(obj) }));
  if (sendInitial === true && bookmarks) initialEvents.push(bookmark(startRev, true));
  send(initialEvents);
  // Bun sends the response headers only with the first body bytes; a watch without initial events would
  // leave clients waiting for headers. JSON stream decoders (client-go, client-node, ours) skip a blank line.
  // A protobuf stream has no blank frame: a BOOKMARK at the starting revision opens it (clients take bookmarks
  // as progress notifications, asked for or not).
  if (initialEvents.length === 0) {
    if (pb) send([bookmark(startRev)]);
    else controller.enqueue(enc.encode("\n"));
  }

  try {
    sub = await r.watchCache.watch(storagePrefix(r.ri), startRev, {
      push: (batch) => {
        const evs = translate(r, sel, prefix, batch);
        if (batch.length) lastSent = Math.max(lastSent, batch[batch.length - 1]!.kv.modRevision);
        if (passThrough) {
          // Stored JSON goes out as is: one encoding per event, shared by every watcher.
          let text = "";
          for (const e of evs) text += `{"type":"${e.type}","object":${rawJSON(e.kv)}}\n`;
          send([], text);
        } else {
          send(evs.map((e) => ({ type: e.type, object: render(decodeShared(e.kv)) })));
        }
      },
      fail: (err) => {
        // Compaction is the one failure clients must act on (relist); otherwise ending the stream makes them
        // re-watch from the last resourceVersion they saw.
        if (err instanceof CompactedError) {
          send([{ type: "ERROR", object: expired(`too old resource version: ${err.requested} (${err.compacted})`).toStatus() }]);
        }
        close();
      },
    });
  } catch (err) {
    if (err instanceof CompactedError) {
      // As upstream: the HTTP answer is 200 and the stream carries one ERROR event with 410 Expired.
      send([{ type: "ERROR", object: expired(`too old resource version: ${err.requested} (${err.compacted})`).toStatus() }]);
      close();
      return streamResponse(stream, pb);
    }
    close();
    throw err;
  }

  timers.push(setTimeout(close, timeoutMs));
  if (bookmarks) {
    timers.push(
      setInterval(() => {
        const rev = Math.max(lastSent, sub?.progress() ?? 0);
        send([bookmark(rev)]);
      }, r.deps.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS),
    );
  }
  r.c.req.raw.signal?.addEventListener("abort", close, { once: true });
  // A resource that stops being served (its CRD was deleted) ends its watches, as upstream.
  const offRegistry = onResourcesChanged(({ type, resource: x }) => {
    if (type === "removed" && x.group === r.ri.group && x.version === r.ri.version && x.resource === r.ri.resource) close();
  });
  const untrackCache = untrack;
  untrack = () => {
    untrackCache();
    offRegistry();
  };
  if (closed) offRegistry();
  return streamResponse(stream, pb);
}

function streamResponse(stream: ReadableStream<Uint8Array>, pb = false): Response {
  return new Response(stream, {
    status: 200,
    headers: { "Content-Type": pb ? PROTOBUF_WATCH : "application/json", "Cache-Control": "no-cache, private", "Transfer-Encoding": "chunked" },
  });
}
