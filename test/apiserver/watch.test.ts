// watch over HTTP: initial events, resume from a resourceVersion, selector transitions, bookmarks,
// timeoutSeconds, and 410 Expired for a compacted starting point.
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

// kubectl takes a few hundred ms per call; some tests make a dozen calls.
setDefaultTimeout(60_000);
let c: TestCluster;
const NS = "/api/v1/namespaces/default";

beforeAll(async () => {
  c = await startTestCluster({ watchBookmarkIntervalMs: 300 });
});
afterAll(async () => {
  await c?.stop();
});

/** Reads watch events as they arrive. */
async function openWatch(path: string) {
  const ac = new AbortController();
  const res = await c.api(path, { signal: ac.signal });
  const events: any[] = [];
  const waiters: (() => void)[] = [];
  let ended = false;
  void (async () => {
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) events.push(JSON.parse(line));
          waiters.splice(0).forEach((w) => w());
        }
      }
    } catch {}
    ended = true;
    waiters.splice(0).forEach((w) => w());
  })();
  const until = async (pred: (evs: any[]) => boolean, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!pred(events)) {
      if (Date.now() > deadline) throw new Error(`timed out; events: ${JSON.stringify(events.map((e) => [e.type, e.object?.metadata?.name]))}`);
      if (ended) throw new Error("watch ended");
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  return { res, events, until, close: () => ac.abort(), ended: () => ended };
}

async function post(path: string, body: unknown): Promise<any> {
  const r = await c.api(path, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
  return r.json();
}
async function patch(path: string, body: unknown): Promise<any> {
  const r = await c.api(path, { method: "PATCH", body: JSON.stringify(body), headers: { "Content-Type": "application/merge-patch+json" } });
  return r.json();
}
const cm = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels } });

test("initial ADDED events, then changes in order", async () => {
  await post(`${NS}/configmaps`, cm("w-a"));
  const w = await openWatch(`${NS}/configmaps?watch=1`);
  await w.until((e) => e.some((x) => x.object.metadata.name === "w-a"));
  expect(w.events[0].type).toBe("ADDED");
  await post(`${NS}/configmaps`, cm("w-b"));
  await patch(`${NS}/configmaps/w-b`, { data: { x: "1" } });
  await c.api(`${NS}/configmaps/w-b`, { method: "DELETE" });
  await w.until((e) => e.some((x) => x.type === "DELETED" && x.object.metadata.name === "w-b"));
  const b = w.events.filter((x) => x.object.metadata.name === "w-b").map((x) => x.type);
  expect(b).toEqual(["ADDED", "MODIFIED", "DELETED"]);
  const rvs = w.events.slice(1).map((x) => Number(x.object.metadata.resourceVersion));
  expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
  w.close();
});

test("watch from a resourceVersion sends only later events (legacy /watch path too)", async () => {
  const list: any = await (await c.api(`${NS}/configmaps`)).json();
  const rv = list.metadata.resourceVersion;
  await post(`${NS}/configmaps`, cm("w-c"));
  const w = await openWatch(`/api/v1/watch/namespaces/default/configmaps?resourceVersion=${rv}`);
  await w.until((e) => e.length >= 1);
  expect(w.events.map((x) => [x.type, x.object.metadata.name])).toEqual([["ADDED", "w-c"]]);
  w.close();
});

test("label selector transitions: stop matching → DELETED, start matching → ADDED", async () => {
  await post(`${NS}/configmaps`, cm("w-sel", { team: "a" }));
  const w = await openWatch(`${NS}/configmaps?watch=true&labelSelector=team%3Da`);
  await w.until((e) => e.length === 1);
  await patch(`${NS}/configmaps/w-sel`, { metadata: { labels: { team: "b" } } });
  await w.until((e) => e.length === 2);
  expect(w.events[1].type).toBe("DELETED");
  await patch(`${NS}/configmaps/w-sel`, { metadata: { labels: { team: "a" } } });
  await w.until((e) => e.length === 3);
  expect(w.events[2].type).toBe("ADDED");
  w.close();
});

test("bookmarks when allowed; sendInitialEvents ends with the initial-events-end bookmark", async () => {
  const w = await openWatch(`${NS}/configmaps?watch=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=`);
  await w.until((e) => e.some((x) => x.type === "BOOKMARK" && x.object.metadata.annotations?.["k8s.io/initial-events-end"] === "true"));
  await w.until((e) => e.filter((x) => x.type === "BOOKMARK").length >= 2, 3000);
  const bm = w.events.find((x) => x.type === "BOOKMARK");
  expect(bm.object.kind).toBe("ConfigMap");
  expect(Number(bm.object.metadata.resourceVersion)).toBeGreaterThan(0);
  w.close();
});

test("timeoutSeconds ends the stream", async () => {
  const w = await openWatch(`${NS}/configmaps?watch=1&timeoutSeconds=1&resourceVersion=${await c.store.currentRevision()}`);
  const deadline = Date.now() + 5000;
  while (!w.ended() && Date.now() < deadline) await Bun.sleep(50);
  expect(w.ended()).toBe(true);
});

test("a compacted resourceVersion gives an ERROR event with 410 Expired", async () => {
  const old = await c.store.currentRevision();
  await post(`${NS}/configmaps`, cm("w-compact-1"));
  await post(`${NS}/configmaps`, cm("w-compact-2"));
  await c.store.compact(await c.store.currentRevision());
  const w = await openWatch(`${NS}/configmaps?watch=1&resourceVersion=${old}`);
  expect(w.res.status).toBe(200);
  await w.until((e) => e.length >= 1);
  expect(w.events[0].type).toBe("ERROR");
  expect(w.events[0].object).toMatchObject({ kind: "Status", code: 410, reason: "Expired" });
  w.close();
});

test("20 concurrent watchers all see the same event", async () => {
  const rv = await c.store.currentRevision();
  const ws = await Promise.all(Array.from({ length: 20 }, () => openWatch(`${NS}/configmaps?watch=1&resourceVersion=${rv}`)));
  await post(`${NS}/configmaps`, cm("w-fan"));
  await Promise.all(ws.map((w) => w.until((e) => e.some((x) => x.object.metadata.name === "w-fan"))));
  ws.forEach((w) => w.close());
});
