// Each hollow kubelet starts renewing its Lease and checking its status as soon as it has registered — not once
// every other node has registered too. bench:scale saw 1,000 nodes take 4–8 s to join, and every node's first
// renewal came that much late (gaps of 15–17 s for a 10 s interval). Here one node's registration is held back:
// the others must renew their Leases and re-report their status meanwhile.
import { expect, setDefaultTimeout, test } from "bun:test";
import type { Lease } from "kubernetes-types/coordination/v1";
import type { Node } from "kubernetes-types/core/v1";
import { createClient, refs, type ClientConfig } from "../../internal/client/index.ts";
import { runHollowNodes } from "../../internal/hollow/index.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { freePort } from "../helpers/ports.ts";
import { hollowClusterEnv, waitFor } from "./helpers.ts";

setDefaultTimeout(60_000);

let release: () => void = () => {};
const env = hollowClusterEnv("hollow-start-", () => release());

test("a registered node heartbeats while another is still registering", async () => {
  env.cluster = await startTestCluster({ dataDir: env.dataDir, port: freePort() });
  const cfg = env.cluster.clientConfig;
  const held = new Promise<void>((r) => (release = r));
  env.hollow = runHollowNodes(cfg, {
    count: 2,
    prefix: "hs",
    signal: env.signal,
    renewIntervalSeconds: 0.2,
    statusUpdateSeconds: 0.2,
    statusReportSeconds: 1,
    credentialsFor: async (name): Promise<ClientConfig> => {
      if (name === "hs-1") await held;
      return cfg;
    },
  });
  const admin = createClient(cfg);
  const leases = admin.resource<Lease>(refs.leases, "kube-node-lease");
  const nodes = admin.resource<Node>(refs.nodes);
  await waitFor("hs-0 registered", async () => (await leases.get("hs-0").catch(() => undefined)) !== undefined);
  const lease0 = await leases.get("hs-0");
  const beat0 = (await nodes.get("hs-0")).status?.conditions?.find((c) => c.type === "Ready")?.lastHeartbeatTime;
  // hs-1 has not registered (its credentials are held back), yet hs-0 renews and reports.
  await waitFor("hs-0 lease renewed", async () => (await leases.get("hs-0")).spec?.renewTime !== lease0.spec?.renewTime);
  await waitFor("hs-0 status re-reported", async () => (await nodes.get("hs-0")).status?.conditions?.find((c) => c.type === "Ready")?.lastHeartbeatTime !== beat0, 15_000);
  expect(await nodes.get("hs-1").catch((e) => e.code)).toBe(404);
  release();
  await env.hollow.ready;
  await waitFor("hs-1 lease", async () => (await leases.get("hs-1").catch(() => undefined))?.spec?.holderIdentity === "hs-1");
});
