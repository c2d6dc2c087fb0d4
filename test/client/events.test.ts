import { afterAll, beforeAll, expect, test } from "bun:test";
import { createClient, createEventRecorder } from "../../internal/client/index.ts";
import { startFakeApiServer, type FakeApiServer } from "./fake-apiserver.ts";

let srv: FakeApiServer;
beforeAll(() => {
  srv = startFakeApiServer();
});
afterAll(() => srv.stop());

const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: "ns", uid: "u1", resourceVersion: "3" } };

test("creates an Event about the object, then folds repeats into count and lastTimestamp", async () => {
  let t = Date.parse("2026-01-01T00:00:00Z");
  const rec = createEventRecorder(createClient({ server: srv.url, token: "t0k3n" }), {
    component: "default-scheduler",
    host: "h1",
    now: () => new Date(t),
  });
  await rec.event(pod, "Warning", "FailedScheduling", "0/1 nodes are available");
  const evs = () => [...srv.objects.values()].filter((o) => o.kind === "Event");
  expect(evs()).toHaveLength(1);
  const e = evs()[0];
  expect(e.metadata.namespace).toBe("ns");
  expect(e.metadata.name.startsWith("web.")).toBe(true);
  expect(e.involvedObject).toMatchObject({ kind: "Pod", name: "web", namespace: "ns", uid: "u1", apiVersion: "v1" });
  expect(e).toMatchObject({ type: "Warning", reason: "FailedScheduling", count: 1, source: { component: "default-scheduler", host: "h1" } });
  expect(e.firstTimestamp).toBe("2026-01-01T00:00:00Z");

  t += 5000;
  await rec.event(pod, "Warning", "FailedScheduling", "0/1 nodes are available");
  expect(evs()).toHaveLength(1);
  expect(evs()[0].count).toBe(2);
  expect(evs()[0].lastTimestamp).toBe("2026-01-01T00:00:05Z");
  expect(evs()[0].firstTimestamp).toBe("2026-01-01T00:00:00Z");
  expect(srv.requests.at(-1)!.method).toBe("PATCH");

  // A different message is a different event.
  await rec.event(pod, "Warning", "FailedScheduling", "0/2 nodes are available");
  expect(evs()).toHaveLength(2);
});

test("a deleted (expired) event is recreated on the next repeat", async () => {
  const rec = createEventRecorder(createClient({ server: srv.url, token: "t0k3n" }), { component: "c" });
  const obj = { kind: "Node", apiVersion: "v1", metadata: { name: "n9", uid: "n9" } };
  await rec.event(obj, "Normal", "Starting", "hello");
  const first = [...srv.objects.values()].find((o) => o.involvedObject?.name === "n9");
  expect(first.metadata.namespace).toBe("default");
  srv.remove("/api/v1/namespaces/default/events", "default", first.metadata.name);
  await rec.event(obj, "Normal", "Starting", "hello");
  const again = [...srv.objects.values()].filter((o) => o.involvedObject?.name === "n9");
  expect(again).toHaveLength(1);
  expect(again[0].count).toBe(1);
});

test("many distinct messages for one object and reason are aggregated", async () => {
  const rec = createEventRecorder(createClient({ server: srv.url, token: "t0k3n" }), { component: "agg" });
  const obj = { kind: "Pod", apiVersion: "v1", metadata: { name: "agg", namespace: "a", uid: "agg" } };
  for (let i = 0; i < 12; i++) await rec.event(obj, "Warning", "BackOff", `message ${i}`);
  const evs = [...srv.objects.values()].filter((o) => o.involvedObject?.name === "agg");
  expect(evs).toHaveLength(10);
  const combined = evs.find((e) => e.message.startsWith("(combined from similar events): "));
  expect(combined.count).toBe(3);
});

test("a burst beyond the queue drops only what exceeds it; a deeper queue keeps every event", async () => {
  const burst = async (component: string, n: number, opts: { maxInFlight?: number; maxQueued?: number }) => {
    const rec = createEventRecorder(createClient({ server: srv.url, token: "t0k3n" }), { component, ...opts });
    // All recorded in one synchronous burst, as a scheduler binding many pods at once does.
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        rec.event({ kind: "Pod", apiVersion: "v1", metadata: { name: `${component}-${i}`, namespace: "burst", uid: `${component}-${i}` } }, "Normal", "Scheduled", `Successfully assigned burst/${component}-${i} to n1`),
      ),
    );
    return [...srv.objects.values()].filter((o) => o.kind === "Event" && o.source?.component === component).length;
  };
  // Default: 16 in flight + 1000 waiting; the rest of the burst is dropped (upstream's core/v1 broadcaster).
  expect(await burst("small-queue", 1200, {})).toBe(16 + 1000);
  expect(await burst("tiny", 50, { maxInFlight: 2, maxQueued: 10 })).toBe(12);
  // The scheduler's settings keep a burst of thousands.
  expect(await burst("scheduler-like", 3000, { maxInFlight: 32, maxQueued: 20_000 })).toBe(3000);
});
