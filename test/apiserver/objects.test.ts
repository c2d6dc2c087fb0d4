// Stored-object helpers: encode() layout and rawJSON(), the parse-free path lists and watches use.
import { expect, test } from "bun:test";
import { decode, encode, rawJSON } from "../../internal/apiserver/objects.ts";

const kv = (value: string, modRevision = 42) => ({ key: "/k", value, createRevision: 1, modRevision });

test("rawJSON equals decode() for encoded objects, whatever the input key order", () => {
  const obj = { spec: { template: { metadata: { labels: { a: "b" } } } }, metadata: { name: 'we"ird', resourceVersion: "9" }, kind: "Deployment", apiVersion: "apps/v1" };
  const stored = encode(obj as any);
  expect(stored.startsWith('{"apiVersion":"apps/v1","kind":"Deployment","metadata":{')).toBe(true);
  expect(stored).not.toContain("resourceVersion");
  expect(JSON.parse(rawJSON(kv(stored)))).toEqual(decode(kv(stored)));
  expect(JSON.parse(rawJSON(kv(encode({ apiVersion: "v1", kind: "X", metadata: {} }))))).toEqual({ apiVersion: "v1", kind: "X", metadata: { resourceVersion: "42" } });
});

test("values written elsewhere, or carrying a stale resourceVersion, get the current one", () => {
  const odd = '{"metadata":{"name":"x","resourceVersion":"1"},"kind":"Y","apiVersion":"v1"}';
  expect(JSON.parse(rawJSON(kv(odd))).metadata.resourceVersion).toBe("42");
  const stale = '{"apiVersion":"v1","kind":"Y","metadata":{"name":"x","resourceVersion":"1"}}';
  expect(JSON.parse(rawJSON(kv(stale, 7))).metadata.resourceVersion).toBe("7");
});
