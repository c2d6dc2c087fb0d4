// A JSON list over 4 MiB is streamed as it is produced (internal/apiserver/streamlist.ts): no Content-Length, the same
// document as the list built whole (pretty-printed answers still are), gzipped as one stream for clients that accept
// it, protobuf for clients that rank it first, and real kubectl reads it.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { kubectlOK, startTestCluster, type TestCluster } from "../helpers/cluster.ts";

setDefaultTimeout(60_000);
let c: TestCluster;
const NS = "stream-list";
const COUNT = 300;
const path = `/api/v1/namespaces/${NS}/configmaps`;

beforeAll(async () => {
  c = await startTestCluster();
  await c.api("/api/v1/namespaces", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ metadata: { name: NS } }) });
  // 300 × ~15 KB: ~4.5 MB of items, past the 4 MiB at which lists are streamed. Keys and values that need escaping
  // (quotes, newlines, non-ASCII, `__proto__`) come out exactly as stored.
  for (let i = 0; i < COUNT; i += 50)
    await Promise.all(
      Array.from({ length: Math.min(50, COUNT - i) }, async (_, k) => {
        const n = i + k;
        const body = { metadata: { name: `cm-${String(n).padStart(3, "0")}` }, data: { blob: `"é\n${n}`.padEnd(15_000, "x"), ["__proto__"]: "data" } };
        const r = await c.api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
        if (r.status !== 201) throw new Error(`create: HTTP ${r.status}: ${await r.text()}`);
      }),
    );
});
afterAll(async () => {
  await c?.stop();
});

test("a large list is streamed: the same document as the list built whole", async () => {
  const streamed = await c.api(path, { headers: { "Accept-Encoding": "identity" } });
  expect(streamed.status).toBe(200);
  expect(streamed.headers.get("content-type")).toBe("application/json");
  expect(streamed.headers.get("content-length")).toBeNull();
  expect(streamed.headers.get("content-encoding")).toBeNull();
  const text = await streamed.text();
  const list = JSON.parse(text);
  expect(list.kind).toBe("ConfigMapList");
  expect(list.apiVersion).toBe("v1");
  expect(list.items.map((i: any) => i.metadata.name)).toEqual(Array.from({ length: COUNT }, (_, n) => `cm-${String(n).padStart(3, "0")}`));
  expect(list.items[7].data.blob.startsWith('"é\n7x')).toBe(true);
  expect(Object.keys(list.items[7].data)).toContain("__proto__");
  // Built whole (pretty-printed): the same objects, the same list resourceVersion.
  const whole = await c.api(`${path}?pretty=true`, { headers: { "Accept-Encoding": "identity" } });
  expect(whole.headers.get("content-length")).not.toBeNull();
  expect(JSON.parse(await whole.text())).toEqual(list);
});

test("gzip: one stream that decompresses to the identity answer's bytes", async () => {
  const plain = await (await c.api(path, { headers: { "Accept-Encoding": "identity" } })).text();
  const raw = await c.api(path, { headers: { "Accept-Encoding": "gzip" }, decompress: false } as any);
  expect(raw.headers.get("content-encoding")).toBe("gzip");
  expect(raw.headers.get("vary")).toBe("Accept-Encoding");
  const zipped = new Uint8Array(await raw.arrayBuffer());
  expect(zipped.length).toBeLessThan(plain.length / 4);
  expect(new TextDecoder().decode(Bun.gunzipSync(zipped))).toBe(plain);
});

test("a client that ranks protobuf first still gets protobuf", async () => {
  const r = await c.api(path, { headers: { Accept: "application/vnd.kubernetes.protobuf, application/json" } });
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toBe("application/vnd.kubernetes.protobuf");
  expect(new Uint8Array(await r.arrayBuffer()).slice(0, 4)).toEqual(new Uint8Array([0x6b, 0x38, 0x73, 0x00]));
});

test("real kubectl reads a streamed (gzipped) list", async () => {
  const out = JSON.parse(await kubectlOK(c, ["get", "configmaps", "-n", NS, "-o", "json"]));
  expect(out.items.length).toBe(COUNT);
  const names = (await kubectlOK(c, ["get", "configmaps", "-n", NS, "-o", "name"])).trim().split("\n");
  expect(names.length).toBe(COUNT);
});

test("a client that goes away mid-list leaves the server serving, and the request is still counted", async () => {
  const count = async () => {
    const text = await (await c.api("/metrics")).text();
    const line = text.split("\n").find((l) => l.startsWith("apiserver_request_duration_seconds_count{") && l.includes('verb="LIST"') && l.includes('resource="configmaps"'));
    return Number(line?.split(" ").pop() ?? 0);
  };
  const before = await count();
  for (const encoding of ["gzip", "identity"]) {
    const ac = new AbortController();
    const r = await c.api(path, { headers: { "Accept-Encoding": encoding }, decompress: false, signal: ac.signal } as any);
    const reader = r.body!.getReader();
    await reader.read();
    ac.abort();
    await reader.read().catch(() => {});
  }
  const list = await (await c.api(path)).json();
  expect(list.items.length).toBe(COUNT);
  // The two abandoned lists and the whole one, each counted once its stream ended.
  const deadline = Date.now() + 10_000;
  while ((await count()) < before + 3 && Date.now() < deadline) await Bun.sleep(100);
  expect(await count()).toBe(before + 3);
});
