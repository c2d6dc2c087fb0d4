// Max-in-flight limits: over the limit the API answers 429 TooManyRequests with Retry-After.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { InflightLimiter } from "../../internal/apiserver/inflight.ts";
import { StatusError } from "../../internal/api/status.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";

setDefaultTimeout(60_000);
let c: TestCluster;

beforeAll(async () => {
  // No mutating request may run at all; reads are unaffected.
  // Without API Priority and Fairness (its levels share both limits and exempt the admin).
  c = await startTestCluster({ maxMutatingInflight: 0, flowControl: { enabled: false } });
});
afterAll(async () => {
  await c?.stop();
});

test("mutating requests over the limit get 429 with Retry-After; reads and watches are separate", async () => {
  const r = await c.api("/api/v1/namespaces/default/configmaps", {
    method: "POST",
    body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } }),
    headers: { "Content-Type": "application/json" },
  });
  expect(r.status).toBe(429);
  expect(r.headers.get("retry-after")).toBe("1");
  const body: any = await r.json();
  expect(body).toMatchObject({ kind: "Status", reason: "TooManyRequests", code: 429, details: { retryAfterSeconds: 1 } });
  expect((await c.api("/api/v1/namespaces/default/configmaps")).status).toBe(200);
});

test("the limiter releases slots and counts kinds separately", () => {
  const l = new InflightLimiter(1, 1);
  const a = l.acquire("create")!;
  expect(() => l.acquire("patch")).toThrow(StatusError);
  const g = l.acquire("get")!;
  expect(() => l.acquire("list")).toThrow(StatusError);
  expect(l.acquire("watch")).toBeUndefined();
  expect(l.acquire("get", "log")).toBeUndefined();
  a();
  a();
  g();
  expect(l.acquire("delete")).toBeDefined();
  expect(l.acquire("list")).toBeDefined();
});
