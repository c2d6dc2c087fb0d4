// Selector matching against stored values: labels and field values kept per value, parsed copies not kept.
import { expect, test } from "bun:test";
import { findResource } from "../../internal/api/resources.ts";
import { parseFieldSelector } from "../../internal/api/selectors/fields.ts";
import { parseLabelSelector } from "../../internal/api/selectors/labels.ts";
import { matchesStored } from "../../internal/apiserver/listing.ts";
import { decodeShared, selectableOf } from "../../internal/apiserver/objects.ts";
import type { KeyValue } from "../../internal/store/types.ts";

const pods = findResource("", "v1", "pods")!;
const kvOf = (name: string, rev: number, pod: object): KeyValue => ({
  key: `/registry/pods/default/${name}`,
  value: JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", labels: { app: "web" } }, ...pod }),
  createRevision: rev,
  modRevision: rev,
  version: 1,
  lease: 0,
} as KeyValue);

test("a stored pod's labels and selectable fields are read once and match selectors as the object would", () => {
  const kv = kvOf("a", 5, { spec: { nodeName: "n1", hostNetwork: true }, status: { phase: "Running" } });
  const s = selectableOf(kv, pods);
  expect(s.labels).toEqual({ app: "web" });
  expect({ ...s.fields }).toMatchObject({ "metadata.name": "a", "metadata.namespace": "default", "spec.nodeName": "n1", "spec.hostNetwork": "true", "status.phase": "Running", "status.podIP": "" });
  expect(Object.getPrototypeOf(s.fields)).toBeNull();
  expect(selectableOf(kv, pods)).toBe(s);
  const sel = (labels: string, fields: string) => ({ labels: parseLabelSelector(labels), fields: parseFieldSelector(fields, pods) });
  expect(matchesStored(pods, sel("app=web", "spec.nodeName=n1"), kv)).toBe(true);
  expect(matchesStored(pods, sel("app=web", "spec.nodeName!=n1"), kv)).toBe(false);
  expect(matchesStored(pods, sel("app!=web", ""), kv)).toBe(false);
  expect(matchesStored(pods, sel("", "status.phase=Running,spec.hostNetwork=true"), kv)).toBe(true);
  // A pod with no labels and no node: empty values, as upstream's selectors see them.
  const bare = kvOf("b", 6, { spec: {} });
  expect(matchesStored(pods, sel("", "spec.nodeName="), bare)).toBe(true);
  expect(matchesStored(pods, sel("!app", ""), { ...bare, value: bare.value.replace(',"labels":{"app":"web"}', "") })).toBe(true);
});

test("parsed copies are shared for a while, not kept for as long as the stored values live", () => {
  const first = kvOf("first", 1, { spec: {} });
  const o = decodeShared(first);
  expect(decodeShared(first)).toBe(o);
  expect(o.metadata.resourceVersion).toBe("1");
  const others = Array.from({ length: 300 }, (_, i) => kvOf(`p${i}`, 10 + i, { spec: {} }));
  for (const kv of others) decodeShared(kv);
  const again = decodeShared(first);
  expect(again).not.toBe(o);
  expect(again).toEqual(o);
  // The selector view of a value outlives the parsed copy it was read from.
  const s = selectableOf(others[0]!, pods);
  for (const kv of others.slice(1)) decodeShared(kv);
  expect(selectableOf(others[0]!, pods)).toBe(s);
});
