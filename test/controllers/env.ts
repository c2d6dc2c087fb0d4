// A control plane with the controller manager, the scheduler and hollow nodes, for controller tests.

import type { Deployment } from "kubernetes-types/apps/v1";
import { createClient, type Client } from "../../internal/client/client.ts";
import type { ClientConfig } from "../../internal/client/types.ts";
import { startControllerManager, type ControllerManagerOptions } from "../../internal/controllers/index.ts";
import { runHollowNodes, type HollowNodes, type HollowOptions } from "../../internal/hollow/index.ts";
import { startScheduler } from "../../internal/scheduler/index.ts";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { pollUntil } from "../helpers/wait.ts";

export interface Env {
  cluster: TestCluster;
  client: Client;
  admin: ClientConfig;
  hollow?: HollowNodes;
  stop(): Promise<void>;
}

export async function startEnv(
  opts: { nodes?: number; hollow?: Partial<HollowOptions>; manager?: Partial<ControllerManagerOptions>; scheduler?: boolean; managerRuns?: boolean } = {},
): Promise<Env> {
  const cluster = await startTestCluster();
  const ac = new AbortController();
  const admin: ClientConfig = { server: cluster.localURL, token: cluster.adminToken, caPEM: cluster.caPEM };
  const port = Number(new URL(cluster.localURL).port);
  const running: Promise<unknown>[] = [];
  if (opts.managerRuns !== false) {
    running.push(
      startControllerManager(cluster.componentConfig("controller-manager"), {
        identity: "test-cm",
        serviceCIDR: "10.43.0.0/16",
        clusterCIDR: "10.42.0.0/16",
        apiServerEndpoints: [{ ip: "127.0.0.1", port }],
        leaderElection: false,
        signingCA: cluster.signingCA,
        signal: ac.signal,
        ...opts.manager,
      }),
    );
  }
  if (opts.scheduler !== false) {
    running.push(startScheduler(cluster.componentConfig("scheduler"), { identity: "test-sched", leaderElection: false, signal: ac.signal }));
  }
  let hollow: HollowNodes | undefined;
  if (opts.nodes) {
    hollow = runHollowNodes(admin, { count: opts.nodes, signal: ac.signal, ...opts.hollow });
    running.push(hollow);
    await hollow.ready;
  }
  return {
    cluster,
    client: createClient(admin),
    admin,
    hollow,
    async stop() {
      ac.abort();
      await Promise.allSettled(running);
      await cluster.stop();
    },
  };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs = 30_000): Promise<T> {
  return pollUntil(what, fn, timeoutMs);
}

export function deployment(name: string, replicas: number, image = "registry.k8s.io/pause:3.10", extra: Partial<Deployment["spec"]> = {}): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default" },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { automountServiceAccountToken: false, containers: [{ name: "c", image }] },
      },
      ...extra,
    },
  };
}
