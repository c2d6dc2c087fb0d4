// A control plane with fast metrics (scrape every 2 s, kubelet samples every 2 s), a controller manager (HPA sync
// period shortened) and real nodes in a test-made network world, for the metrics and autoscaling tests.
import { startEnv, waitFor, type Env } from "../kubelet/setup.ts";

export { waitFor };

export type MetricsEnv = Env;

export function startMetricsEnv(nodeNames: string[], o: { hpaSyncPeriodMs?: number } = {}): Promise<MetricsEnv> {
  return startEnv(nodeNames, {
    cluster: { metricsScrapeIntervalMs: 2000 },
    controllerManager: { hpaSyncPeriodMs: o.hpaSyncPeriodMs ?? 2000 },
    node: { statsIntervalMs: 2000 },
  });
}

/** A pod that burns one CPU (busybox shell loop) and one that idles. */
export function busyPod(name: string, node: string, labels: Record<string, string> = {}): any {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 1,
      containers: [
        { name: "burn", image: "busybox:latest", imagePullPolicy: "IfNotPresent", command: ["sh", "-c", "while :; do :; done"] },
        { name: "idle", image: "busybox:latest", imagePullPolicy: "IfNotPresent", command: ["sh", "-c", "sleep 3600"] },
      ],
    },
  };
}
