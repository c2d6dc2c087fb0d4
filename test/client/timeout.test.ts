// The client's per-call timeout (ClientConfig.timeoutMs, upstream rest.Config.Timeout as the kubelet's heartbeat
// client sets it): a call to a server that never answers is abandoned, and with a server pool the next server takes
// over within the same timeout — whether the first one hangs or dies in the middle of the request.
import { afterEach, expect, test } from "bun:test";
import { createClient, refs } from "../../internal/client/index.ts";
import { ServerPool } from "../../internal/client/servers.ts";

const stops: (() => void)[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

/** A raw TCP server that reads requests and, per `mode`, never answers or closes the connection unanswered. */
function broken(mode: "hang" | "die") {
  let seen = 0;
  const l = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(sock) {
        seen++;
        if (mode === "die") sock.terminate();
      },
    },
  });
  stops.push(() => l.stop(true));
  return { url: `http://127.0.0.1:${l.port}`, seen: () => seen };
}

/** A server that answers every call with the Lease it was sent (a PUT) or a fixed object, after `delayMs`. */
function good(delayMs = 0) {
  const calls: string[] = [];
  const s = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      calls.push(`${req.method} ${new URL(req.url).pathname}`);
      if (delayMs) await Bun.sleep(delayMs);
      const body = req.method === "PUT" || req.method === "POST" ? await req.text() : JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" } });
      return new Response(body, { status: req.method === "POST" ? 201 : 200, headers: { "content-type": "application/json" } });
    },
  });
  stops.push(() => s.stop(true));
  return { url: `http://127.0.0.1:${s.port}`, calls };
}

const lease = (renewTime: string) => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: { name: "n1", namespace: "kube-node-lease", resourceVersion: "5" },
  spec: { holderIdentity: "n1", renewTime },
});

test("a call to a server that never answers is abandoned at the timeout with ETIMEDOUT", async () => {
  const s = broken("hang");
  const t0 = performance.now();
  const err = await createClient({ server: s.url, token: "t", timeoutMs: 300 })
    .resource(refs.pods, "default")
    .get("p")
    .catch((e) => e);
  expect(err.code).toBe("ETIMEDOUT");
  expect(err.message).toContain("client timeout");
  // Generous bound: abandoned, not left hanging.
  expect(performance.now() - t0).toBeLessThan(10_000);
  expect(s.seen()).toBe(1);
});

test("without a timeout a slow answer is waited for; with one a slow-but-in-time answer is taken", async () => {
  const s = good(400);
  expect((await createClient({ server: s.url, token: "t" }).resource(refs.pods, "default").get("p")).metadata.name).toBe("p");
  expect((await createClient({ server: s.url, token: "t", timeoutMs: 5000 }).resource(refs.pods, "default").get("p")).metadata.name).toBe("p");
});

test("a Lease PUT to a pool whose current server hangs is renewed through the next one within the one timeout", async () => {
  const hang = broken("hang");
  const ok = good();
  const pool = new ServerPool([hang.url, ok.url]);
  const leases = createClient({ server: hang.url, servers: pool, token: "t", timeoutMs: 2000 }).resource(refs.leases, "kube-node-lease");
  const t0 = performance.now();
  const renewed = await leases.update(lease("2026-01-01T00:00:10.000000Z"));
  expect(renewed.spec.renewTime).toBe("2026-01-01T00:00:10.000000Z");
  expect(performance.now() - t0).toBeLessThan(2000 + 1000);
  expect(hang.seen()).toBe(1);
  expect(ok.calls).toEqual(["PUT /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1"]);
  // Later calls go straight to the server that answers.
  expect(pool.current()).toBe(ok.url);
  await leases.update(lease("2026-01-01T00:00:20.000000Z"));
  expect(hang.seen()).toBe(1);
  expect(ok.calls.length).toBe(2);
});

test("a Lease PUT whose server dies in the middle of the request is renewed through the next one", async () => {
  const dies = broken("die");
  const ok = good();
  const pool = new ServerPool([dies.url, ok.url]);
  const leases = createClient({ server: dies.url, servers: pool, token: "t", timeoutMs: 10_000 }).resource(refs.leases, "kube-node-lease");
  const renewed = await leases.update(lease("2026-01-01T00:00:10.000000Z"));
  expect(renewed.spec.renewTime).toBe("2026-01-01T00:00:10.000000Z");
  expect(dies.seen()).toBe(1);
  expect(ok.calls.length).toBe(1);
  expect(pool.current()).toBe(ok.url);
});

test("every server of the pool hanging: one ETIMEDOUT within the timeout, each server tried once", async () => {
  const a = broken("hang");
  const b = broken("hang");
  const pool = new ServerPool([a.url, b.url]);
  const t0 = performance.now();
  const err = await createClient({ server: a.url, servers: pool, token: "t", timeoutMs: 600 })
    .resource(refs.pods, "default")
    .get("p")
    .catch((e) => e);
  expect(err.code).toBe("ETIMEDOUT");
  expect(performance.now() - t0).toBeLessThan(10_000);
  expect([a.seen(), b.seen()]).toEqual([1, 1]);
});

test("a generateName create that timed out is not sent again to the next server (it may have been made)", async () => {
  const hang = broken("hang");
  const ok = good();
  const pool = new ServerPool([hang.url, ok.url]);
  const err = await createClient({ server: hang.url, servers: pool, token: "t", timeoutMs: 300 })
    .resource(refs.pods, "default")
    .create({ metadata: { generateName: "p-" } })
    .catch((e) => e);
  expect(err.code).toBe("ETIMEDOUT");
  expect(ok.calls).toEqual([]);
});

test("streams (watches) are not cut by the call timeout", async () => {
  const s = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () =>
      new Response(
        new ReadableStream({
          async start(c) {
            await Bun.sleep(600);
            c.enqueue(new TextEncoder().encode(JSON.stringify({ type: "ADDED", object: { metadata: { name: "late" } } }) + "\n"));
            c.close();
          },
        }),
        { headers: { "content-type": "application/json" } },
      ),
  });
  stops.push(() => s.stop(true));
  const client = createClient({ server: `http://127.0.0.1:${s.port}`, token: "t", timeoutMs: 200 });
  const seen: string[] = [];
  for await (const ev of client.resource(refs.pods, "default").watch({})) seen.push(ev.object.metadata.name);
  expect(seen).toEqual(["late"]);
});
