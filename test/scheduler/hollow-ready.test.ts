// A hollow kubelet, like the kubelet, puts its node's Ready condition back to True as soon as someone else (the node
// lifecycle controller after a late heartbeat) has set it to Unknown — not at its next 5-minute status report, by
// when the NoExecute taints that follow NotReady would have evicted its pods (bench:scale saw exactly that).
import { expect, setDefaultTimeout, test } from "bun:test";
import type { Node } from "kubernetes-types/core/v1";
import { createClient, refs } from "../../internal/client/index.ts";
import { runHollowNodes } from "../../internal/hollow/index.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { freePort } from "../helpers/ports.ts";
import { hollowClusterEnv, waitFor } from "./helpers.ts";

setDefaultTimeout(60_000);

const env = hollowClusterEnv("hollow-ready-");

const readyOf = (n: Node) => n.status?.conditions?.find((c) => c.type === "Ready");

test("a hollow node whose Ready was set to Unknown reports Ready again at once", async () => {
  env.cluster = await startTestCluster({ dataDir: env.dataDir, port: freePort() });
  env.hollow = runHollowNodes(env.cluster.clientConfig, { count: 2, prefix: "rdy", signal: env.signal, statusReportSeconds: 300 });
  await env.hollow.ready;
  const nodes = createClient(env.cluster.clientConfig).resource<Node>(refs.nodes);
  await waitFor("rdy-0 Ready", async () => readyOf(await nodes.get("rdy-0"))?.status === "True");
  const before = readyOf(await nodes.get("rdy-0"))!;

  // What the node lifecycle controller writes when it has not seen a heartbeat within the grace period.
  const node = await nodes.get("rdy-0");
  const conditions = node.status!.conditions!.map((c) =>
    c.type === "Ready" ? { ...c, status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status.", lastTransitionTime: new Date().toISOString() } : c,
  );
  await nodes.patch("rdy-0", "merge", { status: { conditions } }, { subresource: "status" });

  await waitFor("rdy-0 Ready again", async () => readyOf(await nodes.get("rdy-0"))?.status === "True", 15_000);
  const after = readyOf(await nodes.get("rdy-0"))!;
  expect(after.reason).not.toBe("NodeStatusUnknown");
  expect(Date.parse(after.lastHeartbeatTime!)).toBeGreaterThanOrEqual(Date.parse(before.lastHeartbeatTime!));
  // The other node was left alone and stays Ready.
  expect(readyOf(await nodes.get("rdy-1"))?.status).toBe("True");
});
