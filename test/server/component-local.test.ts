// In-process components (scheduler, controller manager) call the API server's own handler, not a socket: their
// clients keep working with no network path to the server at all, authenticate as themselves (RBAC applies as
// before), watch, and give up on a call at its timeout or on abort as a fetch would.
import { expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "../../internal/client/client.ts";
import { refs } from "../../internal/client/refs.ts";
import { ApiError } from "../../internal/client/types.ts";
import { useSharedCluster } from "../helpers/shared-cluster.ts";

const env = useSharedCluster();

async function registeredWatchers(resource: string): Promise<number> {
  const text = await (await env.cluster.api("/metrics")).text();
  const m = new RegExp(`^apiserver_registered_watchers\\{resource="${resource}"\\} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

test("the components' config hands them the API's handler; the TLS listener's private socket stays owner-only", () => {
  for (const name of ["scheduler", "controller-manager"] as const) {
    expect(env.cluster.componentConfig(name).localFetch).toBeFunction();
  }
  expect(statSync(join(env.cluster.dataDir, "server", "api.sock")).mode & 0o777).toBe(0o600);
});

test("a component's client works with no network path, as itself", async () => {
  // A server URL nothing listens on: every call must go to the handler.
  const client = createClient({ ...env.cluster.componentConfig("scheduler"), server: "https://127.0.0.1:1" });
  const nodes = await client.resource(refs.nodes).list();
  expect(nodes.items).toBeArray();
  // RBAC still sees system:kube-scheduler: it may not create namespaces.
  const err = await client
    .resource(refs.namespaces)
    .create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "sched-made" } })
    .catch((e) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).code).toBe(403);
  expect((err as ApiError).message).toContain("system:kube-scheduler");
  // A bad token is refused as over the network.
  const stranger = createClient({ ...env.cluster.componentConfig("scheduler"), token: "not-a-token" });
  expect(((await stranger.resource(refs.nodes).list().catch((e) => e)) as ApiError).code).toBe(401);
});

test("a watch delivers events, and aborting it ends the server's side too", async () => {
  const cm = createClient({ ...env.cluster.componentConfig("controller-manager"), server: "https://127.0.0.1:1" });
  const before = await registeredWatchers("configmaps");
  const ac = new AbortController();
  const seen: string[] = [];
  const done = (async () => {
    for await (const ev of cm.resource(refs.configmaps, "default").watch({ signal: ac.signal })) {
      seen.push(`${ev.type} ${(ev.object as any)?.metadata?.name}`);
    }
  })();
  for (let i = 0; (await registeredWatchers("configmaps")) === before && i < 100; i++) await Bun.sleep(20);
  expect(await registeredWatchers("configmaps")).toBe(before + 1);
  await env.client.resource(refs.configmaps, "default").create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "local-cm" } });
  for (let i = 0; !seen.includes("ADDED local-cm") && i < 250; i++) await Bun.sleep(20);
  expect(seen).toContain("ADDED local-cm");
  ac.abort();
  await done; // ends quietly, as an aborted fetch stream does
  for (let i = 0; (await registeredWatchers("configmaps")) !== before && i < 100; i++) await Bun.sleep(20);
  expect(await registeredWatchers("configmaps")).toBe(before);
});

test("a call the handler does not answer in time fails with the client's timeout; a caller's abort rejects it", async () => {
  const hang = () => new Promise<Response>(() => {});
  const timed = createClient({ server: "https://127.0.0.1:1", token: "t", localFetch: hang, timeoutMs: 100 });
  const err = await timed.resource(refs.nodes).list().catch((e) => e);
  expect((err as { code?: string }).code).toBe("ETIMEDOUT");
  const ac = new AbortController();
  const untimed = createClient({ server: "https://127.0.0.1:1", token: "t", localFetch: hang });
  const watching = untimed.stream("GET", "/api/v1/nodes?watch=1", { signal: ac.signal }).catch((e) => e);
  ac.abort();
  expect(((await watching) as Error).name).toBe("AbortError");
});
