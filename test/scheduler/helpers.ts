// Shared set-up for scheduler tests against a real control plane with hollow nodes.
import { afterAll } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1";
import { ApiError, createClient, refs, type Client } from "../../internal/client/index.ts";
import type { HollowNodes } from "../../internal/hollow/index.ts";
import type { TestCluster } from "../helpers/cluster.ts";
import { pollUntil } from "../helpers/wait.ts";

/** Pods need their ServiceAccount (normally made by the controller manager, which these tests do not run). */
export async function ensureServiceAccount(c: Client, ns = "default"): Promise<void> {
  if (ns !== "default") {
    try {
      await c.resource(refs.namespaces).create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) throw e;
    }
  }
  try {
    await c.resource(refs.serviceaccounts, ns).create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: ns } });
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 409)) throw e;
  }
}

export function podSpec(name: string, extra: { labels?: Record<string, string>; cpu?: string; memory?: string; spec?: any } = {}): Pod {
  const requests: Record<string, string> = {};
  if (extra.cpu) requests.cpu = extra.cpu;
  if (extra.memory) requests.memory = extra.memory;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: extra.labels },
    spec: {
      automountServiceAccountToken: false,
      containers: [{ name: "c", image: "registry.k8s.io/pause:3.10", resources: Object.keys(requests).length ? { requests } : undefined }],
      ...extra.spec,
    },
  };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  return pollUntil(what, fn, timeoutMs);
}

export { createClient };

/**
 * A control plane with hollow nodes for one test file: its data dir under <repo>/.tmp, an abort signal for the hollow
 * nodes, and an afterAll that stops them (after `beforeStop`), then the cluster, and removes the dir. The test
 * assigns `cluster` and `hollow` as it starts them.
 */
export function hollowClusterEnv(prefix: string, beforeStop: () => void = () => {}) {
  const root = join(import.meta.dir, "..", "..", ".tmp");
  mkdirSync(root, { recursive: true });
  const ac = new AbortController();
  const env = { dataDir: mkdtempSync(join(root, prefix)), signal: ac.signal, cluster: undefined as TestCluster | undefined, hollow: undefined as HollowNodes | undefined };
  afterAll(async () => {
    beforeStop();
    ac.abort();
    await env.hollow?.catch(() => {});
    await env.cluster?.stop();
    rmSync(env.dataDir, { recursive: true, force: true });
  });
  return env;
}
