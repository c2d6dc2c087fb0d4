// Hollow nodes across a server restart (issue #9 item 8): a single server keeps Leases in memory only, so they are
// gone when it comes back; renewals fail while it is down. Every hollow node must recreate its Lease.
import { expect, setDefaultTimeout, test } from "bun:test";
import type { Lease } from "kubernetes-types/coordination/v1";
import { createClient, refs } from "../../internal/client/index.ts";
import { runHollowNodes } from "../../internal/hollow/index.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { freePort } from "../helpers/ports.ts";
import { hollowClusterEnv, waitFor } from "./helpers.ts";

setDefaultTimeout(60_000);

const env = hollowClusterEnv("hollow-lease-");

test("hollow nodes recreate Leases that vanished with a server restart", async () => {
  const port = freePort();
  env.cluster = await startTestCluster({ dataDir: env.dataDir, port });
  env.hollow = runHollowNodes(env.cluster.clientConfig, { count: 2, prefix: "r", signal: env.signal, renewIntervalSeconds: 0.2 });
  await env.hollow.ready;
  const leaseOf = (c: TestCluster, n: string) => createClient(c.clientConfig).resource<Lease>(refs.leases, "kube-node-lease").get(n);
  expect((await leaseOf(env.cluster, "r-0")).spec?.holderIdentity).toBe("r-0");

  // Down long enough for several renewals to fail, then back on the same port and data dir.
  await env.cluster.stop();
  env.cluster = undefined;
  await Bun.sleep(1000);
  env.cluster = await startTestCluster({ dataDir: env.dataDir, port });
  const restarted = env.cluster;
  // Leases live in memory only, so none survived: every node recreates its own and keeps renewing it.
  for (const n of ["r-0", "r-1"]) {
    await waitFor(`${n} lease recreated`, async () => (await leaseOf(restarted, n).catch(() => undefined))?.spec?.holderIdentity === n);
  }
  const first = (await leaseOf(restarted, "r-1")).spec?.renewTime;
  await waitFor("r-1 lease renewed after the restart", async () => (await leaseOf(restarted, "r-1")).spec?.renewTime !== first);
});
