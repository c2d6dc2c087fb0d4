// Hollow nodes across a server restart (issue #9 item 8): a single server keeps Leases in memory only, so they are
// gone when it comes back; renewals fail while it is down. Every hollow node must recreate its Lease.
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Lease } from "kubernetes-types/coordination/v1";
import { createClient, refs } from "../../internal/client/index.ts";
import { runHollowNodes, type HollowNodes } from "../../internal/hollow/index.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { freePort } from "../helpers/ports.ts";
import { waitFor } from "./helpers.ts";

setDefaultTimeout(60_000);

const root = join(import.meta.dir, "..", "..", ".tmp");
mkdirSync(root, { recursive: true });
const dataDir = mkdtempSync(join(root, "hollow-lease-"));
const ac = new AbortController();
let cluster: TestCluster | undefined;
let hollow: HollowNodes | undefined;

afterAll(async () => {
  ac.abort();
  await hollow?.catch(() => {});
  await cluster?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test("hollow nodes recreate Leases that vanished with a server restart", async () => {
  const port = freePort();
  cluster = await startTestCluster({ dataDir, port });
  hollow = runHollowNodes(cluster.clientConfig, { count: 2, prefix: "r", signal: ac.signal, renewIntervalSeconds: 0.2 });
  await hollow.ready;
  const leaseOf = (c: TestCluster, n: string) => createClient(c.clientConfig).resource<Lease>(refs.leases, "kube-node-lease").get(n);
  expect((await leaseOf(cluster, "r-0")).spec?.holderIdentity).toBe("r-0");

  // Down long enough for several renewals to fail, then back on the same port and data dir.
  await cluster.stop();
  cluster = undefined;
  await Bun.sleep(1000);
  cluster = await startTestCluster({ dataDir, port });
  const restarted = cluster;
  // Leases live in memory only, so none survived: every node recreates its own and keeps renewing it.
  for (const n of ["r-0", "r-1"]) {
    await waitFor(`${n} lease recreated`, async () => (await leaseOf(restarted, n).catch(() => undefined))?.spec?.holderIdentity === n);
  }
  const first = (await leaseOf(restarted, "r-1")).spec?.renewTime;
  await waitFor("r-1 lease renewed after the restart", async () => (await leaseOf(restarted, "r-1")).spec?.renewTime !== first);
});
