// End to end through the API server: Leases are volatile on a single SQLite server, so a restart loses them. Their
// holders must recreate them (leader election: create on 404), and a watch from a resourceVersion issued before the
// restart must get 410 Gone rather than silently miss the lost Lease events.
import { expect, setDefaultTimeout, test } from "bun:test";
import type { Lease } from "kubernetes-types/coordination/v1";
import { createClient } from "../../internal/client/client.ts";
import { refs } from "../../internal/client/refs.ts";
import { ApiError } from "../../internal/client/types.ts";
import { runLeaderElection } from "../../internal/leaderelection/index.ts";
import { startControlPlane } from "../../internal/server/controlplane.ts";
import { tempDir, until } from "./helpers.ts";

setDefaultTimeout(60_000);

test("after a server restart a Lease holder recreates its Lease, and watches from before get 410", async () => {
  const dir = tempDir();
  let cp = await startControlPlane({ dataDir: dir.path, port: 0, bindAddress: "127.0.0.1" });
  const stop = new AbortController();
  let elected = 0;
  try {
    // The elector's client keeps pointing at the same address across the restart (same port below).
    const client = createClient(cp.clientConfig);
    const leases = client.resource<Lease>(refs.leases, "kube-system");
    const election = runLeaderElection(client, {
      name: "restart-probe",
      identity: "holder-1",
      leaseDurationSeconds: 3,
      renewDeadlineSeconds: 2,
      retryPeriodSeconds: 1,
      signal: stop.signal,
      onStartedLeading: () => void elected++,
    });
    await until(async () => (await leases.list()).items.some((l) => l.spec?.holderIdentity === "holder-1"));
    const before = await leases.get("restart-probe");
    const oldRV = Number(before.metadata!.resourceVersion);

    await cp.stop();
    cp = await startControlPlane({ dataDir: dir.path, port: cp.port, bindAddress: "127.0.0.1" });

    // Gone with the restart, then recreated by its holder within a renew period or two.
    let after: Lease | undefined;
    await until(async () => {
      try {
        after = await leases.get("restart-probe");
        return true;
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
        return false;
      }
    }, 15_000);
    expect(after!.spec?.holderIdentity).toBe("holder-1");
    expect(Number(after!.metadata!.resourceVersion)).toBeGreaterThan(oldRV);

    // A watch from the old resourceVersion: 410 Gone (upstream: "too old resource version"), so clients relist.
    const res = await fetch(
      `${cp.clientConfig.server}/apis/coordination.k8s.io/v1/namespaces/kube-system/leases?watch=1&resourceVersion=${oldRV}`,
      { headers: { authorization: `Bearer ${cp.adminToken}` }, tls: { ca: cp.caPEM }, signal: AbortSignal.timeout(10_000) },
    );
    const reader = res.body!.getReader();
    // The first event line (the server may flush a blank line first to start the stream).
    let text = "";
    const firstLine = () => text.split("\n").find((l, i, all) => l.trim() !== "" && i < all.length - 1);
    while (!firstLine()) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    const first = JSON.parse(firstLine() ?? "{}") as { type: string; object: { code?: number; reason?: string } };
    expect(first.type).toBe("ERROR");
    expect(first.object.code).toBe(410);

    stop.abort();
    await election;
  } finally {
    stop.abort();
    await cp.stop();
    dir.remove();
  }
});
